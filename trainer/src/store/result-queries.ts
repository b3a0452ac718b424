/**
 * The app's reads of what runs produced: metric series (read in increments by the curves),
 * checkpoints by id or by kind, and evaluations.
 */
import type Database from 'better-sqlite3';
import type { CheckpointRow } from './rows.js';

/** The names of the metrics the runs recorded, sorted. */
export function metricNames(db: Database.Database, runIds: readonly string[]): string[] {
  return db
    .prepare(`SELECT DISTINCT name FROM metrics WHERE run_id IN (${runIds.map(() => '?').join(',')}) ORDER BY name`)
    .pluck()
    .all(...runIds) as string[];
}

/** A metric's value at a step (undefined when there is none). */
export function metricValueAt(db: Database.Database, runId: string, name: string, step: number): number | undefined {
  return db
    .prepare('SELECT value FROM metrics WHERE run_id = ? AND name = ? AND step = ?')
    .pluck()
    .get(runId, name, step) as number | undefined;
}

/** A metric's points after a step, in step order, as [step, epoch, t, value]. */
export function metricPointsAfter(
  db: Database.Database,
  runId: string,
  name: string,
  afterStep: number,
): [number, number | null, number | null, number][] {
  return db
    .prepare('SELECT step, epoch, t, value FROM metrics WHERE run_id = ? AND name = ? AND step > ? ORDER BY step')
    .raw()
    .all(runId, name, afterStep) as [number, number | null, number | null, number][];
}

export function checkpoint(db: Database.Database, id: number): CheckpointRow | undefined {
  return db.prepare('SELECT * FROM checkpoints WHERE id = ?').get(id) as CheckpointRow | undefined;
}

/** The files of a run's checkpoints of a kind, newest step first. */
export function checkpointPaths(db: Database.Database, runId: string, kind: CheckpointRow['kind']): string[] {
  return db
    .prepare('SELECT path FROM checkpoints WHERE run_id = ? AND kind = ? ORDER BY step DESC')
    .pluck()
    .all(runId, kind) as string[];
}

/** A fine-tuning run's model: its selected classifier, else its newest last model. */
export function fineTunedModelPath(db: Database.Database, runId: string): string | undefined {
  return db
    .prepare(
      "SELECT path FROM checkpoints WHERE run_id = ? AND kind IN ('classifier', 'last') ORDER BY kind = 'classifier' DESC, step DESC LIMIT 1",
    )
    .pluck()
    .get(runId) as string | undefined;
}

export interface EvaluationRow {
  id: number;
  run_id: string;
  dataset_id: number | null;
  epoch: number | null;
  split: string;
  metric: string;
  value: number;
  /** 1 for the epoch chosen by validation. */
  selected: number;
  /** JSON. */
  detail: string | null;
}

export function evaluations(db: Database.Database, runId: string): EvaluationRow[] {
  return db
    .prepare(
      'SELECT id, run_id, dataset_id, epoch, split, metric, value, selected, detail FROM evaluations WHERE run_id = ? ORDER BY epoch, split, metric',
    )
    .all(runId) as EvaluationRow[];
}
