// A small tmpfs for full-disk and read-only tests (needs root; where it cannot be mounted the
// test is skipped with the reason printed, never silently).
import { spawnSync } from 'node:child_process';
import { tempDir } from './folders.js';

/** Mounts a tmpfs with `options` (e.g. 'size=96k', 'ro,size=64k'); returns its folder, or why not. */
export function mountTmpfs(options: string): { dir: string } | { why: string } {
  const dir = tempDir('tmpfs');
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  return m.status === 0 ? { dir } : { why: (m.stderr || m.error?.message || '').trim() };
}

export function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}

/** Runs `fn` with a fresh tmpfs of `options`, unmounted afterwards; skips the test where none can be mounted. */
export function withTmpfs(options: string, ctx: { skip: () => void }, fn: (dir: string) => void): void {
  const t = mountTmpfs(options);
  if ('why' in t) {
    console.warn(`skipping: cannot mount a tmpfs here (${t.why})`);
    ctx.skip();
    return;
  }
  try {
    fn(t.dir);
  } finally {
    unmount(t.dir);
  }
}
