/**
 * The main process's side of the preload bridge: one handler per channel (common/names.ts
 * CHANNELS). Every handler first checks who is asking — the main frame of a page of the app
 * (camd://app), nothing else — and every argument goes through the contract's schemas
 * (api/handlers.ts) before a service sees it. Answers are envelopes; subscriptions are kept per
 * web contents and ended when its page goes away (reload, navigation, close).
 */
import { ipcMain, type IpcMainInvokeEvent, type WebContents, type WebFrameMain } from 'electron';
import type { App } from '../services/app.js';
import type { Envelope } from '../common/bridge.js';
import { CHANNELS } from '../common/names.js';
import { call, handlers, subscribe, toApiError } from '../api/handlers.js';
import { SCHEME } from './protocol.js';

/** The main frame of one of the app's pages. */
export function isAppFrame(frame: WebFrameMain | null | undefined): boolean {
  // a frame that navigated away (detached, Electron ≥ 33) is no longer the page that asked
  if (!frame || frame.parent !== null || frame.detached) return false;
  try {
    const u = new URL(frame.url);
    return u.protocol === `${SCHEME}:` && u.host === 'app';
  } catch {
    return false;
  }
}

const REFUSED: Envelope<never> = {
  error: { message: "refused: only the app's own window may call the app", cause: 'unauthorized' },
};

function usage(message: string): Envelope<never> {
  return { error: { message, cause: 'usage' } };
}

export interface IpcOptions {
  /** The native folder picker for the window of `sender`; null when cancelled. */
  pickFolder(sender: WebContents): Promise<string | null>;
}

/** Registers the handlers; returns their removal. */
export function registerIpc(app: App, o: IpcOptions): () => void {
  const table = handlers(app);
  const subs = new Map<WebContents, Map<number, () => void>>();

  const subsOf = (wc: WebContents): Map<number, () => void> => {
    let m = subs.get(wc);
    if (!m) {
      m = new Map();
      subs.set(wc, m);
      const endAll = () => {
        for (const off of m!.values()) off();
        m!.clear();
      };
      // a new document (reload, navigation) starts with no subscription; a closed one keeps none
      wc.on('did-navigate', endAll);
      wc.once('destroyed', () => {
        endAll();
        subs.delete(wc);
      });
    }
    return m;
  };

  ipcMain.handle(CHANNELS.call, async (e: IpcMainInvokeEvent, op: unknown, params: unknown): Promise<Envelope> => {
    if (!isAppFrame(e.senderFrame)) return REFUSED;
    if (typeof op !== 'string') return usage('the operation must be named by a string');
    try {
      return { result: await call(table, op, params) };
    } catch (err) {
      return { error: toApiError(err) };
    }
  });

  ipcMain.handle(
    CHANNELS.subscribe,
    (e: IpcMainInvokeEvent, id: unknown, topic: unknown, params: unknown): Envelope<{ id: number }> => {
      if (!isAppFrame(e.senderFrame)) return REFUSED;
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1)
        return usage('a subscription id must be a positive integer');
      if (typeof topic !== 'string') return usage('the topic must be named by a string');
      const wc = e.sender;
      const mine = subsOf(wc);
      mine.get(id)?.();
      mine.delete(id);
      try {
        const off = subscribe(app, topic, params, (data) => {
          if (!wc.isDestroyed()) wc.send(CHANNELS.event, id, data);
        });
        mine.set(id, off);
        return { result: { id } };
      } catch (err) {
        return { error: toApiError(err) };
      }
    },
  );

  ipcMain.handle(CHANNELS.unsubscribe, (e: IpcMainInvokeEvent, id: unknown): Envelope<{ unsubscribed: boolean }> => {
    if (!isAppFrame(e.senderFrame)) return REFUSED;
    if (typeof id !== 'number') return usage('a subscription id must be a number');
    const mine = subs.get(e.sender);
    const off = mine?.get(id);
    off?.();
    mine?.delete(id);
    return { result: { unsubscribed: Boolean(off) } };
  });

  ipcMain.handle(CHANNELS.pickFolder, async (e: IpcMainInvokeEvent): Promise<string | null> => {
    if (!isAppFrame(e.senderFrame)) return null;
    return o.pickFolder(e.sender);
  });

  return () => {
    for (const ch of [CHANNELS.call, CHANNELS.subscribe, CHANNELS.unsubscribe, CHANNELS.pickFolder])
      ipcMain.removeHandler(ch);
    for (const m of subs.values()) for (const off of m.values()) off();
    subs.clear();
  };
}
