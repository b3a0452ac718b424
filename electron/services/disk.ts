/**
 * Disk use of the data folder, by part, and the clean-up of what can be made again: the decode
 * cache and thumbnails (remade when needed), exports. The store and run folders are never touched
 * here (a run's files go with the run, `runs.delete`).
 */
import { existsSync, readdirSync, lstatSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CamdError } from 'camd-studio/trainer';
import type { AppPaths } from './paths.js';

export const CLEANABLE = ['cache', 'thumbs', 'exports'] as const;
export type Cleanable = (typeof CLEANABLE)[number];

/** Bytes and files below a folder (links are not followed). */
export function usage(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  if (!existsSync(dir)) return { bytes, files };
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) {
        try {
          bytes += lstatSync(p).size;
          files++;
        } catch {
          /* gone meanwhile */
        }
      }
    }
  }
  return { bytes, files };
}

export function diskUse(
  paths: AppPaths,
): { part: string; path: string; bytes: number; files: number; cleanable: boolean }[] {
  const parts: [string, string][] = [
    ['store', paths.db],
    ['cache', paths.cache],
    ['thumbs', paths.thumbs],
    ['runs', paths.runs],
    ['exports', paths.exports],
    ['logs', paths.logs],
  ];
  return parts.map(([part, path]) => {
    const u =
      part === 'store'
        ? ['', '-wal', '-shm'].reduce(
            (a, x) => (existsSync(path + x) ? { bytes: a.bytes + lstatSync(path + x).size, files: a.files + 1 } : a),
            { bytes: 0, files: 0 },
          )
        : usage(path);
    return { part, path, ...u, cleanable: (CLEANABLE as readonly string[]).includes(part) };
  });
}

export function clean(paths: AppPaths, what: Cleanable, activeRuns: number): { part: string; freedBytes: number } {
  if (what === 'cache' && activeRuns > 0)
    throw new CamdError('busy', 'a run is using the decode cache; clean it when no run is running', 'what');
  const dir = { cache: paths.cache, thumbs: paths.thumbs, exports: paths.exports }[what];
  const { bytes } = usage(dir);
  rmSync(dir, { recursive: true, force: true });
  return { part: what, freedBytes: bytes };
}
