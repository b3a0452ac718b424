// Debian's Chromium driven by playwright-core (never a downloaded browser), on a fresh profile,
// with every console error, page error and CSP violation collected.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { tempDir } from './folders.js';

export const CHROMIUM = '/usr/bin/chromium';
export const E2E_OUT = join(import.meta.dirname, '..', 'e2e', 'out');

/** Why the browser tests cannot run here, or null. CI installs chromium (.ci/run), so there it is an error. */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `${CHROMIUM} is missing (apt-get install chromium)`;
  if (process.env['CI']) throw new Error(why);
  return why;
}

export interface Browser {
  ctx: BrowserContext;
  page: Page;
  /** Console errors, page errors and CSP violations so far. */
  problems: string[];
  shot: (name: string) => Promise<string>;
  close: () => Promise<void>;
}

export async function openBrowser(url: string, viewport = { width: 1400, height: 900 }): Promise<Browser> {
  const ctx = await chromium.launchPersistentContext(tempDir('chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport,
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const problems: string[] = [];
  // a failed resource says which one (the console's text alone does not)
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.text().startsWith('Failed to load resource') ? ` (${m.location().url})` : '';
    problems.push(`console: ${m.text()}${where}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  await page.goto(url);
  mkdirSync(E2E_OUT, { recursive: true });
  return {
    ctx,
    page,
    problems,
    shot: async (name) => {
      const file = join(E2E_OUT, `${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    close: () => ctx.close(),
  };
}
