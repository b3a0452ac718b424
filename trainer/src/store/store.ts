/**
 * The CAMD store: one SQLite file (better-sqlite3, WAL, busy timeout) holding datasets, images,
 * runs, metrics, checkpoints and evaluations. The CLI writes it with `--db`; the app reads it.
 * Writes are batched in transactions; every statement is prepared once.
 */
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MIGRATIONS } from './migrations.js';
import { CamdError } from '../util/errors.js';
import { isSystemError, mkdirReason, systemReason } from '../util/system-errors.js';
import { processState, type ProcessIdentity } from '../util/process-identity.js';

export type RunKind = 'pretrain' | 'finetune' | 'eval';
import { RUN_STATUSES, WORKING_STATUSES, type RunStatus } from '../protocol/run-status.js';
export { RUN_STATUSES, type RunStatus };

export interface DatasetRow {
  id: number;
  root: string;
  name: string;
  created_at: string;
  scanned_at: string | null;
  image_count: number;
  bad_count: number;
  /** A derived dataset (face crops): its source dataset, and what made it (JSON). */
  source_dataset_id: number | null;
  derive: string | null;
}

export interface ImageRow {
  id: number;
  dataset_id: number;
  rel_path: string;
  bytes: number;
  mtime_ms: number;
  width: number | null;
  height: number | null;
  format: string | null;
  sha256: string | null;
  status: 'ok' | 'bad';
  error: string | null;
}

export type NewImage = Omit<ImageRow, 'id' | 'dataset_id'>;

export interface RunRow {
  id: string;
  kind: RunKind;
  name: string | null;
  dataset_id: number | null;
  parent_run_id: string | null;
  config: string;
  backend: string | null;
  backend_detail: string | null;
  status: RunStatus;
  seed: number;
  out_dir: string | null;
  error: string | null;
  last_step: number;
  total_steps: number | null;
  created_at: string;
  started_at: string | null;
  updated_at: string | null;
  finished_at: string | null;
  /** The process at work on the run (kept after it ends: the last one that ran it). */
  pid: number | null;
  host: string | null;
  pid_start: string | null;
  /** The spec the run was asked for, JSON (runs made by the app; null for the CLI's). */
  spec: string | null;
}

export interface MetricPoint {
  step: number;
  epoch: number | null;
  name: string;
  value: number;
  /** Wall-clock time of the point, ms since 1970 (null for points recorded before schema 3). */
  t?: number | null;
}

export interface CheckpointRow {
  id: number;
  run_id: string;
  step: number;
  kind: 'full' | 'encoder' | 'classifier' | 'last';
  path: string;
  sha256: string;
  bytes: number;
  created_at: string;
}

const now = () => new Date().toISOString();

export class Store {
  readonly db!: Database.Database;
  readonly file: string;

  private readonly chooser: string;

  /** `chooser`: how the user names another store, for the messages (the CLI's `--db`; the app's data folder). */
  constructor(file: string, o: { chooser?: string } = {}) {
    const chooser = (this.chooser = o.chooser ?? '--db');
    this.file = resolve(file);
    const where = `the store ${this.file}`;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
    } catch (e) {
      throw new CamdError('input', `cannot create the folder of ${where}: ${mkdirReason(dirname(this.file), e)}`);
    }
    try {
      if (statSync(this.file).isDirectory())
        throw new CamdError(
          'input',
          chooser === '--db'
            ? `${this.file} is a folder; --db names the store file (e.g. ${this.file}/camd.db)`
            : `${this.file} is a folder where the store's file belongs; use another ${chooser}`,
        );
    } catch (e) {
      if (e instanceof CamdError) throw e; // a missing file is created below
    }
    let db: Database.Database | null = null;
    try {
      db = new Database(this.file, { timeout: 10_000 });
      db.pragma('busy_timeout = 10000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      this.db = db;
      this.migrate();
      db.pragma('foreign_keys = ON');
    } catch (e) {
      db?.close();
      if (e instanceof CamdError) throw e;
      // the machine's failures are theirs (a full disk is disk-full, exit 4); a bad file is an input error
      const code = (e as { code?: string }).code ?? '';
      const kind =
        code === 'SQLITE_FULL' ||
        code === 'SQLITE_IOERR_SHMSIZE' ||
        (isSystemError(e) && (e.code === 'ENOSPC' || e.code === 'EDQUOT'))
          ? 'disk-full'
          : code.startsWith('SQLITE_IOERR')
            ? 'io'
            : 'input';
      throw new CamdError(kind, `cannot open ${where}: ${storeReason(e, chooser)}`);
    }
  }

