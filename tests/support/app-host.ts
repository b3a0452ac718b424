// The app's services behind a real browser-mode host on 127.0.0.1, and a client of the contract.
import { request } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { App, type AppOptions } from '../../electron/services/app.js';
import { startHost, type Host } from '../../electron/host/http-host.js';
import { ApiCallError, ApiClient, httpCalls, webSocketTransport } from '../../electron/common/client.js';
import { tempDir } from './folders.js';

export interface Hosted {
  app: App;
  host: Host;
  base: string;
  /** Calls over HTTP, subscriptions over the WebSocket. */
  client: ApiClient;
  /** Calls and subscriptions both over the WebSocket. */
  wsClient: () => ApiClient;
  /** A raw HTTP request with the token (or without, or with another). */
  raw: (
    path: string,
    init?: { method?: string; body?: string | Buffer; headers?: Record<string, string>; token?: string | null },
  ) => Promise<{ status: number; headers: Headers; body: Buffer }>;
  close: () => Promise<void>;
}

export async function hosted(opts: Partial<AppOptions> = {}): Promise<Hosted> {
  const app = new App({
    dataDir: opts.dataDir ?? tempDir('appdata'),
    supervisor: { graceMs: 20_000, killMs: 5_000, ...opts.supervisor },
    ...(opts.launcher ? { launcher: opts.launcher } : {}),
  });
  const host = await startHost({ app, port: 0, staticDir: join(import.meta.dirname, '..', '..', 'renderer', 'dist') });
  const base = `http://127.0.0.1:${host.port}`;
  const wsUrl = `ws://127.0.0.1:${host.port}/api/ws?token=${host.token}`;
  const clients: ApiClient[] = [];
  const make = (http: boolean) => {
    const c = new ApiClient(
      webSocketTransport(wsUrl, WebSocket as never, http ? httpCalls(base, fetch as never, host.token) : undefined),
    );
    clients.push(c);
    return c;
  };
  // node:http, so that the path is sent as written (fetch would resolve '..') and Host can be set
  const raw: Hosted['raw'] = (path, init = {}) =>
    new Promise((res, rej) => {
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      const token = init.token === undefined ? host.token : init.token;
      if (token !== null) headers['Authorization'] = `Bearer ${token}`;
      if (init.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(init.body));
      const req = request({ host: '127.0.0.1', port: host.port, path, method: init.method ?? 'GET', headers }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () =>
          res({
            status: r.statusCode ?? 0,
            headers: new Headers(
              Object.entries(r.headers).flatMap(([k, v]) =>
                v === undefined
                  ? []
                  : Array.isArray(v)
                    ? v.map((x) => [k, x] as [string, string])
                    : [[k, v] as [string, string]],
              ),
            ),
            body: Buffer.concat(chunks),
          }),
        );
      });
      req.on('error', rej);
      if (init.body !== undefined) req.end(init.body);
      else req.end();
    });
  return {
    app,
    host,
    base,
    client: make(true),
    wsClient: () => make(false),
    raw,
    close: async () => {
      for (const c of clients) c.close();
      await host.close();
      await app.close();
    },
  };
}

/** Waits until `pred` holds (polling), or fails with `what`. */
export async function until<T>(
  what: string,
  get: () => T | Promise<T>,
  pred: (v: T) => boolean,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (pred(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)?.slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The contract error a call fails with (a test failure when it succeeds or fails otherwise). */
export async function errorOf(p: Promise<unknown>): Promise<ApiCallError['error']> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiCallError) return e.error;
    throw e;
  }
  throw new Error('expected a failure');
}
