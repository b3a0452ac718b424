/**
 * The Content-Security-Policy of every page of the app, the same in the Electron window (set by
 * the camd:// protocol handler) and in browser mode (set by the host): only the app's own files,
 * no inline script, images from the app and data: URLs (mask previews), connections back to the
 * app only, no plugins, no framing, no forms posting elsewhere.
 */
export function contentSecurityPolicy(connect: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self'${connect.length ? ` ${connect.join(' ')}` : ''}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}
