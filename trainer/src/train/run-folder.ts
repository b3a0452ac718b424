/**
 * A pre-training run folder and what lives in it:
 *
 *   run.json             run id, store, the settings of the computation, the run options
 *   images.json          the run's image list, fixed at its start
 *   events.jsonl         every event of the run
 *   checkpoints/         step-NNNNNNNN.ckpt (newest --keep-checkpoints); damaged ones moved aside
 *                        as *.corrupt until the next checkpoint
 *   .lock, lock.json     the folder's exclusive lock and who holds it (folder-lock.ts)
 *
 * Every write is atomic; the folder is locked for as long as a process works in it.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PRETRAIN_FIELDS, shapeOfRole } from '../protocol/pretrain-fields.js';
import { writeFileAtomic, removeStaleTemps } from '../util/atomic-file.js';
import { FolderLock } from '../util/folder-lock.js';
import { CamdError } from '../util/errors.js';
import { makeFolder, reasonOf } from '../util/system-errors.js';

/**
 * Run options: how a run is carried out, not what it computes (the fields of role `option`,
 * protocol/pretrain-fields.ts). They may change on resume. The backend is kept as written (a name
 * no longer known is refused with its own message); runs made before recomputation existed have
 * none (= auto).
 */
export const RunOptions = z.object({
  ...shapeOfRole(PRETRAIN_FIELDS, 'option'),
  backend: z.string(),
  recompute: PRETRAIN_FIELDS.recompute.schema.optional(),
  /** The representation-quality monitor (probe/): a labelled folder probed every `every` epochs (null: a tenth of the run) and at the end. */
  probe: z
    .object({
      data: z.string(),
      format: z.string(),
      schema: z.string().optional(),
      every: z.number().int().positive().nullable(),
    })
    .nullable()
    .optional(),
});
export type RunOptions = z.infer<typeof RunOptions>;

const CHECKPOINT_NAME = /^step-(\d{8})\.ckpt$/;

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}.ckpt`;
}

export function stepOfCheckpoint(file: string): number | null {
  const m = CHECKPOINT_NAME.exec(file.split(/[\\/]/).pop()!);
  return m ? Number(m[1]) : null;
}

export class RunFolder {
  lock: FolderLock | null = null;

  constructor(readonly dir: string) {}

  get runFile(): string {
    return join(this.dir, 'run.json');
  }
  get imagesFile(): string {
    return join(this.dir, 'images.json');
  }
  get eventsFile(): string {
    return join(this.dir, 'events.jsonl');
  }
  get checkpointsDir(): string {
    return join(this.dir, 'checkpoints');
  }

  /** Creates the folder (and checkpoints/); one line when the file system refuses. */
  create(): void {
    for (const d of [this.dir, this.checkpointsDir]) makeFolder(d, 'the run folder');
  }

  /**
   * Locks the folder for this process (refused with one line while another process holds it) and
   * removes what killed processes left: partial checkpoint files and other temporaries.
   */
  acquire(command: string): { removedTemps: string[]; removedBytes: number } {
    this.lock = FolderLock.acquire(this.dir, command);
    const a = removeStaleTemps(this.dir);
    const b = removeStaleTemps(this.checkpointsDir);
    return { removedTemps: [...a.files, ...b.files], removedBytes: a.bytes + b.bytes };
  }

  release(): void {
    this.lock?.release();
    this.lock = null;
  }

  /** run.json, validated; one line saying what is wrong with it. */
  readJson<T>(file: string, schema: z.ZodType<T>, what: string): T {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CamdError(
        'input',
        code === 'ENOENT' ? `${file} is missing (${what})` : `cannot read ${file}: ${reasonOf(e)}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CamdError('input', `${file} is damaged: not valid JSON (${what})`);
    }
    const r = schema.safeParse(json);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new CamdError(
        'input',
        `${file} is damaged or from another version: ${i.path.join('.') || 'the file'}: ${i.message}`,
      );
    }
    return r.data;
  }

  writeJson(file: string, value: unknown): void {
    writeFileAtomic(file, Buffer.from(`${JSON.stringify(value, null, 2)}\n`));
  }

  appendEvent(e: unknown): void {
    appendFileSync(this.eventsFile, `${JSON.stringify(e)}\n`);
  }

  /** Checkpoints, newest first. */
  checkpoints(): string[] {
    if (!existsSync(this.checkpointsDir)) return [];
    return readdirSync(this.checkpointsDir)
      .filter((f) => CHECKPOINT_NAME.test(f))
      .sort()
      .reverse()
      .map((f) => join(this.checkpointsDir, f));
  }

  /** Moves a damaged checkpoint out of the way (`<name>.corrupt`); prune() removes it later. */
  quarantine(file: string): string {
    const to = `${file}.corrupt`;
    renameSync(file, to);
    return to;
  }

  /**
   * Retention: keeps the newest `keep` checkpoints and `protect` (the one a run resumed from,
   * until enough newer ones exist), removes the rest and every quarantined damaged file.
   * Returns the removed files.
   */
  prune(keep: number, protect: ReadonlySet<string> = new Set()): string[] {
    const all = this.checkpoints();
    const removed: string[] = [];
    for (const f of all.slice(keep)) {
      if (protect.has(f)) continue;
      rmSync(f, { force: true });
      removed.push(f);
    }
    for (const f of readdirSync(this.checkpointsDir)) {
      if (!f.endsWith('.ckpt.corrupt')) continue;
      const p = join(this.checkpointsDir, f);
      rmSync(p, { force: true });
      removed.push(p);
    }
    return removed;
  }
}
