/**
 * Browser mode: the app's API and its built renderer over HTTP and WebSocket, bound to 127.0.0.1
 * only. Every request needs the per-launch token — as `Authorization: Bearer`, as the HttpOnly
 * SameSite=Strict cookie the first page load trades it for, or as `?token=` — checked before any
 * routing (401 otherwise); requests naming another host are refused (DNS rebinding). Images are
 * served by id only (services/images.ts resolves and contains them). Every response carries the
 * same Content-Security-Policy as the Electron window.
 *
 *   GET  /?token=T                  sets the cookie, redirects to /
 *   GET  /, /assets/…               the built renderer (renderer/dist)
 *   POST /api/<op>                  one operation of the contract: JSON in, JSON out
 *   GET  /api/images/<id>/thumb     WebP thumbnail (?size=128|256|512)
 *   GET  /api/images/<id>/file      the original image
 *   GET  /api/ws                    WebSocket: calls and subscriptions (contract ClientMessage/ServerMessage)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { CamdError } from 'camd-studio/trainer';
import { ClientMessage, HTTP_STATUS, type ApiError, type ServerMessage } from '../common/contract.js';
import { contentSecurityPolicy } from '../common/csp.js';
import type { App } from '../services/app.js';
import { NotFound } from '../base/errors.js';
import { appFiles, appResponse, securityHeaders } from './app-protocol.js';
import { ApiFailure, call, handlers, subscribe, toApiError } from '../api/handlers.js';

export interface HostOptions {
  app: App;
  /** 0: any free port. */
  port?: number;
  /** The built renderer (index.html and its assets); absent: a page that says how to build it. */
  staticDir?: string;
  /** Fixed token (tests); default a random one per launch. */
  token?: string;
  /** Largest request body (bytes). */
  maxBody?: number;
  /** Bytes a socket may have waiting for its reader before the host drops it (default 16 MB). */
  socketBufferLimit?: number;
}

/** Subscriptions one socket may hold at once (the renderer uses a handful). */
export const MAX_SUBSCRIPTIONS = 256;

