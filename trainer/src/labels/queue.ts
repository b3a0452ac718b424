/**
 * The faces to label next: a page of a schema's dataset, filtered (unlabelled, labelled, not yet
 * by me, with a given label, where labellers disagree, where a label and the model disagree,
 * where the model is unsure) and ordered by path or by the model's uncertainty (least confident
 * first: the most useful faces to label).
 */
import type Database from 'better-sqlite3';
import { CamdError } from '../util/errors.js';
import { getSchema, mainKind } from './schema.js';

export const QUEUE_FILTERS = [
  'all',
  'unlabelled',
  'labelled',
  'not-mine',
  'disagreement',
  'model-disagreement',
  'low-confidence',
] as const;
export type QueueFilter = (typeof QUEUE_FILTERS)[number];

export interface QueueQuery {
  schemaId: number;
  filter?: QueueFilter;
  /** Faces with this label (slot 0 and a class id, or an attribute id and 0/1). */
  label?: { slot: number; value: number };
  /** The fine-tuned run whose predictions order and filter. */
  runId?: string;
  order?: 'path' | 'uncertainty';
  /** 'low-confidence': below this (default 0.6). */
  threshold?: number;
  /** 'not-mine': the labeller. */
  labeller?: string;
  offset?: number;
  limit?: number;
}

export interface QueueItem {
  image_id: number;
  rel_path: string;
  width: number | null;
  height: number | null;
  /** Labels of people or files on it (any labeller). */
  labelled: boolean;
  /** The run's least confident field on it (null: no prediction). */
  confidence: number | null;
}

export function queue(db: Database.Database, q: QueueQuery): { total: number; items: QueueItem[] } {
  const s = getSchema(db, q.schemaId);
  const filter = q.filter ?? 'all';
  const live = s.fields.filter((f) => f.kind === mainKind(s.task)).map((f) => f.id);
  const liveSlots = s.task === 'fer' ? '0' : live.join(',') || 'NULL';
  // a label counts when it is on a live field (a class schema: a live class)
  const liveCond =
    s.task === 'fer' ? `a.slot = 0 AND a.value IN (${live.join(',') || 'NULL'})` : `a.slot IN (${liveSlots})`;
  const params: Record<string, unknown> = { schema: s.id, dataset: s.dataset_id };
  const where: string[] = ['i.dataset_id = @dataset', "i.status = 'ok'"];
  const labelled = `EXISTS (SELECT 1 FROM annotations a WHERE a.image_id = i.id AND a.schema_id = @schema AND a.source != 'accepted' AND ${liveCond})`;
  const needsRun = filter === 'model-disagreement' || filter === 'low-confidence' || q.order === 'uncertainty';
  if (needsRun && !q.runId)
    throw new CamdError('input', 'choose a fine-tuned run: its predictions order and filter the queue', 'runId');
  if (q.runId) params['run'] = q.runId;
  switch (filter) {
    case 'all':
      break;
    case 'unlabelled':
      where.push(
        `NOT EXISTS (SELECT 1 FROM annotations a WHERE a.image_id = i.id AND a.schema_id = @schema AND ${liveCond})`,
      );
      break;
    case 'labelled':
      where.push(labelled);
      break;
    case 'not-mine':
      if (!q.labeller) throw new CamdError('input', "'not-mine' needs the labeller", 'labeller');
      params['me'] = q.labeller;
      where.push(
        `NOT EXISTS (SELECT 1 FROM annotations a WHERE a.image_id = i.id AND a.schema_id = @schema AND a.labeller = @me AND ${liveCond})`,
      );
      break;
    case 'disagreement':
      where.push(
        `EXISTS (SELECT 1 FROM annotations a WHERE a.image_id = i.id AND a.schema_id = @schema AND a.source != 'accepted' AND ${liveCond} GROUP BY a.slot HAVING count(DISTINCT a.value) > 1)`,
      );
      break;
    case 'model-disagreement':
      where.push(`EXISTS (SELECT 1 FROM annotations a JOIN predictions p ON p.run_id = @run AND p.schema_id = a.schema_id AND p.image_id = a.image_id AND p.slot = a.slot
                  WHERE a.image_id = i.id AND a.schema_id = @schema AND a.source != 'accepted' AND ${liveCond} AND a.value != p.value)`);
      break;
    case 'low-confidence':
      params['threshold'] = q.threshold ?? 0.6;
      where.push(
        '(SELECT min(p.confidence) FROM predictions p WHERE p.run_id = @run AND p.schema_id = @schema AND p.image_id = i.id) < @threshold',
      );
      break;
  }
  if (q.label) {
    params['lslot'] = q.label.slot;
    params['lvalue'] = q.label.value;
    where.push(
      "EXISTS (SELECT 1 FROM annotations a WHERE a.image_id = i.id AND a.schema_id = @schema AND a.source != 'accepted' AND a.slot = @lslot AND a.value = @lvalue)",
    );
  }
  const conf = q.runId
    ? '(SELECT min(p.confidence) FROM predictions p WHERE p.run_id = @run AND p.schema_id = @schema AND p.image_id = i.id)'
    : 'NULL';
  const order = q.order === 'uncertainty' ? 'confidence IS NULL, confidence, i.rel_path' : 'i.rel_path';
  const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
  const offset = Math.max(q.offset ?? 0, 0);
  const w = where.join(' AND ');
  const total = db.prepare(`SELECT count(*) FROM images i WHERE ${w}`).pluck().get(params) as number;
  const items = db
    .prepare(
      `SELECT i.id AS image_id, i.rel_path, i.width, i.height, ${labelled} AS labelled, ${conf} AS confidence FROM images i WHERE ${w} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`,
    )
    .all(params) as (Omit<QueueItem, 'labelled'> & { labelled: number })[];
  return { total, items: items.map((r) => ({ ...r, labelled: r.labelled === 1 })) };
}
