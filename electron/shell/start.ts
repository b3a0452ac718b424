/**
 * The Electron main process, start to end: one instance; the camd:// scheme and the security rules
 * before anything loads; the services over the data folder (Electron's userData/data, or
 * --data-dir DIR, or $CAMD_DATA_DIR) with the trainer in utility processes; the bridge's
 * handlers; the menu; one window; quitting that pauses a training run first. `--smoke-test`
 * checks the running app and quits (shell/smoke.ts).
 */
import { join, resolve } from 'node:path';
import { app, BrowserWindow, dialog, type WebContents } from 'electron';
import { App } from '../services/app.js';
import { camdBin, packageRoot } from '../services/package-root.js';
import { appFiles } from '../host/app-protocol.js';
import { contentSecurityPolicy } from '../common/csp.js';
import { registerScheme, serveScheme } from './protocol.js';
import { createMainWindow, hardenApp } from './window.js';
import { registerIpc } from './ipc.js';
import { utilityCommand, utilityLauncher } from './utility.js';
import { guardQuit } from './quit.js';
import { setAppMenu } from './menu.js';
import { smokeCheck } from './smoke.js';
import type { Shell } from './shell.js';

export interface ShellOptions {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
}

export type { Shell } from './shell.js';

/** --data-dir DIR (or --data-dir=DIR), else $CAMD_DATA_DIR, else <userData>/data. */
export function dataDirOf(argv: readonly string[], env: NodeJS.ProcessEnv, userData: string): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--data-dir=')) return resolve(a.slice('--data-dir='.length));
    if (a === '--data-dir' && argv[i + 1]) return resolve(argv[i + 1]!);
  }
  return resolve(env['CAMD_DATA_DIR'] || join(userData, 'data'));
}

async function pickFolder(owner: BrowserWindow | null): Promise<string | null> {
  const opts = {
    title: 'Add a folder of face images',
    buttonLabel: 'Add folder',
    properties: ['openDirectory' as const],
  };
  const r =
    owner && !owner.isDestroyed() ? await dialog.showOpenDialog(owner, opts) : await dialog.showOpenDialog(opts);
  return r.canceled || !r.filePaths[0] ? null : r.filePaths[0];
}

/** Starts the app; null when another instance already runs (it is focused instead). */
export async function startShell(o: ShellOptions): Promise<Shell | null> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return null;
  }
  registerScheme();
  hardenApp();
  await app.whenReady();

  const root = packageRoot();
  const dataDir = dataDirOf(o.argv, o.env, app.getPath('userData'));
  // the GPU backends are not bundled: the trainer's processes look for them here (trainer/src/backends/optional-packages.ts)
  process.env['CAMD_BACKENDS_DIR'] ||= o.env['CAMD_BACKENDS_DIR'] || join(app.getPath('userData'), 'backends');
  let services: App;
  try {
    services = new App({ dataDir, launcher: utilityLauncher(camdBin()), command: utilityCommand(camdBin()) });
  } catch (e) {
    dialog.showErrorBox(
      'CAMD Studio cannot open its data folder',
      `${dataDir}\n\n${e instanceof Error ? e.message : String(e)}`,
    );
    app.exit(1);
    throw e;
  }

  serveScheme(appFiles(services, join(root, 'renderer', 'dist'), contentSecurityPolicy()));
  const preload = join(root, 'electron', 'dist', 'preload.cjs');
  let win: BrowserWindow | null = null;
  const windowOf = () => (win && !win.isDestroyed() ? win : null);
  const quit = guardQuit(services, windowOf);
  const open = () => {
    win = createMainWindow(preload);
    quit.watch(win);
    win.on('closed', () => (win = null));
  };

  registerIpc(services, { pickFolder: (sender: WebContents) => pickFolder(BrowserWindow.fromWebContents(sender)) });
  setAppMenu({
    dataDir,
    addFolder: async () => {
      const path = await pickFolder(windowOf());
      if (!path) return;
      try {
        await services.datasets.add(path);
      } catch (e) {
        dialog.showErrorBox('Cannot add this folder', e instanceof Error ? e.message : String(e));
      }
    },
  });
  app.on('second-instance', () => {
    const w = windowOf();
    if (!w) return open();
    if (w.isMinimized()) w.restore();
    w.focus();
  });
  app.on('activate', () => {
    if (!windowOf() && quit.state() === 'open') open();
  });
  open();
  const shell: Shell = { services, window: windowOf, quit };
  if (o.argv.includes('--smoke-test')) {
    // the release checklist's start check: one JSON line, then quit (0: every check held)
    void smokeCheck(shell).then(async (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      await quit.request(true);
      app.exit(r.ok ? 0 : 1);
    });
  }
  return shell;
}
