/**
 * The one client of the API contract, typed by it: `call(op, params)` and `subscribe(topic,
 * params, listener)`, over a transport — HTTP + WebSocket in browser mode (here), Electron IPC
 * through the preload in the app (the shell's). No Node and no DOM import: fetch and a WebSocket
 * constructor are handed in.
 */
import type {
  ApiError,
  OpName,
  OpParams,
  OpResult,
  ServerMessage,
  TopicEvent,
  TopicName,
  TopicParams,
} from './contract.js';

export interface Transport {
  call(op: string, params: unknown): Promise<unknown>;
  /** Resolves once the subscription is active; returns its end. */
  subscribe(topic: string, params: unknown, onEvent: (data: unknown) => void): Promise<() => void>;
  close(): void;
}

/** A failed operation, with the contract's cause (and the field at fault). */
export class ApiCallError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
    this.name = 'ApiCallError';
  }
}

export class ApiClient {
  constructor(readonly transport: Transport) {}

  call<K extends OpName>(op: K, params: OpParams<K>): Promise<OpResult<K>> {
    return this.transport.call(op, params) as Promise<OpResult<K>>;
  }

  subscribe<K extends TopicName>(
    topic: K,
    params: TopicParams<K>,
    listener: (e: TopicEvent<K>) => void,
  ): Promise<() => void> {
    return this.transport.subscribe(topic, params, listener as (d: unknown) => void);
  }

  close(): void {
    this.transport.close();
  }
}

type FetchFn = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; credentials?: 'same-origin' },
) => Promise<{ status: number; json(): Promise<unknown> }>;

/** Operations as POST /api/<op> (the page's cookie carries the token; other clients pass it). */
export function httpCalls(
  base: string,
  fetchFn: FetchFn,
  token?: string,
): (op: string, params: unknown) => Promise<unknown> {
  return async (op, params) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers['Authorization'] = `Bearer ${token}`;
    const res = await fetchFn(`${base}/api/${op}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(params ?? {}),
      credentials: 'same-origin',
    });
    const body = (await res.json()) as { error?: ApiError };
    if (res.status !== 200) throw new ApiCallError(body.error ?? { message: `HTTP ${res.status}`, cause: 'internal' });
    return body;
  };
}

interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/**
 * Calls and subscriptions over one WebSocket (/api/ws). Calls may also go over HTTP (`calls`);
 * subscriptions always use the socket.
 */
export function webSocketTransport(
  wsUrl: string,
  WebSocketCtor: new (url: string) => SocketLike,
  calls?: (op: string, params: unknown) => Promise<unknown>,
  hooks: { onOpen?: () => void; onClose?: () => void } = {},
): Transport {
  const ws = new WebSocketCtor(wsUrl);
  let next = 1;
  const pending = new Map<number, { res: (v: unknown) => void; rej: (e: unknown) => void }>();
  const listeners = new Map<number, (d: unknown) => void>();
  const opened = new Promise<void>((res, rej) => {
    ws.onopen = () => {
      res();
      hooks.onOpen?.();
    };
    ws.onerror = (e) =>
      rej(
        new ApiCallError({
          message: `cannot connect to ${wsUrl}: ${String((e as { message?: string }).message ?? 'refused')}`,
          cause: 'unauthorized',
        }),
      );
  });
  ws.onmessage = (ev) => {
    const m = JSON.parse(String(ev.data)) as ServerMessage;
    if (m.type === 'event') listeners.get(m.id)?.(m.data);
    else if (m.id !== null) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.type === 'result') p?.res(m.result);
      else p?.rej(new ApiCallError(m.error));
    }
  };
  ws.onclose = () => {
    for (const p of pending.values())
      p.rej(new ApiCallError({ message: 'the connection to CAMD Studio was closed', cause: 'io' }));
    pending.clear();
    hooks.onClose?.();
  };
  const request = async (msg: Record<string, unknown>, id = next++): Promise<unknown> => {
    await opened;
    return new Promise((res, rej) => {
      pending.set(id, { res, rej });
      ws.send(JSON.stringify({ ...msg, id }));
    });
  };
  return {
    call: (op, params) => (calls ? calls(op, params) : request({ type: 'call', op, params })),
    subscribe: async (topic, params, onEvent) => {
      const id = next++;
      listeners.set(id, onEvent);
      try {
        await request({ type: 'subscribe', topic, params }, id);
      } catch (e) {
        listeners.delete(id);
        throw e;
      }
      return () => {
        listeners.delete(id);
        if (ws.readyState === 1) ws.send(JSON.stringify({ type: 'unsubscribe', id }));
      };
    },
    close: () => ws.close(),
  };
}
