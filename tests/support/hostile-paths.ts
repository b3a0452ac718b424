// Paths a hostile page or client may ask the app's file handler for (browser mode's HTTP host and
// the Electron window's camd:// scheme answer both with the same handler): traversal, absolute
// paths, encoded and double-encoded traversal, NUL bytes, ids that are not ids.
export function hostilePaths(imageId: number): string[] {
  return [
    '/api/images/../../etc/passwd/file',
    '/api/images/..%2F..%2Fetc%2Fpasswd/file',
    '/api/images/%252e%252e%252fetc/file',
    '/api/images/%2Fetc%2Fpasswd/file',
    '/api/images/1%00/file',
    '/api/images/1/file%00.jpg',
    '/api/images/-1/file',
    '/api/images/1.5/thumb',
    '/api/images/99999999/file',
    `/api/images/${imageId}/../../../../etc/passwd`,
    '/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/..%252f..%252fetc%252fpasswd',
    '/index.html%00.js',
    '/assets/../../package.json',
    '/%2e%2e%2fpackage.json',
  ];
}
