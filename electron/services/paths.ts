/**
 * Where the app keeps its data: one folder (the CLI's CAMD_HOME by default, so a run made with
 * `camd` on this machine opens in the app), holding the store, the decode cache, the run folders,
 * thumbnails, run logs and exports. Dataset folders are referenced in place, never copied.
 */
import { join, resolve } from 'node:path';
import { camdHome } from 'camd-studio/trainer';

export interface AppPaths {
  root: string;
  /** The SQLite store. */
  db: string;
  /** Decoded, resized images (the trainer's decode cache), beside the store. */
  cache: string;
  /** One folder a run, named by its id. */
  runs: string;
  /** WebP thumbnails by content hash. */
  thumbs: string;
  /** One log file a run (its worker's events and stderr). */
  logs: string;
  exports: string;
}

/** The data folder: --data-dir, else CAMD_DATA_DIR, else the CLI's (CAMD_HOME, ~/.camd). */
export function dataDirFrom(flag?: string): string {
  return resolve(flag ?? process.env['CAMD_DATA_DIR'] ?? camdHome());
}

export function appPaths(root: string): AppPaths {
  const r = resolve(root);
  return {
    root: r,
    db: join(r, 'camd.db'),
    cache: join(r, 'cache'),
    runs: join(r, 'runs'),
    thumbs: join(r, 'thumbs'),
    logs: join(r, 'logs'),
    exports: join(r, 'exports'),
  };
}
