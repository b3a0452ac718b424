/**
 * Quitting with a run in training: the app asks first (in the window), and quitting pauses the run
 * — the worker finishes its step and writes a checkpoint (atomically: a temp file renamed, never a
 * half-written one), then the store is closed and the app exits. Resume it later from the Runs
 * view. Closing the last window is quitting (except on macOS); a signal to the main process
 * (SIGINT, SIGTERM) quits the same way without asking.
 */
import { app, dialog, type BrowserWindow } from 'electron';
import type { App } from '../services/app.js';

export type QuitState = 'open' | 'asking' | 'closing' | 'closed';

export interface QuitGuard {
  state(): QuitState;
  /** Asks (unless `unattended`), pauses the run, closes the services, quits. */
  request(unattended?: boolean): Promise<void>;
  /** Watches a window's close button. */
  watch(win: BrowserWindow): void;
}

export function guardQuit(services: App, windowOf: () => BrowserWindow | null): QuitGuard {
  let state: QuitState = 'open';

  /** true: go on quitting. */
  const ask = async (): Promise<boolean> => {
    const runId = services.supervisor.active();
    if (!runId) return true;
    const win = windowOf();
    const opts = {
      type: 'question' as const,
      buttons: ['Pause and quit', 'Keep training'],
      defaultId: 0,
      cancelId: 1,
      noLink: true,
      title: 'A run is training',
      message: `Run ${runId.slice(0, 8)} is training. Quit anyway?`,
      detail:
        'Quitting pauses it: the current step finishes and a checkpoint is written (usually a few seconds). Resume it from the Runs view when the app is open again.',
    };
    const r = win && !win.isDestroyed() ? await dialog.showMessageBox(win, opts) : await dialog.showMessageBox(opts);
    return r.response === 0;
  };

  const request = async (unattended = false): Promise<void> => {
    if (state !== 'open') return;
    state = 'asking';
    if (!unattended && !(await ask())) {
      state = 'open';
      return;
    }
    state = 'closing';
    const win = windowOf();
    if (win && !win.isDestroyed() && services.supervisor.active())
      win.setTitle('CAMD Studio — pausing the run (writing a checkpoint) before quitting…');
    try {
      await services.close();
    } finally {
      state = 'closed';
      app.quit();
    }
  };

  app.on('before-quit', (e) => {
    if (state === 'closed') return;
    e.preventDefault();
    void request();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') void request();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void request(true));

  return {
    state: () => state,
    request,
    watch(win) {
      win.on('close', (e) => {
        if (state === 'closed' || state === 'closing' || !services.supervisor.active()) return;
        // training: the window stays until the user has chosen
        e.preventDefault();
        void request();
      });
    },
  };
}
