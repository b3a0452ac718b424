/**
 * Who may use the browser host (http-host.ts): requests naming our host names only (DNS
 * rebinding), with the per-launch token — as `Authorization: Bearer`, `?token=` or the cookie —
 * and, from a browser, from our own origin.
 */
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

/** The token cookie's name, one per port: cookies ignore ports, so two hosts (or a host restarted on another port) must not share one. */
export const cookieName = (port: number) => `camd_token_${port}`;

export function sameToken(given: string | null | undefined, token: string): boolean {
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

/** Our host names only: a page of another site resolving to 127.0.0.1 (DNS rebinding) is refused. */
export function hostOk(req: IncomingMessage, port: number): boolean {
  const h = req.headers.host ?? '';
  return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
}

export function tokenOf(req: IncomingMessage, url: URL, port: number): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  // the URL's token first: it is the one just printed; a cookie may be a previous launch's (every launch makes a new token)
  return url.searchParams.get('token') ?? cookieOf(req, cookieName(port));
}

/** No Origin header (not a browser's page), or one of ours. */
export function ourOrigin(origin: string | undefined, port: number): boolean {
  return origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
}

/**
 * An operation that carries only the cookie could come from another site's page in the same browser
 * (cookies ignore ports): it must say it is JSON (which a page of another origin cannot send
 * without asking first) and come from this origin when the browser says where it comes from.
 */
export function cookieCallOk(req: IncomingMessage, port: number): boolean {
  const site = req.headers['sec-fetch-site'];
  return (
    ourOrigin(req.headers.origin, port) &&
    (site === undefined || site === 'same-origin' || site === 'none') &&
    (req.headers['content-type'] ?? '').startsWith('application/json')
  );
}
