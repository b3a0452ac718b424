/** The running app as the shell's parts see it: the services, the window, the quit guard. */
import type { BrowserWindow } from 'electron';
import type { App } from '../services/app.js';
import type { QuitGuard } from './quit.js';

export interface Shell {
  services: App;
  window(): BrowserWindow | null;
  quit: QuitGuard;
}
