// A stand-in for the `electron` module, for testing the shell where no Electron binary exists
// (DESIGN.md "Electron facts"): the main process's APIs record what the shell configures, IPC
// crosses a structured clone as in Electron, a page runs the REAL built preload bundle in a fresh
// V8 context whose `require` knows only 'electron' (the renderer half: contextBridge, ipcRenderer,
// webUtils), and utilityProcess.fork starts a real Node process with Electron's parentPort
// emulated (parent-port-shim.mjs) and reports `child-process-gone` as Electron does.
import { EventEmitter } from 'node:events';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { constants } from 'node:os';
import vm from 'node:vm';

type Listener = (...args: unknown[]) => unknown;
const require = createRequire(import.meta.url);

/** An event as Electron passes it to listeners that may cancel. */
export class FakeEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

export class FakeFrame {
  constructor(
    public url: string,
    public parent: FakeFrame | null = null,
  ) {}
}

let nextContentsId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextContentsId++;
  mainFrame = new FakeFrame('about:blank');
  windowOpenHandler: ((d: { url: string }) => { action: string }) | null = null;
  destroyed = false;
  pages: FakePage[] = [];
  constructor(
    readonly window: FakeBrowserWindow | null,
    readonly preload?: string,
    readonly prefs: Record<string, unknown> = {},
  ) {
    super();
  }
  /**
   * Chrome DevTools Protocol: drag events with files (Input.dispatchDragEvent). A drop is handled
   * as the renderer's FolderInput does (tests/renderer/folder-input.test.ts): the preload's
   * pathForFile, then datasets.add.
   */
  readonly debugger = {
    attached: false,
    attach: () => void (this.debugger.attached = true),
    detach: () => void (this.debugger.attached = false),
    sendCommand: async (method: string, params: { type: string; data: { files?: string[] } }) => {
      if (!this.debugger.attached) throw new Error('debugger not attached');
      if (method !== 'Input.dispatchDragEvent') throw new Error(`fake debugger: ${method}`);
      if (params.type !== 'drop') return {};
      const page = this.pages.find((p) => p.frame === this.mainFrame)!;
      const bridge = page.world['camd'] as {
        pathForFile(f: unknown): string;
        ops: Record<string, (p: unknown) => Promise<unknown>>;
      };
      const first = params.data.files?.[0];
      if (first) {
        const path = bridge.pathForFile({ name: first.split('/').pop(), path: first });
        if (path) await bridge.ops['datasets.add']!({ path });
      }
      return {};
    },
  };
  isLoading(): boolean {
    return false;
  }
  getURL(): string {
    return this.mainFrame.url;
  }
  /** Runs code in the main world of the page (the page's globals as Electron's settings make them). */
  async executeJavaScript(code: string): Promise<unknown> {
    const page = this.pages.find((p) => p.frame === this.mainFrame);
    if (!page) throw new Error('no page');
    return vm.runInContext(code, page.mainWorld);
  }
  /** Runs code in an isolated world: 999 is the one the preload runs in. */
  async executeJavaScriptInIsolatedWorld(worldId: number, scripts: { code: string }[]): Promise<unknown> {
    const page = this.pages.find((p) => p.frame === this.mainFrame);
    if (!page || worldId !== 999) throw new Error(`no isolated world ${worldId}`);
    let r: unknown;
    for (const s of scripts) r = vm.runInContext(s.code, page.preloadWorld);
    return r;
  }
  setWindowOpenHandler(h: (d: { url: string }) => { action: string }): void {
    this.windowOpenHandler = h;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  /** main → renderer: cloned, delivered asynchronously to the pages' listeners of `channel`. */
  send(channel: string, ...args: unknown[]): void {
    const copy = structuredClone(args);
    setImmediate(() => {
      for (const p of this.pages) p.deliver(channel, copy);
    });
  }
  /** Loads a URL: the main frame navigates and a page starts with the preload (if any). */
  async loadURL(url: string): Promise<void> {
    for (const p of this.pages) p.closed = true;
    this.pages = [];
    this.mainFrame = new FakeFrame(url);
    this.emit('did-navigate', new FakeEvent(), url, 200, 'OK');
    if (this.preload) this.pages.push(new FakePage(this, this.mainFrame, this.preload));
  }
  /** A sub-frame of the page at `url` running the same preload (Electron runs preloads in sub-frames only with nodeIntegrationInSubFrames). */
  openFrame(url: string, parent: FakeFrame | null = this.mainFrame): FakePage {
    const p = new FakePage(this, new FakeFrame(url, parent), this.preload!);
    this.pages.push(p);
    return p;
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('destroyed');
  }
}

