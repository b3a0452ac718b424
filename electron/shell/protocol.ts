/**
 * The app's own scheme, `camd://app/…`: the window loads the built renderer through it (never
 * file://), and images of the store by id. Its handler is browser mode's (host/app-protocol.ts):
 * bundle files with the realpath containment check, images by id, the Content-Security-Policy as
 * a response header. Only GET and HEAD on the host `app`; everything else is refused.
 */
import { protocol } from 'electron';
import { appResponse, errorResponse, type AppFiles } from '../host/app-protocol.js';

export const SCHEME = 'camd';
export const APP_ORIGIN = 'camd://app';
export const APP_URL = `${APP_ORIGIN}/index.html`;

/**
 * Before the app is ready (once, with every scheme of the app): a standard, secure scheme, so the
 * page is a secure context with an origin of its own; fetch and streaming for images; CORS-enabled
 * so the bundle's module scripts load (no other origin exists in the app: no remote content).
 */
export function registerScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, corsEnabled: true },
    },
  ]);
}

/** The response to one request of the scheme. */
export async function handleAppRequest(files: AppFiles, req: Request): Promise<Response> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return errorResponse({ message: 'bad request', cause: 'usage' }, files.csp);
  }
  if (url.protocol !== `${SCHEME}:` || url.host !== 'app')
    return errorResponse({ message: 'not found', cause: 'not-found' }, files.csp);
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return errorResponse({ message: 'method not allowed', cause: 'usage' }, files.csp, 405);
  const res = await appResponse(files, url, req.headers.get('if-none-match'), req.signal);
  if (req.method === 'HEAD' && res.body) {
    await res.body.cancel();
    return new Response(null, { status: res.status, headers: res.headers });
  }
  return res;
}

/** After ready: serves the scheme on the default session. */
export function serveScheme(files: AppFiles): void {
  protocol.handle(SCHEME, (req) => handleAppRequest(files, req));
}
