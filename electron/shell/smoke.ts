/**
 * `--smoke-test`: the app starts, checks itself as only a real Electron can, prints one JSON line
 * and quits (exit code 0 when every check holds) — what the release checklist runs on the
 * development build and on each installed package. Checked: the page came from camd://app and
 * rendered; it has no Node (`process`, `require`); the preload runs sandboxed (its world, 999 — the
 * context-isolation world — sees `process.sandboxed`); the bridge has every operation; SQLite
 * (better-sqlite3 built for Electron's ABI) answers; `camd info` runs in a utility process.
 */
import { app, type BrowserWindow } from 'electron';
import { OP_NAMES } from '../common/names.js';
import type { Shell } from './shell.js';

/** The world Electron runs context-isolated preloads in. */
const PRELOAD_WORLD = 999;

export interface SmokeReport {
  ok: boolean;
  version: string;
  electron: string;
  /** NODE_MODULE_VERSION of this Electron (what better-sqlite3 was built for). */
  abi: string;
  url: string;
  rendered: boolean;
  pageHasNode: boolean;
  preloadSandboxed: boolean;
  bridgeOps: number;
  store: boolean;
  /** `camd info` in a utility process: the backend `auto` picks, or the failure. */
  trainer: string;
  failures: string[];
}

function loaded(win: BrowserWindow, ms: number): Promise<void> {
  const wc = win.webContents;
  if (!wc.isLoading() && wc.getURL()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the window did not load in ${ms / 1000} s`)), ms);
    wc.once('did-finish-load', () => {
      clearTimeout(t);
      resolve();
    });
    wc.once('did-fail-load', (_e, code, desc) => {
      clearTimeout(t);
      reject(new Error(`the window failed to load: ${desc} (${code})`));
    });
  });
}

async function settle<T>(f: () => Promise<T>, fallback: T, failures: string[], what: string): Promise<T> {
  try {
    return await f();
  } catch (e) {
    failures.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    return fallback;
  }
}

export async function smokeCheck(shell: Shell, timeoutMs = 60_000): Promise<SmokeReport> {
  const failures: string[] = [];
  const win = shell.window();
  const r: SmokeReport = {
    ok: false,
    version: app.getVersion(),
    electron: process.versions.electron ?? '?',
    abi: process.versions.modules ?? '?',
    url: '',
    rendered: false,
    pageHasNode: true,
    preloadSandboxed: false,
    bridgeOps: 0,
    store: false,
    trainer: '',
    failures,
  };
  if (!win) {
    failures.push('no window');
    return r;
  }
  await settle(() => loaded(win, timeoutMs), undefined, failures, 'load');
  const wc = win.webContents;
  r.url = wc.getURL();
  // the renderer mounts asynchronously: its first view within a few seconds
  r.rendered = await settle(
    async () => {
      for (let i = 0; i < 100; i++) {
        if (
          await wc.executeJavaScript(
            "document.querySelector('#app')?.children.length > 0 && document.querySelector('nav') !== null",
          )
        )
          return true;
        await new Promise((res) => setTimeout(res, 100));
      }
      return false;
    },
    false,
    failures,
    'render',
  );
  r.pageHasNode = await settle(
    () =>
      wc.executeJavaScript(
        "typeof process !== 'undefined' || typeof require !== 'undefined' || typeof module !== 'undefined'",
      ) as Promise<boolean>,
    true,
    failures,
    'page globals',
  );
  r.preloadSandboxed = await settle(
    () =>
      wc.executeJavaScriptInIsolatedWorld(PRELOAD_WORLD, [
        { code: "typeof process === 'object' && process.sandboxed === true" },
      ]) as Promise<boolean>,
    false,
    failures,
    'preload world',
  );
  r.bridgeOps = await settle(
    () => wc.executeJavaScript('window.camd ? Object.keys(window.camd.ops).length : 0') as Promise<number>,
    0,
    failures,
    'bridge',
  );
  r.store = await settle(async () => shell.services.store.ping(), false, failures, 'store');
  r.trainer = await settle(
    async () => {
      const info = await shell.services.system.info();
      const b = info.backends as Record<string, { selectedByAuto?: boolean; loaded?: boolean }> & { error?: string };
      if (typeof b.error === 'string') throw new Error(b.error);
      return Object.entries(b).find(([, v]) => v && typeof v === 'object' && v.selectedByAuto)?.[0] ?? 'none selected';
    },
    '',
    failures,
    'camd info (utility process)',
  );
  if (!r.url.startsWith('camd://app/')) failures.push(`the page is ${r.url}, not camd://app/`);
  if (!r.rendered) failures.push('the renderer did not render its navigation');
  if (r.pageHasNode) failures.push('the page sees Node globals');
  if (!r.preloadSandboxed) failures.push('the preload is not sandboxed');
  if (r.bridgeOps !== OP_NAMES.length)
    failures.push(`the bridge has ${r.bridgeOps} operations, not ${OP_NAMES.length}`);
  if (!r.store) failures.push('SQLite did not answer');
  if (!r.trainer || r.trainer === 'none selected') failures.push('no trainer backend');
  r.ok = failures.length === 0;
  return r;
}
