/** A fine-tuning run's folder: created and locked for the run, refused when it holds a run already. */
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { removeStaleTemps } from '../util/atomic-file.js';
import { UserError } from '../util/errors.js';
import { FolderLock } from '../util/folder-lock.js';
import { makeFolder } from '../util/system-errors.js';

export interface RunFolder {
  lock: FolderLock;
  /** Unlocks the folder, and removes it when this run made it and never started (no finetune.json). */
  release: () => void;
}

/** Creates and locks the run folder; refuses one that holds a run already. */
export function openRunFolder(outDir: string): RunFolder {
  if (existsSync(outDir) && !statSync(outDir).isDirectory())
    throw new UserError(`--out ${outDir} is a file, not a folder`, 2, 'out');
  const created = !existsSync(outDir);
  makeFolder(outDir, 'the run folder');
  const lock = FolderLock.acquire(outDir, 'camd finetune');
  removeStaleTemps(outDir);
  if (existsSync(join(outDir, 'finetune.json'))) {
    lock.release();
    throw new UserError(`${outDir} already holds a fine-tuning run; choose another --out`, 2, 'out');
  }
  if (existsSync(join(outDir, 'run.json'))) {
    lock.release();
    const encoder = join(outDir, 'encoder.safetensors');
    throw new UserError(
      `${outDir} holds a pre-training run; choose another --out${existsSync(encoder) ? ` (to fine-tune its encoder: --init ${encoder})` : ''}`,
      2,
      'out',
    );
  }
  const release = () => {
    lock.release();
    // a run that failed before it started leaves no folder behind
    if (created && !existsSync(join(outDir, 'finetune.json'))) rmSync(outDir, { recursive: true, force: true });
  };
  return { lock, release };
}
