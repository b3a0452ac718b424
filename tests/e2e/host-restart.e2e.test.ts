// The browser-mode host restarted on the same port, and a second host on another port, in one
// real Chromium profile: the URL just printed opens the app every time (a cookie of an earlier
// launch, or of the other host, never beats the token in the URL), and each tab keeps working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { hosted, type Hosted } from '../support/app-host.js';
import { startHost, type Host } from '../../electron/host/http-host.js';
import { browserMissing, openBrowser, type Browser } from '../support/browser.js';

const missing = browserMissing();
const STATIC = join(import.meta.dirname, '..', '..', 'renderer', 'dist');

let h: Hosted;
let b: Browser;
const extra: Host[] = [];

describe.skipIf(missing !== null)('the host restarted, and two hosts, in one browser', () => {
  beforeAll(async () => {
    h = await hosted();
    b = await openBrowser(`${h.base}/?token=${h.host.token}`);
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    for (const x of extra) await x.close();
    await h?.close();
  });

  /** What the page shows: the app's navigation and the datasets list, read over the API with the cookie. */
  async function showsTheApp(page = b.page): Promise<void> {
    await expect
      .poll(() => page.getByRole('navigation').getByText('Datasets').isVisible(), { timeout: 20_000 })
      .toBe(true);
    const status = await page.evaluate(
      async () =>
        (
          await fetch('/api/datasets.list', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: '{}',
          })
        ).status,
    );
    expect(status).toBe(200);
  }

  it('npm run web stopped and started again on the same port: the new URL opens the app, not 401', async () => {
    await showsTheApp();
    const port = h.host.port;
    const old = h.host.token;
    await h.host.close();
    const again = await startHost({ app: h.app, port, staticDir: STATIC });
    extra.push(again);
    expect(again.token).not.toBe(old);
    const res = await b.page.goto(again.url);
    expect(res?.status()).toBe(200);
    await showsTheApp();
    expect(b.problems.filter((p) => !/Failed to load resource|ERR_CONNECTION_REFUSED|WebSocket/.test(p))).toEqual([]);
  }, 60_000);

  it('a second host on another port in a new tab: both tabs work, each with its own cookie', async () => {
    const second = await startHost({ app: h.app, port: 0, staticDir: STATIC });
    extra.push(second);
    const tab = await b.ctx.newPage();
    const res = await tab.goto(second.url);
    expect(res?.status()).toBe(200);
    await showsTheApp(tab);
    await b.page.reload();
    await showsTheApp(b.page);
    const names = (await b.ctx.cookies()).map((c) => c.name).sort();
    expect(names).toEqual([`camd_token_${extra[0]!.port}`, `camd_token_${second.port}`].sort());
    await tab.close();
  }, 60_000);
});
