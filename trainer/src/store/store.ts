/**
 * The CAMD store: one SQLite file (better-sqlite3, WAL, busy timeout) holding datasets, images,
 * runs, metrics, checkpoints and evaluations. The CLI writes it with `--db`; the app reads it.
 * Writes are batched in transactions; every statement is prepared once.
 * The store owns its SQL: the trainer's reads and writes are here; the app's reads of each table
 * are in the *-queries.ts files beside it, reached through the methods of the app's section below.
 */
import type Database from 'better-sqlite3';
import { resolve } from 'node:path';
import { openStoreFile } from './open.js';
import { CamdError } from '../util/errors.js';
import { processState, type ProcessIdentity } from '../util/process-identity.js';
import { REACHED_FROM, RUN_STATUSES, WORKING_STATUSES, sqlList, type RunStatus } from '../protocol/run-status.js';
import type { CheckpointRow, DatasetRow, ImageRow, MetricPoint, NewImage, RunFields, RunKind, RunRow } from './rows.js';
import * as datasetQ from './dataset-queries.js';
import * as imageQ from './image-queries.js';
import * as runQ from './run-queries.js';
import * as resultQ from './result-queries.js';
import * as labelQ from './label-queries.js';

export { RUN_STATUSES, type RunStatus };
export type { CheckpointRow, DatasetRow, ImageRow, MetricPoint, NewImage, RunFields, RunKind, RunRow } from './rows.js';

const now = () => new Date().toISOString();

export class Store {
  readonly db: Database.Database;
  readonly file: string;

