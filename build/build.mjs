// `npm run build`: the trainer, the Electron main and preload, and the renderer, compiled in order.
// Like make, it does nothing when no file the build reads has changed since the last build that
// finished (sizes and modification times, and the steps themselves, in .cache/build-stamp.json) and
// its outputs are there: `npm test` builds first, and right after `npm run setup` (which built) that
// saves about 35 s on two cores. `--force` builds regardless.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const STEPS = [
  'tsc -p tsconfig.json',
  'tsc -p electron/tsconfig.json',
  'tsc -p electron/tsconfig.preload.json',
  'vite build --config electron/preload.vite.config.ts --logLevel warn',
  'vue-tsc -p renderer/tsconfig.json',
  'vite build --config renderer/vite.config.ts --logLevel warn',
];

/** What the steps read: the sources of the three parts, their configs, and the installed packages' lock. */
const INPUTS = ['trainer/src', 'electron', 'renderer', 'tsconfig.json', 'package.json', 'package-lock.json'];
/** What they write (never inputs), and folders that are not sources. */
const SKIP = new Set(['node_modules', 'dist', '.cache']);
const OUTPUTS = ['trainer/dist/cli/main.js', 'electron/dist', 'renderer/dist/index.html'];
const STAMP = join(root, '.cache', 'build-stamp.json');

function* files(path) {
  const s = statSync(path, { throwIfNoEntry: false });
  if (!s) return;
  if (s.isFile()) {
    yield `${relative(root, path)} ${s.size} ${s.mtimeMs}`;
    return;
  }
  if (!s.isDirectory()) return;
  for (const name of readdirSync(path).sort()) if (!SKIP.has(name)) yield* files(join(path, name));
}

function inputKey() {
  const h = createHash('sha256');
  h.update(`${process.version}\n${STEPS.join('\n')}\n`);
  for (const p of INPUTS) for (const line of files(join(root, p))) h.update(`${line}\n`);
  return h.digest('hex');
}

const force = process.argv.includes('--force');
const key = inputKey();
const previous = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : '';
if (!force && previous === key && OUTPUTS.every((o) => existsSync(join(root, o)))) {
  console.log('build: up to date (no source changed since the last build; npm run build -- --force rebuilds)');
  process.exit(0);
}
rmSync(STAMP, { force: true });
for (const step of STEPS) {
  const r = spawnSync(step, { cwd: root, stdio: 'inherit', shell: true });
  if (r.status !== 0) {
    console.error(`build: \`${step}\` failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}
mkdirSync(dirname(STAMP), { recursive: true });
// the key of the sources as they were when the build started: a file saved during the build rebuilds next time
writeFileSync(STAMP, `${key}\n`);
