/**
 * The app menu: adding a folder of faces (the native picker, straight to the dataset service),
 * the data folder in the file manager, and the standard Edit, View and Window menus. DevTools
 * only in a development build.
 */
import { app, Menu, shell, type MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  /** Picks a folder and adds it as a dataset. */
  addFolder(): Promise<void>;
  dataDir: string;
}

export function menuTemplate(a: MenuActions): MenuItemConstructorOptions[] {
  const mac = process.platform === 'darwin';
  const view: MenuItemConstructorOptions[] = [{ role: 'reload' }];
  if (!app.isPackaged) view.push({ role: 'toggleDevTools' });
  view.push(
    { type: 'separator' },
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  );
  return [
    ...(mac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        { label: 'Add a Folder of Faces…', accelerator: 'CmdOrCtrl+O', click: () => void a.addFolder() },
        { label: 'Show the Data Folder', click: () => void shell.openPath(a.dataDir) },
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { label: '&View', submenu: view },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ role: 'about' }] },
  ];
}

export function setAppMenu(a: MenuActions): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(a)));
}
