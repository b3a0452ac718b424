/**
 * The app's files as responses — the one handler behind both transports: the Electron window's
 * `camd://app/…` scheme (protocol.handle) and browser mode's HTTP host. It serves the built
 * renderer's files (a path is a file of the bundle, or a 404: the renderer routes with the URL's
 * hash) and the images of the store by id (`/api/images/<id>/thumb|file`: the store's row,
 * realpath, containment in the dataset's folder), the label exports as downloads
 * (`/api/downloads/labels?schema=&format=&labels=`: an attachment, so the browser downloads it and
 * the desktop window asks where to save it), every response with the app's
 * Content-Security-Policy. Authentication is the transport's business (the token in browser
 * mode; only the app's own window can load camd://).
 */
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { App } from '../services/app.js';
import { NotFound } from '../base/errors.js';
import { HTTP_STATUS, LabelExport, type ApiError } from '../common/contract.js';
import yazl from 'yazl';
import { toApiError } from '../api/handlers.js';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
};

/** Headers every response of the app carries. */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** A failure as a JSON response with its status. */
export function errorResponse(error: ApiError, csp: string, status = HTTP_STATUS[error.cause]): Response {
  return new Response(JSON.stringify({ error }), {
    status,
    headers: { ...securityHeaders(csp), 'Content-Type': 'application/json; charset=utf-8' },
  });
}

function fileBody(path: string): ReadableStream {
  return Readable.toWeb(createReadStream(path)) as ReadableStream;
}

export interface AppFiles {
  app: App;
  /** The built renderer (index.html and assets), realpath; null: a page that says how to build it. */
  staticRoot: string | null;
  csp: string;
}

export function appFiles(app: App, staticDir: string | undefined, csp: string): AppFiles {
  const staticRoot = staticDir && existsSync(resolve(staticDir, 'index.html')) ? realpathSync(staticDir) : null;
  return { app, staticRoot, csp };
}

async function image(
  f: AppFiles,
  idText: string,
  kind: string,
  url: URL,
  ifNoneMatch: string | null,
  signal: AbortSignal | undefined,
): Promise<Response> {
  if (!/^[1-9]\d{0,15}$/.test(idText) || (kind !== 'thumb' && kind !== 'file')) throw new NotFound('image');
  const id = Number(idText);
  const file = await f.app.images.file(id);
  const headers = { ...securityHeaders(f.csp), 'Cache-Control': 'private, no-cache' };
  if (kind === 'thumb') {
    const size = Number(url.searchParams.get('size') ?? 256);
    if (!Number.isInteger(size) || size < 16 || size > 2048)
      return errorResponse({ message: 'size must be an integer 16..2048', cause: 'usage', field: 'size' }, f.csp);
    const etag = `"${file.sha256 ?? 'x'}-${size}"`;
    if (ifNoneMatch === etag) return new Response(null, { status: 304, headers: { ...headers, ETag: etag } });
    const webp = await f.app.images.thumb(id, size, signal);
    return new Response(new Uint8Array(webp), {
      status: 200,
      headers: { ...headers, 'Content-Type': 'image/webp', ETag: etag },
    });
  }
  return new Response(fileBody(file.path), { status: 200, headers: { ...headers, 'Content-Type': file.mime } });
}

/** Zips [path, text] pairs in memory (an export of more than one file, e.g. CelebA's layout). */
function zipOf(files: [string, string][]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [rel, text] of files) zip.addBuffer(Buffer.from(text), rel.split(sep).join('/'));
  zip.end();
  return new Promise((ok, fail) => {
    const parts: Buffer[] = [];
    zip.outputStream
      .on('data', (b: Buffer) => parts.push(b))
      .on('end', () => ok(Buffer.concat(parts)))
      .on('error', fail);
  });
}

/** A label export as a download: one CSV file as it is, several files as a zip. The query is checked as the operation's parameters are. */
async function labelDownload(f: AppFiles, url: URL): Promise<Response> {
  const q = LabelExport.omit({ out: true }).safeParse({
    schema: Number(url.searchParams.get('schema')),
    format: url.searchParams.get('format') ?? undefined,
    labels: url.searchParams.get('labels') ?? undefined,
  });
  if (!q.success)
    return errorResponse(
      {
        message:
          'a label download needs schema (an id), format (csv, full or celeba) and optionally labels (human or human+accepted)',
        cause: 'usage',
      },
      f.csp,
    );
  const { name, files } = f.app.labels.exportFiles(q.data);
  const headers = { ...securityHeaders(f.csp), 'Cache-Control': 'no-store' };
  if (files.length === 1) {
    const [rel, text] = files[0]!;
    const file = `${name}-${rel.split(sep).pop()!}`;
    return new Response(text, {
      status: 200,
      headers: {
        ...headers,
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="${file}"`,
      },
    });
  }
  return new Response(new Uint8Array(await zipOf(files)), {
    status: 200,
    headers: {
      ...headers,
      'Content-Type': 'application/zip',
      'Content-Disposition': `attachment; filename="${name}.zip"`,
    },
  });
}

function bundleFile(f: AppFiles, pathname: string): Response {
  const headers = securityHeaders(f.csp);
  if (!f.staticRoot) {
    if (pathname !== '/' && pathname !== '/index.html') throw new NotFound('file');
    return new Response(
      '<!doctype html><meta charset="utf-8"><title>CAMD Studio</title><p>The renderer is not built: run <code>npm run build</code>. The API is served under /api/.</p>',
      { status: 200, headers: { ...headers, 'Content-Type': 'text/html; charset=utf-8' } },
    );
  }
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    throw new NotFound('file');
  }
  if (rel.includes('\0')) throw new NotFound('file');
  const file = resolve(f.staticRoot, `.${rel === '/' ? '/index.html' : rel}`);
  if (!file.startsWith(f.staticRoot + sep) || !existsSync(file) || !statSync(file).isFile()) throw new NotFound('file');
  const real = realpathSync(file);
  if (!real.startsWith(f.staticRoot + sep)) throw new NotFound('file');
  const cache = real.includes(`${sep}assets${sep}`) ? 'private, max-age=31536000, immutable' : 'no-cache';
  return new Response(fileBody(real), {
    status: 200,
    headers: { ...headers, 'Content-Type': MIME[extname(real)] ?? 'application/octet-stream', 'Cache-Control': cache },
  });
}

/**
 * A GET of the app: an image of the store by id, or a file of the bundle. Never throws: failures
 * are responses. `signal`: the client went away (a thumbnail not made yet leaves the host's line).
 */
export async function appResponse(
  f: AppFiles,
  url: URL,
  ifNoneMatch: string | null = null,
  signal?: AbortSignal,
): Promise<Response> {
  try {
    const path = url.pathname;
    if (path.startsWith('/api/images/')) {
      const m = /^\/api\/images\/([^/]+)\/([^/]+)$/.exec(path);
      if (!m) throw new NotFound('image');
      return await image(f, m[1]!, m[2]!, url, ifNoneMatch, signal);
    }
    if (path === '/api/downloads/labels') return await labelDownload(f, url);
    return bundleFile(f, path);
  } catch (e) {
    return errorResponse(toApiError(e), f.csp);
  }
}
