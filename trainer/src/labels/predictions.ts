/**
 * A fine-tuned model's predictions on a schema's faces, kept apart from people's labels: a face's
 * predicted class (or each attribute) with its confidence and the probabilities. They order the
 * labelling queue and can be accepted (writeLabels with source 'accepted'); they never count as
 * labels unless a fine-tune is told to use accepted ones.
 */
import type Database from 'better-sqlite3';

export interface Prediction {
  image_id: number;
  slot: number;
  value: number;
  confidence: number;
  probs: number[] | Record<string, number> | null;
}

const now = () => new Date().toISOString();

export function savePredictions(
  db: Database.Database,
  runId: string,
  schemaId: number,
  rows: readonly Prediction[],
): void {
  const put = db.prepare(
    'INSERT OR REPLACE INTO predictions (run_id, image_id, schema_id, slot, value, confidence, probs, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const at = now();
  db.transaction(() => {
    for (const r of rows)
      put.run(
        runId,
        r.image_id,
        schemaId,
        r.slot,
        r.value,
        r.confidence,
        r.probs === null ? null : JSON.stringify(r.probs),
        at,
      );
  })();
}

export function predictionsOf(
  db: Database.Database,
  runId: string,
  schemaId: number,
  imageIds: readonly number[],
): Prediction[] {
  if (imageIds.length === 0) return [];
  const q = imageIds.map(() => '?').join(',');
  const rows = db
    .prepare(
      `SELECT image_id, slot, value, confidence, probs FROM predictions WHERE run_id = ? AND schema_id = ? AND image_id IN (${q}) ORDER BY image_id, slot`,
    )
    .all(runId, schemaId, ...imageIds) as (Omit<Prediction, 'probs'> & { probs: string | null })[];
  return rows.map((r) => ({ ...r, probs: r.probs === null ? null : (JSON.parse(r.probs) as Prediction['probs']) }));
}

/** The runs with predictions on a schema, with how many faces each covers. */
export function predictionRuns(
  db: Database.Database,
  schemaId: number,
): { run_id: string; images: number; at: string }[] {
  return db
    .prepare(
      'SELECT run_id, count(DISTINCT image_id) AS images, max(at) AS at FROM predictions WHERE schema_id = ? GROUP BY run_id ORDER BY at DESC',
    )
    .all(schemaId) as { run_id: string; images: number; at: string }[];
}

export function clearPredictions(db: Database.Database, runId: string, schemaId: number): number {
  return db.prepare('DELETE FROM predictions WHERE run_id = ? AND schema_id = ?').run(runId, schemaId).changes;
}
