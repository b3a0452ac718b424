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
import { randomBytes } from 'node:crypto';
import { Readable, type Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { HTTP_STATUS, type ApiError } from '../common/contract.js';
import { contentSecurityPolicy } from '../common/csp.js';
import type { App } from '../services/app.js';
import { NotFound } from '../base/errors.js';
import { appFiles, appResponse, securityHeaders, type AppFiles } from './app-protocol.js';
import { ApiFailure, call, handlers, toApiError } from '../api/handlers.js';
import { cookieCallOk, cookieName, hostOk, ourOrigin, sameToken, tokenOf } from './host-access.js';
import { serveSocket } from './host-socket.js';

export { MAX_SUBSCRIPTIONS } from './host-socket.js';

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

export interface Host {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** What serving a request needs. */
interface HostContext {
  app: App;
  table: ReturnType<typeof handlers>;
  token: string;
  /** Largest request body (bytes). */
  maxBody: number;
  /** The files and images: the same handler as the Electron window's camd:// scheme. */
  files: AppFiles;
  /** 0 until the server listens. */
  port: number;
}

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

function hostContext(o: HostOptions): HostContext {
  const token = o.token ?? randomBytes(32).toString('base64url');
  const maxBody = o.maxBody ?? 1 << 20;
  const table = handlers(o.app);
  const ctx: HostContext = {
    app: o.app,
    table,
    token,
    maxBody,
    files: {
      ...appFiles(o.app, o.staticDir, ''),
      get csp() {
        return cspOf(ctx);
      },
    },
    port: 0,
  };
  return ctx;
}

/** The Electron window's Content-Security-Policy, with this host's WebSocket. */
function cspOf(ctx: HostContext): string {
  return contentSecurityPolicy([`ws://127.0.0.1:${ctx.port}`]);
}

function setHeaders(ctx: HostContext, res: ServerResponse, type?: string): void {
  for (const [k, v] of Object.entries(securityHeaders(cspOf(ctx)))) res.setHeader(k, v);
  if (type) res.setHeader('Content-Type', type);
}

function fail(ctx: HostContext, res: ServerResponse, error: ApiError, status = HTTP_STATUS[error.cause]): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  setHeaders(ctx, res, 'application/json; charset=utf-8');
  res.writeHead(status);
  res.end(JSON.stringify({ error }));
}

function readBody(req: IncomingMessage, maxBody: number): Promise<unknown> {
  return new Promise((res, rej) => {
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
}

/** POST /api/<op>: one operation of the contract, JSON in, JSON out. */
async function operation(ctx: HostContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method !== 'POST') throw new ApiFailure({ message: 'operations are POST requests', cause: 'usage' });
  if (!req.headers.authorization && !url.searchParams.has('token') && !cookieCallOk(req, ctx.port)) {
    return fail(
      ctx,
      res,
      {
        message:
          "refused: an operation from another site's page, or not sent as JSON (the app's own pages send JSON from its origin)",
        cause: 'unauthorized',
      },
      403,
    );
  }
  if (Number(req.headers['content-length'] ?? 0) > ctx.maxBody) {
    // refused unread; the connection closes after the answer
    res.setHeader('Connection', 'close');
    fail(ctx, res, { message: `request body over ${ctx.maxBody} bytes`, cause: 'usage' }, 413);
    req.resume();
    return;
  }
  if (
    !(req.headers['content-type'] ?? '').startsWith('application/json') &&
    Number(req.headers['content-length'] ?? 0) > 0
  )
    throw new ApiFailure({ message: 'the body must be application/json', cause: 'usage' });
  const body = await readBody(req, ctx.maxBody);
  const result = await call(ctx.table, url.pathname.slice('/api/'.length), body);
  setHeaders(ctx, res, 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.writeHead(200).end(JSON.stringify(result));
}

/** Images and downloads, operations, then the built renderer. */
async function route(ctx: HostContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname;
  if (path.startsWith('/api/images/') || path.startsWith('/api/downloads/')) {
    if (req.method !== 'GET') throw new NotFound(path.startsWith('/api/images/') ? 'image' : 'download');
    // a client that goes away before its answer (a thumbnail scrolled past) takes its request back
    const gone = new AbortController();
    res.on('close', () => res.writableFinished || gone.abort());
    return await send(res, await appResponse(ctx.files, url, req.headers['if-none-match'] ?? null, gone.signal), false);
  }
  if (path.startsWith('/api/')) return await operation(ctx, req, res, url);
  if (req.method !== 'GET' && req.method !== 'HEAD')
    throw new ApiFailure({ message: 'method not allowed', cause: 'usage' });
  return await send(res, await appResponse(ctx.files, url), req.method === 'HEAD');
}

/** A request: our host name and the token first, before any routing. */
async function serveRequest(ctx: HostContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!hostOk(req, ctx.port)) return fail(ctx, res, { message: 'unknown host', cause: 'unauthorized' });
  let url: URL;
  try {
    url = new URL(req.url ?? '/', `http://127.0.0.1:${ctx.port}`);
  } catch {
    return fail(ctx, res, { message: 'bad request', cause: 'usage' });
  }
  if (!sameToken(tokenOf(req, url, ctx.port), ctx.token))
    return fail(ctx, res, {
      message: 'a valid token is required: open the URL printed by `npm run web`',
      cause: 'unauthorized',
    });
  // the first page load trades the token in the URL for a cookie, and drops it from the address bar
  if (url.searchParams.has('token') && req.method === 'GET' && !url.pathname.startsWith('/api/')) {
    res.setHeader('Set-Cookie', `${cookieName(ctx.port)}=${ctx.token}; HttpOnly; SameSite=Strict; Path=/`);
    setHeaders(ctx, res);
    res.writeHead(302, { Location: url.pathname });
    res.end();
    return;
  }
  try {
    await route(ctx, req, res, url);
  } catch (e) {
    fail(ctx, res, toApiError(e));
  }
}

/** GET /api/ws: our host name, our origin, the token; then the socket. */
function upgrade(
  ctx: HostContext,
  wss: WebSocketServer,
  bufferLimit: number,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', `http://127.0.0.1:${ctx.port}`);
  } catch {
    socket.destroy();
    return;
  }
  const originOk = ourOrigin(req.headers.origin, ctx.port);
  if (
    !hostOk(req, ctx.port) ||
    !originOk ||
    url.pathname !== '/api/ws' ||
    !sameToken(tokenOf(req, url, ctx.port), ctx.token)
  ) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, ctx.app, ctx.table, bufferLimit));
}

export async function startHost(o: HostOptions): Promise<Host> {
  const ctx = hostContext(o);
  const server = createServer((req, res) => {
    void serveRequest(ctx, req, res);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: ctx.maxBody });
  const bufferLimit = o.socketBufferLimit ?? 16 << 20;
  server.on('upgrade', (req, socket, head) => upgrade(ctx, wss, bufferLimit, req, socket, head));

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(o.port ?? 0, '127.0.0.1', () => res());
  });
  ctx.port = (server.address() as AddressInfo).port;
  const { port, token } = ctx;
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
