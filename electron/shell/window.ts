/**
 * The app's window and the rules every web contents of the app lives by (Electron's security
 * checklist): context isolation, the sandbox, no Node in the page, no webviews, no navigation
 * away from the app, no new windows, no permission granted, no request leaving the machine.
 */
import {
  app,
  BrowserWindow,
  nativeTheme,
  session,
  type Session,
  type WebContents,
  type WebPreferences,
} from 'electron';
import { APP_ORIGIN, SCHEME } from './protocol.js';

/** The security settings of the app's pages (asserted by the tests). */
export function webPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    devTools: !app.isPackaged,
  };
}

/** A URL the app's pages may load: its own scheme, data: and blob: URLs, DevTools. */
export function isAppUrl(raw: string): boolean {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return false;
  }
  if (u.protocol === `${SCHEME}:`) return u.host === 'app';
  return u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'devtools:';
}

/** The session's rules: every permission refused, every request off the machine cancelled. */
export function hardenSession(s: Session): void {
  s.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  s.setPermissionCheckHandler(() => false);
  s.setDevicePermissionHandler(() => false);
  s.webRequest.onBeforeRequest({ urls: ['<all_urls>'] }, (details, callback) =>
    callback({ cancel: !isAppUrl(details.url) }),
  );
}

/** Rules of one web contents: no navigation, no new window, no webview. */
export function hardenContents(wc: WebContents): void {
  wc.on('will-navigate', (e) => e.preventDefault());
  wc.on('will-redirect', (e) => e.preventDefault());
  wc.on('will-attach-webview', (e) => e.preventDefault());
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Applied to every web contents the app ever creates, before any loads. */
export function hardenApp(): void {
  app.enableSandbox();
  app.on('web-contents-created', (_e, wc) => hardenContents(wc));
}

export function createMainWindow(preload: string, url = `${APP_ORIGIN}/index.html`): BrowserWindow {
  hardenSession(session.defaultSession);
  const win = new BrowserWindow({
    width: 1360,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: 'CAMD Studio',
    show: false,
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#111418' : '#f6f7f9', // the renderer's --bg: no white flash
    webPreferences: webPreferences(preload),
  });
  hardenContents(win.webContents);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(url);
  return win;
}