  /** Applies pending migrations in one transaction each; refuses a store from a newer version or another application's database. */
  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new CamdError(
        'input',
        `the store ${this.file} has schema version ${version}, newer than this trainer understands (${MIGRATIONS.length}); update CAMD Studio, or use another ${this.chooser}`,
      );
    }
    if (version === 0) {
      const tables = (
        this.db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }
      ).n;
      if (tables > 0)
        throw new CamdError(
          'input',
          `${this.file} is an SQLite database of another application, not a CAMD store; use another ${this.chooser}`,
        );
    }
    if (version === MIGRATIONS.length) return;
    // tables are rebuilt by some migrations: foreign keys must be off (outside a transaction)
    this.db.pragma('foreign_keys = OFF');
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        const broken = this.db.pragma('foreign_key_check') as unknown[];
        if (broken.length) throw new Error(`migration ${v + 1} broke ${broken.length} foreign key(s)`);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- datasets and images ----

  datasetByRoot(root: string): DatasetRow | undefined {
    return this.db.prepare('SELECT * FROM datasets WHERE root = ?').get(root) as DatasetRow | undefined;
  }

  dataset(id: number): DatasetRow | undefined {
    return this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
  }

  ensureDataset(root: string, name: string): DatasetRow {
    this.db
      .prepare('INSERT INTO datasets (root, name, created_at) VALUES (?, ?, ?) ON CONFLICT(root) DO NOTHING')
      .run(root, name, now());
    return this.datasetByRoot(root)!;
  }

  images(datasetId: number, status?: 'ok' | 'bad'): ImageRow[] {
    return (
      status
        ? this.db
            .prepare('SELECT * FROM images WHERE dataset_id = ? AND status = ? ORDER BY rel_path')
            .all(datasetId, status)
        : this.db.prepare('SELECT * FROM images WHERE dataset_id = ? ORDER BY rel_path').all(datasetId)
    ) as ImageRow[];
  }

  /** Applies a scan result: upserts changed files, deletes removed ones, updates the counts. */
  applyScan(datasetId: number, upserts: NewImage[], removed: string[]): void {
    const up = this.db.prepare(`
      INSERT INTO images (dataset_id, rel_path, bytes, mtime_ms, width, height, format, sha256, status, error)
      VALUES (@dataset_id, @rel_path, @bytes, @mtime_ms, @width, @height, @format, @sha256, @status, @error)
      ON CONFLICT(dataset_id, rel_path) DO UPDATE SET
        bytes = excluded.bytes, mtime_ms = excluded.mtime_ms, width = excluded.width, height = excluded.height,
        format = excluded.format, sha256 = excluded.sha256, status = excluded.status, error = excluded.error`);
    const del = this.db.prepare('DELETE FROM images WHERE dataset_id = ? AND rel_path = ?');
    const counts = this.db.prepare(`
      UPDATE datasets SET scanned_at = ?,
        image_count = (SELECT count(*) FROM images WHERE dataset_id = ? AND status = 'ok'),
        bad_count = (SELECT count(*) FROM images WHERE dataset_id = ? AND status = 'bad')
      WHERE id = ?`);
    this.db.transaction(() => {
      for (const im of upserts) up.run({ ...im, dataset_id: datasetId });
      for (const r of removed) del.run(datasetId, r);
      counts.run(now(), datasetId, datasetId, datasetId);
    })();
  }

  // ---- runs ----

  createRun(r: {
    id: string;
    kind: RunKind;
    name?: string | null;
    datasetId?: number | null;
    parentRunId?: string | null;
    config: unknown;
    seed: number;
    outDir?: string | null;
    totalSteps?: number | null;
    spec?: unknown;
  }): RunRow {
    this.db
      .prepare(
        `INSERT INTO runs (id, kind, name, dataset_id, parent_run_id, config, status, seed, out_dir, total_steps, created_at, updated_at, spec)
         VALUES (?, ?, ?, ?, ?, ?, 'created', ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.id,
        r.kind,
        r.name ?? null,
        r.datasetId ?? null,
        r.parentRunId ?? null,
        JSON.stringify(r.config),
        r.seed,
        r.outDir ?? null,
        r.totalSteps ?? null,
        now(),
        now(),
        r.spec === undefined ? null : JSON.stringify(r.spec),
      );
    return this.run(r.id)!;
  }

  run(id: string): RunRow | undefined {
    return this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
  }

  runs(kind?: RunKind): RunRow[] {
    return (
      kind
        ? this.db.prepare('SELECT * FROM runs WHERE kind = ? ORDER BY created_at').all(kind)
        : this.db.prepare('SELECT * FROM runs ORDER BY created_at').all()
    ) as RunRow[];
  }

  updateRun(
    id: string,
    f: Partial<
      Pick<
        RunRow,
        | 'status'
        | 'backend'
        | 'backend_detail'
        | 'error'
        | 'last_step'
        | 'total_steps'
        | 'started_at'
        | 'finished_at'
        | 'config'
        | 'pid'
        | 'host'
        | 'pid_start'
        | 'dataset_id'
        | 'out_dir'
        | 'name'
        | 'parent_run_id'
        | 'spec'
      >
    >,
  ): void {
    const keys = Object.keys(f) as (keyof typeof f)[];
    if (keys.length === 0) return;
    const sets = keys.map((k) => `${k} = @${k}`).join(', ');
    this.db
      .prepare(`UPDATE runs SET ${sets}, updated_at = @updated_at WHERE id = @id`)
      .run({ ...f, updated_at: now(), id });
  }

  /** Records that `proc` now runs the run. */
  claimRun(id: string, proc: ProcessIdentity, f: Parameters<Store['updateRun']>[1] = {}): void {
    this.updateRun(id, { ...f, status: 'running', pid: proc.pid, host: proc.host, pid_start: proc.start });
  }

  /**
   * Runs left active by a process that is gone (killed, crashed, power lost) become
   * 'interrupted', with the reason; runs of live processes and of other hosts are left alone.
   * Returns the runs it changed.
   */
  reapDeadRuns(): RunRow[] {
    const q = WORKING_STATUSES.map(() => '?').join(',');
    const active = this.db.prepare(`SELECT * FROM runs WHERE status IN (${q})`).all(...WORKING_STATUSES) as RunRow[];
    const reaped: RunRow[] = [];
    for (const r of active) {
      if (processState({ pid: r.pid, host: r.host, start: r.pid_start }) !== 'gone') continue;
      const why = `the process that ran it (pid ${r.pid} on ${r.host}) ended without recording why: killed, crashed or the machine stopped (last recorded step ${r.last_step})`;
      // only if nobody changed it meanwhile
      const res = this.db
        .prepare(
          `UPDATE runs SET status = 'interrupted', error = ?, finished_at = ?, updated_at = ? WHERE id = ? AND status = ? AND pid IS ?`,
        )
        .run(why, now(), now(), r.id, r.status, r.pid);
      if (res.changes) reaped.push({ ...r, status: 'interrupted', error: why });
    }
    return reaped;
  }

  // ---- metrics ----

  /** Inserts a batch of points in one transaction (a repeated (run, name, step) replaces the old value). */
  addMetrics(runId: string, points: readonly MetricPoint[]): void {
    if (points.length === 0) return;
    const ins = this.db.prepare(
      'INSERT OR REPLACE INTO metrics (run_id, name, step, epoch, value, t) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const t = Date.now();
    this.db.transaction(() => {
      for (const p of points) ins.run(runId, p.name, p.step, p.epoch, p.value, p.t ?? t);
    })();
  }

  metrics(runIds: readonly string[], names?: readonly string[]): (MetricPoint & { run_id: string })[] {
    const rq = runIds.map(() => '?').join(',');
    const nq = names?.length ? ` AND name IN (${names.map(() => '?').join(',')})` : '';
    return this.db
      .prepare(
        `SELECT run_id, name, step, epoch, value FROM metrics WHERE run_id IN (${rq})${nq} ORDER BY run_id, name, step`,
      )
      .all(...runIds, ...(names ?? [])) as (MetricPoint & { run_id: string })[];
  }

  latestStep(runId: string): number | null {
    const r = this.db.prepare('SELECT max(step) AS s FROM metrics WHERE run_id = ?').get(runId) as { s: number | null };
    return r.s;
  }

  /** Drops metrics after a step (a resumed run replays from its checkpoint). */
  truncateMetrics(runId: string, afterStep: number): void {
    this.db.prepare('DELETE FROM metrics WHERE run_id = ? AND step > ?').run(runId, afterStep);
  }

  // ---- checkpoints ----

  addCheckpoint(c: Omit<CheckpointRow, 'id' | 'created_at'>): void {
    this.db
      .prepare(
        `INSERT INTO checkpoints (run_id, step, kind, path, sha256, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(run_id, step, kind) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256, bytes = excluded.bytes, created_at = excluded.created_at`,
      )
      .run(c.run_id, c.step, c.kind, c.path, c.sha256, c.bytes, now());
  }

  // ---- evaluations ----

  addEvaluation(e: {
    run_id: string;
    dataset_id: number | null;
    epoch: number | null;
    split: string;
    metric: string;
    value: number;
    detail?: unknown;
    selected?: boolean;
  }): void {
    this.db
      .prepare(
        'INSERT INTO evaluations (run_id, dataset_id, epoch, split, metric, value, detail, selected, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        e.run_id,
        e.dataset_id,
        e.epoch,
        e.split,
        e.metric,
        e.value,
        e.detail === undefined ? null : JSON.stringify(e.detail),
        e.selected ? 1 : 0,
        now(),
      );
  }

  /** Flags the evaluations of the epoch chosen by validation. */
  selectEvaluationEpoch(runId: string, epoch: number): void {
    this.db.prepare('UPDATE evaluations SET selected = 1 WHERE run_id = ? AND epoch = ?').run(runId, epoch);
  }

  /** Forgets checkpoint rows (files that were pruned, or that are gone). */
  removeCheckpoints(runId: string, paths: readonly string[]): void {
    const del = this.db.prepare('DELETE FROM checkpoints WHERE run_id = ? AND path = ?');
    this.db.transaction(() => {
      for (const p of paths) del.run(runId, p);
    })();
  }

  /** The one row of a kind that names one file (encoder.safetensors, best.safetensors): updated in place (its id stays), or added. */
  replaceCheckpoint(c: Omit<CheckpointRow, 'id' | 'created_at'>): void {
    this.db.transaction(() => {
      const rows = this.db
        .prepare('SELECT id FROM checkpoints WHERE run_id = ? AND kind = ? ORDER BY id')
        .pluck()
        .all(c.run_id, c.kind) as number[];
      if (rows.length === 0) return this.addCheckpoint(c);
      const keep = rows[rows.length - 1]!;
      this.db.prepare(`DELETE FROM checkpoints WHERE run_id = ? AND kind = ? AND id != ?`).run(c.run_id, c.kind, keep);
      this.db
        .prepare('UPDATE checkpoints SET step = ?, path = ?, sha256 = ?, bytes = ?, created_at = ? WHERE id = ?')
        .run(c.step, c.path, c.sha256, c.bytes, now(), keep);
    })();
  }

  checkpoints(runId: string): CheckpointRow[] {
    return this.db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step').all(runId) as CheckpointRow[];
  }
}

/** A store failure in words. */
function storeReason(e: unknown, chooser: string): string {
  const code = (e as { code?: string }).code ?? '';
  if (code === 'SQLITE_NOTADB') return `it is not an SQLite database (not a CAMD store); use another ${chooser}`;
  if (code.startsWith('SQLITE_CORRUPT')) return 'the database is damaged (corrupt)';
  if (code.startsWith('SQLITE_READONLY')) return 'it is read-only (a read-only file system or file)';
  if (code.startsWith('SQLITE_CANTOPEN')) return 'it cannot be opened or created (a read-only or missing folder?)';
  if (code === 'SQLITE_FULL') return 'the disk is full';
  if (code === 'SQLITE_IOERR_SHMSIZE') return 'the disk is full (its shared-memory file cannot grow)';
  if (code.startsWith('SQLITE_IOERR')) return `an input/output error (${code})`;
  if (isSystemError(e)) return systemReason(e);
  return (e as Error).message;
}