export interface Host {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** The token cookie's name, one per port: cookies ignore ports, so two hosts (or a host restarted on another port) must not share one. */
const cookieName = (port: number) => `camd_token_${port}`;

/** A web Response (the shared handler's) written to Node's ServerResponse. */
async function send(res: ServerResponse, r: Response, headOnly: boolean): Promise<void> {
  r.headers.forEach((v, k) => res.setHeader(k, v));
  res.writeHead(r.status);
  if (!r.body || headOnly) {
    await r.body?.cancel();
    res.end();
    return;
  }
  await new Promise<void>((done) => {
    Readable.fromWeb(r.body as import('node:stream/web').ReadableStream)
      .on('error', () => (res.destroy(), done()))
      .pipe(res)
      .on('finish', done)
      .on('close', done);
  });
}

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieOf(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

export async function startHost(o: HostOptions): Promise<Host> {
  const token = o.token ?? randomBytes(32).toString('base64url');
  const maxBody = o.maxBody ?? 1 << 20;
  const table = handlers(o.app);
  let port = 0;
  const csp = () => contentSecurityPolicy([`ws://127.0.0.1:${port}`]);
  // the files and images: the same handler as the Electron window's camd:// scheme
  const files = {
    ...appFiles(o.app, o.staticDir, ''),
    get csp() {
      return csp();
    },
  };

  const headers = (res: ServerResponse, type?: string) => {
    for (const [k, v] of Object.entries(securityHeaders(csp()))) res.setHeader(k, v);
    if (type) res.setHeader('Content-Type', type);
  };
  const fail = (res: ServerResponse, error: ApiError, status = HTTP_STATUS[error.cause]) => {
    if (res.headersSent) return res.destroy();
    headers(res, 'application/json; charset=utf-8');
    res.writeHead(status);
    res.end(JSON.stringify({ error }));
  };

  /** Our host names only: a page of another site resolving to 127.0.0.1 (DNS rebinding) is refused. */
  const hostOk = (req: IncomingMessage) => {
    const h = req.headers.host ?? '';
    return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
  };
  const tokenOf = (req: IncomingMessage, url: URL) => {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice(7);
    // the URL's token first: it is the one just printed; a cookie may be a previous launch's (every launch makes a new token)
    return url.searchParams.get('token') ?? cookieOf(req, cookieName(port));
  };

  const readBody = (req: IncomingMessage): Promise<unknown> =>
    new Promise((res, rej) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody) {
          if (chunks.length) rej(new ApiFailure({ message: `request body over ${maxBody} bytes`, cause: 'usage' }));
          chunks.length = 0; // a streamed body without a length: drained and dropped
        } else chunks.push(c);
      });
      req.on('end', () => {
        if (size > maxBody) return;
        if (size === 0) return res({});
        try {
          res(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
        } catch {
          rej(new ApiFailure({ message: 'the request body is not JSON', cause: 'usage' }));
        }
      });
      req.on('error', rej);
    });

  const server = createServer((req, res) => {
    void (async () => {
      if (!hostOk(req)) return fail(res, { message: 'unknown host', cause: 'unauthorized' });
      let url: URL;
      try {
        url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
      } catch {
        return fail(res, { message: 'bad request', cause: 'usage' });
      }
      if (!sameToken(tokenOf(req, url), token))
        return fail(res, {
          message: 'a valid token is required: open the URL printed by `npm run web`',
          cause: 'unauthorized',
        });
      // the first page load trades the token in the URL for a cookie, and drops it from the address bar
      if (url.searchParams.has('token') && req.method === 'GET' && !url.pathname.startsWith('/api/')) {
        res.setHeader('Set-Cookie', `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`);
        headers(res);
        res.writeHead(302, { Location: url.pathname });
        return res.end();
      }
      const path = url.pathname;
      try {
        if (path.startsWith('/api/images/') || path.startsWith('/api/downloads/')) {
          if (req.method !== 'GET') throw new NotFound(path.startsWith('/api/images/') ? 'image' : 'download');
          return await send(res, await appResponse(files, url, req.headers['if-none-match'] ?? null), false);
        }
        if (path.startsWith('/api/')) {
          if (req.method !== 'POST') throw new ApiFailure({ message: 'operations are POST requests', cause: 'usage' });
          // a request that carries only the cookie could come from another site's page in the same browser
          // (cookies ignore ports): it must say it is JSON (which a page of another origin cannot send
          // without asking first) and come from this origin when the browser says where it comes from
          if (!req.headers.authorization && !url.searchParams.has('token')) {
            const origin = req.headers.origin;
            const site = req.headers['sec-fetch-site'];
            const ours =
              origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
            if (
              !ours ||
              (site !== undefined && site !== 'same-origin' && site !== 'none') ||
              !(req.headers['content-type'] ?? '').startsWith('application/json')
            ) {
              return fail(
                res,
                {
                  message:
                    "refused: an operation from another site's page, or not sent as JSON (the app's own pages send JSON from its origin)",
                  cause: 'unauthorized',
                },
                403,
              );
            }
          }
          if (Number(req.headers['content-length'] ?? 0) > maxBody) {
            // refused unread; the connection closes after the answer
            res.setHeader('Connection', 'close');
            fail(res, { message: `request body over ${maxBody} bytes`, cause: 'usage' }, 413);
            req.resume();
            return;
          }
          if (
            !(req.headers['content-type'] ?? '').startsWith('application/json') &&
            Number(req.headers['content-length'] ?? 0) > 0
          )
            throw new ApiFailure({ message: 'the body must be application/json', cause: 'usage' });
          const body = await readBody(req);
          const result = await call(table, path.slice('/api/'.length), body);
          headers(res, 'application/json; charset=utf-8');
          res.setHeader('Cache-Control', 'no-store');
          res.writeHead(200).end(JSON.stringify(result));
          return;
        }
        if (req.method !== 'GET' && req.method !== 'HEAD')
          throw new ApiFailure({ message: 'method not allowed', cause: 'usage' });
        return await send(res, await appResponse(files, url), req.method === 'HEAD');
      } catch (e) {
        fail(res, toApiError(e));
      }
    })();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBody });
  const bufferLimit = o.socketBufferLimit ?? 16 << 20;
  server.on('upgrade', (req, socket, head) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    } catch {
      return socket.destroy();
    }
    const origin = req.headers.origin;
    const originOk =
      origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
    if (!hostOk(req) || !originOk || url.pathname !== '/api/ws' || !sameToken(tokenOf(req, url), token)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws));
  });

  const serveSocket = (ws: WebSocket) => {
    const subs = new Map<number, () => void>();
    const send = (m: ServerMessage) => {
      if (ws.readyState !== ws.OPEN) return;
      // a client that does not read (a paused or stuck page) must not make the host hold its output
      // without bound: past the limit the socket is dropped, its subscriptions with it
      if (ws.bufferedAmount > bufferLimit) return void ws.terminate();
      ws.send(JSON.stringify(m));
    };
    ws.on('message', (raw) => {
      let msg: ClientMessage;
      try {
        const parsed = ClientMessage.safeParse(JSON.parse(raw.toString()));
        if (!parsed.success)
          return send({
            type: 'error',
            id: null,
            error: { message: `invalid message: ${parsed.error.issues[0]!.message}`, cause: 'usage' },
          });
        msg = parsed.data;
      } catch {
        return send({ type: 'error', id: null, error: { message: 'the message is not JSON', cause: 'usage' } });
      }
      if (msg.type === 'call') {
        call(table, msg.op, msg.params).then(
          (result) => send({ type: 'result', id: msg.id, result }),
          (e: unknown) => send({ type: 'error', id: msg.id, error: toApiError(e) }),
        );
      } else if (msg.type === 'subscribe') {
        try {
          if (!subs.has(msg.id) && subs.size >= MAX_SUBSCRIPTIONS)
            throw new CamdError(
              'busy',
              `at most ${MAX_SUBSCRIPTIONS} subscriptions on one connection; unsubscribe first`,
            );
          subs.get(msg.id)?.();
          subs.set(
            msg.id,
            subscribe(o.app, msg.topic, msg.params, (data) => send({ type: 'event', id: msg.id, data })),
          );
          send({ type: 'result', id: msg.id, result: { subscribed: msg.topic } });
        } catch (e) {
          send({ type: 'error', id: msg.id, error: toApiError(e) });
        }
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
  };

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(o.port ?? 0, '127.0.0.1', () => res());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((res) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}
