/**
 * The browser host's WebSocket (http-host.ts, GET /api/ws): calls and subscriptions, as the
 * contract's ClientMessage and ServerMessage. A socket's subscriptions end with it.
 */
import type { RawData, WebSocket } from 'ws';
import { CamdError } from 'camd-studio/trainer';
import { ClientMessage, type ApiError, type ServerMessage } from '../common/contract.js';
import type { App } from '../services/app.js';
import { call, type handlers, subscribe, toApiError } from '../api/handlers.js';

/** Subscriptions one socket may hold at once (the renderer uses a handful). */
export const MAX_SUBSCRIPTIONS = 256;

type Send = (m: ServerMessage) => void;
type SubscribeMessage = Extract<ClientMessage, { type: 'subscribe' }>;

/** A message as the contract has it, or what is wrong with it. */
function parseMessage(raw: RawData): { msg: ClientMessage } | { error: ApiError } {
  try {
    const parsed = ClientMessage.safeParse(JSON.parse(raw.toString()));
    if (!parsed.success)
      return { error: { message: `invalid message: ${parsed.error.issues[0]!.message}`, cause: 'usage' } };
    return { msg: parsed.data };
  } catch {
    return { error: { message: 'the message is not JSON', cause: 'usage' } };
  }
}

/** A subscription under the message's id (replacing one of that id), within MAX_SUBSCRIPTIONS. */
function subscribeTo(app: App, subs: Map<number, () => void>, msg: SubscribeMessage, send: Send): void {
  try {
    if (!subs.has(msg.id) && subs.size >= MAX_SUBSCRIPTIONS)
      throw new CamdError('busy', `at most ${MAX_SUBSCRIPTIONS} subscriptions on one connection; unsubscribe first`);
    subs.get(msg.id)?.();
    subs.set(
      msg.id,
      subscribe(app, msg.topic, msg.params, (data) => send({ type: 'event', id: msg.id, data })),
    );
    send({ type: 'result', id: msg.id, result: { subscribed: msg.topic } });
  } catch (e) {
    send({ type: 'error', id: msg.id, error: toApiError(e) });
  }
}

/** Answers one socket's calls and feeds its subscriptions until it closes. */
export function serveSocket(ws: WebSocket, app: App, table: ReturnType<typeof handlers>, bufferLimit: number): void {
  const subs = new Map<number, () => void>();
  const send: Send = (m) => {
    if (ws.readyState !== ws.OPEN) return;
    // a client that does not read (a paused or stuck page) must not make the host hold its output
    // without bound: past the limit the socket is dropped, its subscriptions with it
    if (ws.bufferedAmount > bufferLimit) return void ws.terminate();
    ws.send(JSON.stringify(m));
  };
  ws.on('message', (raw) => {
    const parsed = parseMessage(raw);
    if ('error' in parsed) return send({ type: 'error', id: null, error: parsed.error });
    const msg = parsed.msg;
    if (msg.type === 'call') {
      call(table, msg.op, msg.params).then(
        (result) => send({ type: 'result', id: msg.id, result }),
        (e: unknown) => send({ type: 'error', id: msg.id, error: toApiError(e) }),
      );
    } else if (msg.type === 'subscribe') {
      subscribeTo(app, subs, msg, send);
    } else {
      subs.get(msg.id)?.();
      subs.delete(msg.id);
      send({ type: 'result', id: msg.id, result: { unsubscribed: true } });
    }
  });
  ws.on('close', () => {
    for (const off of subs.values()) off();
    subs.clear();
  });
  ws.on('error', () => undefined);
}
