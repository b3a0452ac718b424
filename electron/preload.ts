/**
 * The preload of the app's window (sandboxed, context-isolated): `window.camd`, exactly the
 * contract's operations and topics as named functions (common/bridge.ts), a dropped file's path
 * and the folder picker. ipcRenderer never reaches the page. Bundled into one CommonJS file
 * (electron/dist/preload.cjs) that requires nothing but `electron`: sandboxed preloads cannot load
 * ES modules or other files.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { CHANNELS, OP_NAMES, TOPIC_NAMES } from './common/names.js';
import type { BridgeOpName, BridgeTopicName, CamdBridge, Envelope } from './common/bridge.js';

const listeners = new Map<number, (data: unknown) => void>();
let nextId = 1;

ipcRenderer.on(CHANNELS.event, (_e, id: unknown, data: unknown) => {
  if (typeof id === 'number') listeners.get(id)?.(data);
});

function op(name: BridgeOpName) {
  return (params?: unknown): Promise<Envelope> =>
    ipcRenderer.invoke(CHANNELS.call, name, params ?? {}) as Promise<Envelope>;
}

function topic(name: BridgeTopicName) {
  return async (params: unknown, onEvent: (data: unknown) => void): Promise<Envelope<{ id: number }>> => {
    if (typeof onEvent !== 'function')
      return { error: { message: `${name}: a listener function is required`, cause: 'usage' } };
    const id = nextId++;
    // listening before asking: an event sent right after the subscription is not lost
    listeners.set(id, onEvent);
    const r = (await ipcRenderer.invoke(CHANNELS.subscribe, id, name, params ?? {})) as Envelope<{ id: number }>;
    if (r.error) listeners.delete(id);
    return r;
  };
}

const bridge: CamdBridge = {
  ops: Object.freeze(Object.fromEntries(OP_NAMES.map((n) => [n, op(n)]))) as CamdBridge['ops'],
  topics: Object.freeze(Object.fromEntries(TOPIC_NAMES.map((n) => [n, topic(n)]))) as CamdBridge['topics'],
  unsubscribe(id: number): void {
    if (!listeners.delete(id)) return;
    void ipcRenderer.invoke(CHANNELS.unsubscribe, id);
  },
  pathForFile(file: File): string {
    try {
      return webUtils.getPathForFile(file);
    } catch {
      return '';
    }
  },
  pickFolder: () => ipcRenderer.invoke(CHANNELS.pickFolder) as Promise<string | null>,
};

contextBridge.exposeInMainWorld('camd', bridge);