  /** `chooser`: how the user names another store, for the messages (the CLI's `--db`; the app's data folder). */
  constructor(file: string, o: { chooser?: string } = {}) {
    this.file = resolve(file);
    this.db = openStoreFile(this.file, o.chooser ?? '--db');
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  isOpen(): boolean {
    return this.db.open;
  }

  /** The database answers (the app's smoke check). */
  ping(): boolean {
    return this.db.prepare('SELECT 1').pluck().get() === 1;
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

  /**
   * A page of a dataset's images after `afterPath` in path order (keyset: each page is one short
   * read on the (dataset, path) index, so a long listing can give the event loop back between pages).
   */
  imagesAfter(datasetId: number, afterPath: string, limit: number): ImageRow[] {
    return this.db
      .prepare('SELECT * FROM images WHERE dataset_id = ? AND rel_path > ? ORDER BY rel_path LIMIT ?')
      .all(datasetId, afterPath, limit) as ImageRow[];
  }

  /** What a dataset's summary counts of each image, a page after `afterPath` in path order (keyset, as imagesAfter). */
  imageFactsAfter(
    datasetId: number,
    afterPath: string,
    limit: number,
  ): Pick<ImageRow, 'rel_path' | 'format' | 'status' | 'width' | 'height'>[] {
    return this.db
      .prepare(
        'SELECT rel_path, format, status, width, height FROM images WHERE dataset_id = ? AND rel_path > ? ORDER BY rel_path LIMIT ?',
      )
      .all(datasetId, afterPath, limit) as Pick<ImageRow, 'rel_path' | 'format' | 'status' | 'width' | 'height'>[];
  }

  /** Applies a scan result: upserts changed files, deletes removed ones, updates the counts (one transaction). */
  applyScan(datasetId: number, upserts: NewImage[], removed: string[]): void {
    this.db.transaction(() => {
      this.upsertImages(datasetId, upserts);
      this.removeImages(datasetId, removed);
      this.updateImageCounts(datasetId);
    })();
  }

  /** Records inspected files (new or changed), in one transaction. */
  upsertImages(datasetId: number, upserts: readonly NewImage[]): void {
    const up = this.db.prepare(`
      INSERT INTO images (dataset_id, rel_path, bytes, mtime_ms, width, height, format, sha256, status, error)
      VALUES (@dataset_id, @rel_path, @bytes, @mtime_ms, @width, @height, @format, @sha256, @status, @error)
      ON CONFLICT(dataset_id, rel_path) DO UPDATE SET
        bytes = excluded.bytes, mtime_ms = excluded.mtime_ms, width = excluded.width, height = excluded.height,
        format = excluded.format, sha256 = excluded.sha256, status = excluded.status, error = excluded.error`);
    this.db.transaction(() => {
      for (const im of upserts) up.run({ ...im, dataset_id: datasetId });
    })();
  }

  /** Forgets files that are gone, in one transaction. */
  removeImages(datasetId: number, removed: readonly string[]): void {
    const del = this.db.prepare('DELETE FROM images WHERE dataset_id = ? AND rel_path = ?');
    this.db.transaction(() => {
      for (const r of removed) del.run(datasetId, r);
    })();
  }

  /** The dataset's readable and unreadable counts as its images now are, and the time of the scan. */
  updateImageCounts(datasetId: number): void {
    this.db
      .prepare(`
      UPDATE datasets SET scanned_at = ?,
        image_count = (SELECT count(*) FROM images WHERE dataset_id = ? AND status = 'ok'),
        bad_count = (SELECT count(*) FROM images WHERE dataset_id = ? AND status = 'bad')
      WHERE id = ?`)
      .run(now(), datasetId, datasetId, datasetId);
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

  /** Changes a run's fields; a change of its status goes through setRunStatus (checked). */
  updateRun(id: string, f: RunFields & { status?: RunStatus }): void {
    const { status, ...rest } = f;
    if (status !== undefined) {
      this.setRunStatus(id, status, rest);
      return;
    }
    const keys = Object.keys(f) as (keyof typeof f)[];
    if (keys.length === 0) return;
    this.db.prepare(`UPDATE runs SET ${setClause(keys)}, updated_at = @updated_at WHERE id = @id`).run({
      ...f,
      updated_at: now(),
      id,
    });
  }

  /**
   * The one writer of a run's status (a new run is 'created' by createRun): the change, with the
   * run's other fields in `f`, in one statement, refused unless protocol/run-status.ts's
   * REACHED_FROM allows it. Who calls it, when:
   *  - the trainer, in the process that runs the run (a CLI command, or the worker the app's
   *    supervisor started): `running` when it starts or resumes it (claimRun); its end, `done`,
   *    `stopped` or `failed` — `interrupted` on a hard quit or when the worker's parent is gone
   *    (updateRun with a status);
   *  - any trainer command that opens the store, and the app at start-up: `interrupted` for the
   *    runs of a process that is gone (reapDeadRuns);
   *  - the app's supervisor (Supervisor.setStatus): `queued`; `pausing` or `stopping` while its
   *    worker finishes its step; `paused` or `stopped` for a run halted in the queue, `paused` for
   *    a worker's stop that was asked as a pause; `failed` or `interrupted` for a worker that ended
   *    without recording why;
   *  - imports of a run's folder (import-run, vit-import): `done` or `stopped`.
   * `only`: change it only while it still has this status and process (the caller's view of it).
   * Returns whether the run changed: not when there is no such run (as updateRun), or `only` no
   * longer holds.
   */
  setRunStatus(
    id: string,
    status: RunStatus,
    f: RunFields = {},
    only?: { status: RunStatus; pid: number | null },
  ): boolean {
    const keys = Object.keys(f) as (keyof RunFields)[];
    const sets = keys.length ? `${setClause(keys)}, ` : '';
    const guard = only ? ' AND status = @onlyStatus AND pid IS @onlyPid' : '';
    const res = this.db
      .prepare(
        `UPDATE runs SET ${sets}status = @status, updated_at = @updated_at WHERE id = @id AND status IN (${sqlList(REACHED_FROM[status])})${guard}`,
      )
      .run({ ...f, status, updated_at: now(), id, ...(only ? { onlyStatus: only.status, onlyPid: only.pid } : {}) });
    if (res.changes > 0) return true;
    const row = this.run(id);
    if (!row || (only && (row.status !== only.status || row.pid !== only.pid))) return false;
    throw new CamdError('internal', `run ${id} cannot become ${status}: it is ${row.status}`);
  }

  /** Records that `proc` now runs the run. */
  claimRun(id: string, proc: ProcessIdentity, f: RunFields = {}): void {
    this.setRunStatus(id, 'running', { ...f, pid: proc.pid, host: proc.host, pid_start: proc.start });
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
      const changed = this.setRunStatus(
        r.id,
        'interrupted',
        { error: why, finished_at: now() },
        { status: r.status, pid: r.pid },
      );
      if (changed) reaped.push({ ...r, status: 'interrupted', error: why });
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

  /** The run a checkpoint file belongs to (the encoder a run started from), if the store has it. */
  runOfCheckpointFile(path: string): string | null {
    const r = this.db.prepare('SELECT run_id FROM checkpoints WHERE path = ? LIMIT 1').get(path) as
      | { run_id: string }
      | undefined;
    return r?.run_id ?? null;
  }

  checkpoints(runId: string): CheckpointRow[] {
    return this.db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step').all(runId) as CheckpointRow[];
  }

  // ---- the app's reads (and its few writes), by table: *-queries.ts ----

  datasetSummaries(): datasetQ.DatasetSummary[] {
    return datasetQ.datasetSummaries(this.db);
  }

  /** The datasets made from `source` (its face crops). */
  derivedDatasetIds(source: number): number[] {
    return datasetQ.derivedDatasetIds(this.db, source);
  }

  /** Every dataset's last scan and counts (the app's watch for other processes' scans). */
  datasetMarks(): datasetQ.DatasetMark[] {
    return datasetQ.datasetMarks(this.db);
  }

  datasetSummary(id: number): datasetQ.DatasetSummary | undefined {
    return datasetQ.datasetSummary(this.db, id);
  }

  unfinishedRunCount(datasetId: number): number {
    return datasetQ.unfinishedRunCount(this.db, datasetId);
  }

  deleteDataset(id: number): void {
    datasetQ.deleteDataset(this.db, id);
  }

  labelValueCounts(datasetId: number): datasetQ.LabelValueCount[] {
    return datasetQ.labelValueCounts(this.db, datasetId);
  }

  imagePage(q: imageQ.ImagePageQuery): { total: number; items: imageQ.ImageSummaryRow[] } {
    return imageQ.imagePage(this.db, q);
  }

  image(id: number): ImageRow | undefined {
    return imageQ.image(this.db, id);
  }

  imageLabels(id: number): imageQ.ImageLabel[] {
    return imageQ.imageLabels(this.db, id);
  }

  imageIdAt(datasetId: number, relPath: string): number | undefined {
    return imageQ.imageIdAt(this.db, datasetId, relPath);
  }

  imageFile(id: number): ReturnType<typeof imageQ.imageFile> {
    return imageQ.imageFile(this.db, id);
  }

  readableImageCount(datasetId: number): number {
    return imageQ.readableImageCount(this.db, datasetId);
  }

  readableImage(datasetId: number, imageId: number): { id: number; rel_path: string } | undefined {
    return imageQ.readableImage(this.db, datasetId, imageId);
  }

  nthReadableImage(datasetId: number, n: number): { id: number; rel_path: string } | undefined {
    return imageQ.nthReadableImage(this.db, datasetId, n);
  }

  /** Every run's status, last step and last write (the app's watch for other processes' runs). */
  runMarks(): runQ.RunMark[] {
    return runQ.runMarks(this.db);
  }

  /** Changes whenever another connection (another process) commits to the file: SQLite's data_version. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  runSummary(id: string): runQ.RunSummaryRow | undefined {
    return runQ.runSummary(this.db, id);
  }

  runSummaries(f: runQ.RunFilter): runQ.RunSummaryRow[] {
    return runQ.runSummaries(this.db, f);
  }

  queuedRunIds(): string[] {
    return runQ.queuedRunIds(this.db);
  }

  deleteRun(id: string): void {
    runQ.deleteRun(this.db, id);
  }

  unfinishedRunsOnSchema(datasetId: number, schema: { id: number; name: string }): number {
    return runQ.unfinishedRunsOnSchema(this.db, datasetId, schema);
  }

  metricNames(runIds: readonly string[]): string[] {
    return resultQ.metricNames(this.db, runIds);
  }

  metricValueAt(runId: string, name: string, step: number): number | undefined {
    return resultQ.metricValueAt(this.db, runId, name, step);
  }

  metricPointsAfter(runId: string, name: string, afterStep: number): [number, number | null, number | null, number][] {
    return resultQ.metricPointsAfter(this.db, runId, name, afterStep);
  }

  checkpoint(id: number): CheckpointRow | undefined {
    return resultQ.checkpoint(this.db, id);
  }

  checkpointPaths(runId: string, kind: CheckpointRow['kind']): string[] {
    return resultQ.checkpointPaths(this.db, runId, kind);
  }

  fineTunedModelPath(runId: string): string | undefined {
    return resultQ.fineTunedModelPath(this.db, runId);
  }

  evaluations(runId: string): resultQ.EvaluationRow[] {
    return resultQ.evaluations(this.db, runId);
  }

  hasLabelSchema(id: number): boolean {
    return labelQ.hasLabelSchema(this.db, id);
  }

  labelSchemaDataset(id: number): number | undefined {
    return labelQ.labelSchemaDataset(this.db, id);
  }

  setSplitSeed(schemaId: number, seed: number): void {
    labelQ.setSplitSeed(this.db, schemaId, seed);
  }
}

/** `a = @a, b = @b` for the named fields (the keys are the writers' typed field names, never input). */
function setClause(keys: readonly string[]): string {
  return keys.map((k) => `${k} = @${k}`).join(', ');
}
