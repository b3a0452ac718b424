#!/usr/bin/env node
// `npm start`: the desktop app with the Electron binary, or — where the binary was never fetched
// (ELECTRON_SKIP_BINARY_DOWNLOAD=1, as setup and CI do) — one line saying how to get it, instead of
// Electron's own stack trace ("delete node_modules/electron"), which is the wrong advice here.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = join(dirname(new URL(import.meta.url).pathname), '..');
let binary = null;
try {
  const pkg = dirname(require.resolve('electron/package.json'));
  const rel = existsSync(join(pkg, 'path.txt')) ? readFileSync(join(pkg, 'path.txt'), 'utf8').trim() : null;
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkg, 'dist');
  if (rel && existsSync(join(dist, rel))) binary = join(dist, rel);
} catch {
  // electron (a dev dependency) is not installed at all
}
if (!binary) {
  process.stderr.write(
    'camd-studio: the Electron binary is not installed (npm run setup skips its download); on a machine with network access run `node node_modules/electron/install.js` once, then `npm start` — or use the app in a browser now: `npm run web` (docs/desktop.md)\n',
  );
  process.exit(1);
}
const child = spawn(binary, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
