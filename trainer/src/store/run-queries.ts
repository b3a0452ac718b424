/**
 * The app's reads of runs: rows for its lists (with each run's headline number), the queue to take
 * up again at start-up, what a label schema's deletion would interrupt; and forgetting a run.
 */
import type Database from 'better-sqlite3';
import { sqlList, UNFINISHED_STATUSES, type RunStatus } from '../protocol/run-status.js';
import type { RunKind } from './rows.js';
import { EVAL_METRICS } from '../protocol/events.js';

/**
 * A run's row as the app lists it, with the run's headline: the last loss of a pre-training; the
 * selected test (else validation) accuracy of a fine-tuning or an evaluation, with its baselines
 * (JSON, from the evaluation's detail).
 */
export interface RunSummaryRow {
  id: string;
  kind: RunKind;
  name: string | null;
  status: RunStatus;
  dataset_id: number | null;
  parent_run_id: string | null;
  backend: string | null;
  last_step: number;
  total_steps: number | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string | null;
  spec: string | null;
  config: string;
  metric_value: number | null;
  metric_name: string | null;
  metric_baselines: string | null;
}

/** The evaluations a fine-tuning run's headline number is read from. */
const HEADLINE_METRICS = EVAL_METRICS.map((m) => `'${m}'`).join(', ');

const COLUMNS = `r.id, r.kind, r.name, r.status, r.dataset_id, r.parent_run_id, r.backend, r.last_step, r.total_steps, r.error,
  r.created_at, r.started_at, r.finished_at, r.updated_at, r.spec, r.config,
  CASE r.kind WHEN 'pretrain' THEN (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.name = 'loss' ORDER BY m.step DESC LIMIT 1)
    ELSE (SELECT value FROM evaluations e WHERE e.run_id = r.id AND e.selected = 1 AND e.split IN ('test', 'val') AND e.metric IN (${HEADLINE_METRICS}) ORDER BY e.split = 'test' DESC, e.id DESC LIMIT 1) END AS metric_value,
  CASE r.kind WHEN 'pretrain' THEN 'loss'
    ELSE (SELECT metric FROM evaluations e WHERE e.run_id = r.id AND e.selected = 1 AND e.split IN ('test', 'val') AND e.metric IN (${HEADLINE_METRICS}) ORDER BY e.split = 'test' DESC, e.id DESC LIMIT 1) END AS metric_name,
  CASE r.kind WHEN 'pretrain' THEN NULL
    ELSE (SELECT json_object('majority', json_extract(e.detail, '$.baselines.majority'), 'chance', json_extract(e.detail, '$.baselines.chance'), 'predicted', json_extract(e.detail, '$.predicted_classes'), 'constant', json_array_length(json_extract(e.detail, '$.constant_attributes')))
      FROM evaluations e WHERE e.run_id = r.id AND e.selected = 1 AND e.split IN ('test', 'val') AND e.metric IN (${HEADLINE_METRICS}) ORDER BY e.split = 'test' DESC, e.id DESC LIMIT 1) END AS metric_baselines`;

/** Which runs, in which order (the run's id breaks ties). */
export interface RunFilter {
  kind?: RunKind | undefined;
  statuses?: readonly RunStatus[] | undefined;
  dataset?: number | undefined;
  sort: 'created' | 'name' | 'status';
  order: 'asc' | 'desc';
}

export function runSummary(db: Database.Database, id: string): RunSummaryRow | undefined {
  return db.prepare(`SELECT ${COLUMNS} FROM runs r WHERE r.id = ?`).get(id) as RunSummaryRow | undefined;
}

export function runSummaries(db: Database.Database, f: RunFilter): RunSummaryRow[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.kind) where.push('r.kind = ?'), args.push(f.kind);
  if (f.statuses?.length) where.push(`r.status IN (${f.statuses.map(() => '?').join(',')})`), args.push(...f.statuses);
  if (f.dataset) where.push('r.dataset_id = ?'), args.push(f.dataset);
  const order = { created: 'r.created_at', name: 'coalesce(r.name, r.id)', status: 'r.status' }[f.sort];
  const w = where.join(' AND ');
  return db
    .prepare(
      `SELECT ${COLUMNS} FROM runs r${w ? ` WHERE ${w}` : ''} ORDER BY ${order} ${f.order === 'asc' ? 'ASC' : 'DESC'}, r.id`,
    )
    .all(...args) as RunSummaryRow[];
}

/** The app's queue as recorded: queued runs, in the order they were queued. */
export function queuedRunIds(db: Database.Database): string[] {
  return db
    .prepare("SELECT id FROM runs WHERE status = 'queued' ORDER BY updated_at, created_at")
    .pluck()
    .all() as string[];
}

/** Forgets a run: its metrics, checkpoint rows and evaluations go with it (cascades). */
export function deleteRun(db: Database.Database, id: string): void {
  db.prepare('DELETE FROM runs WHERE id = ?').run(id);
}

/** Runs of the dataset, queued or worked on, whose spec names the label schema (by id or by name). */
export function unfinishedRunsOnSchema(
  db: Database.Database,
  datasetId: number,
  schema: { id: number; name: string },
): number {
  return db
    .prepare(
      `SELECT count(*) FROM runs WHERE dataset_id = ? AND status IN (${sqlList(UNFINISHED_STATUSES)}) AND json_extract(spec, '$.schema') IN (?, ?)`,
    )
    .pluck()
    .get(datasetId, String(schema.id), schema.name) as number;
}

/** What tells that a run's row changed: its status, its last step and when it was last written. */
export interface RunMark {
  id: string;
  status: RunStatus;
  last_step: number;
  updated_at: string | null;
}

/** Every run's mark (a few hundred short rows: what another process's writes are found by). */
export function runMarks(db: Database.Database): RunMark[] {
  return db.prepare('SELECT id, status, last_step, updated_at FROM runs').all() as RunMark[];
}