/** A page: the preload bundle run in its own context with the renderer half of `electron`. */
export class FakePage {
  /** What contextBridge exposed, by key. */
  readonly world: Record<string, unknown> = {};
  readonly listeners = new Map<string, Listener[]>();
  /** What the bundle asked `require` for. */
  readonly required: string[] = [];
  closed = false;
  /** The preload's context (Electron's isolated world 999). */
  readonly preloadWorld: vm.Context;
  /** The page's own globals: a rendered app, what the bridge exposed, Node only if nodeIntegration. */
  readonly mainWorld: vm.Context;
  constructor(
    readonly contents: FakeWebContents,
    readonly frame: FakeFrame,
    preloadPath: string,
  ) {
    const ipcRenderer = {
      invoke: async (channel: string, ...args: unknown[]) => {
        const h = fake.handlers.get(channel);
        if (!h) throw new Error(`Error invoking remote method '${channel}': No handler registered for '${channel}'`);
        const event = { sender: contents, senderFrame: this.frame, processId: 1, frameId: 1 };
        const result = await h(event, ...structuredClone(args));
        return structuredClone(result);
      },
      on: (channel: string, fn: Listener) => {
        this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), fn]);
        return ipcRenderer;
      },
    };
    const rendererElectron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void (this.world[key] = api) },
      ipcRenderer,
      webUtils: { getPathForFile: (f: { path?: string }) => f.path ?? '' },
    };
    const sandboxed = contents.prefs['sandbox'] === true;
    this.preloadWorld = vm.createContext({
      require: (m: string) => {
        this.required.push(m);
        if (m === 'electron') return rendererElectron;
        throw new Error(`module not found: ${m} (a sandboxed preload can require only 'electron')`);
      },
      // a sandboxed preload's process object, as Electron gives it
      process: { sandboxed, type: 'renderer', platform: process.platform },
      console,
    });
    vm.runInContext(readFileSync(preloadPath, 'utf8'), this.preloadWorld, { filename: preloadPath });
    const world = this.world;
    const node = contents.prefs['nodeIntegration'] === true ? { process, require } : {};
    this.mainWorld = vm.createContext({
      ...node,
      window: world,
      document: {
        querySelector: (sel: string) => (sel === '#app' ? { children: { length: 1 } } : sel === 'nav' ? {} : null),
      },
    });
  }
  deliver(channel: string, args: unknown[]): void {
    if (this.closed) return;
    for (const fn of this.listeners.get(channel) ?? []) fn({}, ...args);
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static all: FakeBrowserWindow[] = [];
  readonly webContents: FakeWebContents;
  title = '';
  visible = false;
  destroyed = false;
  constructor(
    readonly options: { webPreferences?: { preload?: string } & Record<string, unknown> } & Record<string, unknown>,
  ) {
    super();
    this.webContents = new FakeWebContents(this, options.webPreferences?.preload, options.webPreferences ?? {});
    FakeBrowserWindow.all.push(this);
    app.emit('web-contents-created', new FakeEvent(), this.webContents);
  }
  static fromWebContents(wc: FakeWebContents): FakeBrowserWindow | null {
    return wc.window;
  }
  static getAllWindows(): FakeBrowserWindow[] {
    return FakeBrowserWindow.all.filter((w) => !w.destroyed);
  }
  async loadURL(url: string): Promise<void> {
    await this.webContents.loadURL(url);
    this.emit('ready-to-show');
  }
  show(): void {
    this.visible = true;
  }
  getContentSize(): [number, number] {
    return [Number(this.options['width'] ?? 800), Number(this.options['height'] ?? 600)];
  }
  setTitle(t: string): void {
    this.title = t;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isMinimized(): boolean {
    return false;
  }
  restore(): void {}
  focus(): void {}
  /** The close button: cancellable, then closed. */
  close(): boolean {
    const e = new FakeEvent();
    this.emit('close', e);
    if (e.defaultPrevented) return false;
    this.destroyed = true;
    this.webContents.destroy();
    this.emit('closed');
    if (FakeBrowserWindow.getAllWindows().length === 0) app.emit('window-all-closed');
    return true;
  }
}

class FakeApp extends EventEmitter {
  isPackaged = false;
  getVersion(): string {
    return '0.0.0-fake';
  }
  quitRequests = 0;
  quitted = false;
  exitCode: number | null = null;
  sandboxed = false;
  userData = '';
  singleInstance = true;
  requestSingleInstanceLock(): boolean {
    return this.singleInstance;
  }
  enableSandbox(): void {
    this.sandboxed = true;
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  getPath(name: string): string {
    if (name !== 'userData') throw new Error(`fake app.getPath: ${name}`);
    return this.userData;
  }
  setPath(name: string, value: string): void {
    if (name !== 'userData') throw new Error(`fake app.setPath: ${name}`);
    this.userData = value;
  }
  /** The utility processes alive, as Electron lists them. */
  getAppMetrics(): { type: string; name?: string; pid: number }[] {
    return fake.forked
      .filter((f) => f.alive)
      .map((f) => ({ type: 'Utility', name: (f.options as { serviceName?: string }).serviceName, pid: f.pid! }));
  }
  /** As Electron: before-quit (cancellable), then the app ends. */
  quit(): void {
    this.quitRequests++;
    const e = new FakeEvent();
    this.emit('before-quit', e);
    if (!e.defaultPrevented) this.quitted = true;
  }
  exit(code = 0): void {
    this.exitCode = code;
    this.quitted = true;
  }
}

export const app = new FakeApp();

/** A utility process: a real Node process running the module, parentPort emulated over IPC. */
class FakeUtilityProcess extends EventEmitter {
  pid: number | undefined;
  stdout: NodeJS.ReadableStream | null;
  stderr: NodeJS.ReadableStream | null;
  private readonly child: ChildProcess;
  constructor(
    modulePath: string,
    args: string[],
    readonly options: { serviceName?: string; stdio?: unknown; env?: NodeJS.ProcessEnv },
  ) {
    super();
    const shim = join(import.meta.dirname, 'parent-port-shim.mjs');
    this.child = spawn(process.execPath, ['--import', shim, modulePath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: options.env ?? process.env,
    });
    this.pid = this.child.pid;
    this.stdout = this.child.stdout;
    this.stderr = this.child.stderr;
    const record = { modulePath, args, options, pid: this.pid, alive: true };
    fake.forked.push(record);
    this.child.on('exit', () => (record.alive = false));
    this.child.on('spawn', () => this.emit('spawn'));
    this.child.on('exit', (code, signal) => {
      const exitCode = code ?? 128 + (signal ? (constants.signals as Record<string, number>)[signal]! : 0);
      const reason = signal === 'SIGKILL' ? 'killed' : signal ? 'crashed' : code === 0 ? 'clean-exit' : 'abnormal-exit';
      // Electron's order is not guaranteed: the gone event first here, the exit in the next turn
      app.emit('child-process-gone', new FakeEvent(), {
        type: 'Utility',
        reason,
        exitCode,
        serviceName: 'node.mojom.NodeService',
        name: options.serviceName ?? 'Node Utility Process',
      });
      setImmediate(() => {
        this.pid = undefined;
        this.emit('exit', exitCode);
      });
    });
  }
  postMessage(m: unknown): void {
    if (this.child.connected) this.child.send(structuredClone(m) as never);
  }
  kill(): boolean {
    return this.child.kill('SIGTERM');
  }
}

export const utilityProcess = {
  fork: (modulePath: string, args: string[] = [], options: FakeUtilityProcess['options'] = {}) => {
    if (!app.listenerCount('child-process-gone') && fake.requireGoneListener)
      throw new Error('fork before child-process-gone is watched');
    return new FakeUtilityProcess(modulePath, args, options);
  },
};

/** What the shell configured and what the tests set up, in one place. */
export const fake = {
  handlers: new Map<string, Listener>(),
  schemes: [] as { scheme: string; privileges: Record<string, boolean> }[],
  protocolHandlers: new Map<string, (req: Request) => Promise<Response> | Response>(),
  session: {
    permissionRequest: null as
      | null
      | ((wc: unknown, permission: string, cb: (ok: boolean) => void, details?: unknown) => void),
    permissionCheck: null as null | ((...a: unknown[]) => boolean),
    devicePermission: null as null | ((...a: unknown[]) => boolean),
    beforeRequest: null as null | {
      filter: { urls: string[] };
      fn: (d: { url: string }, cb: (r: { cancel: boolean }) => void) => void;
    },
  },
  menu: null as null | { template: unknown[] },
  /** What the next dialogs answer. */
  openDialogAnswer: { canceled: true, filePaths: [] as string[] },
  messageBoxAnswer: 0,
  messageBoxes: [] as Record<string, unknown>[],
  errorBoxes: [] as [string, string][],
  openedPaths: [] as string[],
  forked: [] as { modulePath: string; args: string[]; options: unknown; pid: number | undefined; alive: boolean }[],
  requireGoneListener: true,
  /** A request of the camd:// scheme, as the window's loads would make it. */
  async request(url: string, init?: RequestInit): Promise<Response> {
    const h = this.protocolHandlers.get(new URL(url).protocol.slice(0, -1));
    if (!h) throw new Error(`no handler for ${url}`);
    return h(new Request(url, init));
  },
};

export const ipcMain = {
  handle(channel: string, fn: Listener): void {
    if (fake.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    fake.handlers.set(channel, fn);
  },
  removeHandler(channel: string): void {
    fake.handlers.delete(channel);
  },
};

export const protocol = {
  registerSchemesAsPrivileged(list: { scheme: string; privileges: Record<string, boolean> }[]): void {
    fake.schemes = list;
  },
  handle(scheme: string, fn: (req: Request) => Promise<Response> | Response): void {
    fake.protocolHandlers.set(scheme, fn);
  },
};

const defaultSession = {
  protocol,
  setPermissionRequestHandler: (fn: typeof fake.session.permissionRequest) =>
    void (fake.session.permissionRequest = fn),
  setPermissionCheckHandler: (fn: typeof fake.session.permissionCheck) => void (fake.session.permissionCheck = fn),
  setDevicePermissionHandler: (fn: typeof fake.session.devicePermission) => void (fake.session.devicePermission = fn),
  webRequest: {
    onBeforeRequest: (filter: { urls: string[] }, fn: NonNullable<typeof fake.session.beforeRequest>['fn']) =>
      void (fake.session.beforeRequest = { filter, fn }),
  },
};

export const session = { defaultSession };

export const dialog = {
  showOpenDialog: async (...a: unknown[]) => {
    void a;
    return fake.openDialogAnswer;
  },
  showMessageBox: async (...a: unknown[]) => {
    fake.messageBoxes.push(a.at(-1) as Record<string, unknown>);
    return { response: fake.messageBoxAnswer, checkboxChecked: false };
  },
  showErrorBox: (title: string, content: string) => void fake.errorBoxes.push([title, content]),
};

export const Menu = {
  buildFromTemplate: (template: unknown[]) => ({ template }),
  setApplicationMenu: (m: { template: unknown[] }) => void (fake.menu = m),
};

export const shell = { openPath: async (p: string) => (fake.openedPaths.push(p), '') };
export const nativeTheme = { shouldUseDarkColors: false };
export const BrowserWindow = FakeBrowserWindow;

/** The module as `vi.mock('electron', …)` returns it. */
export const electronModule = {
  app,
  BrowserWindow,
  ipcMain,
  protocol,
  session,
  dialog,
  Menu,
  shell,
  nativeTheme,
  utilityProcess,
  default: undefined as unknown,
};
electronModule.default = electronModule;
