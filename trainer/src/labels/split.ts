/**
 * The train/val/test split of a schema's labelled faces, made from a seed and kept in the store:
 * stratified by class for a class schema (each class split in the same proportions), random for
 * attributes. Faces already assigned keep their split unless asked to start over, so labelling
 * more later never moves a face between splits; new faces fill each class's split toward its
 * share.
 */
import type Database from 'better-sqlite3';
import { Rng } from '../util/rng.js';
import { CamdError } from '../util/errors.js';
import { resolveLabels, type LabelUse, type SplitName } from './resolve.js';

export interface SplitOptions {
  seed: number;
  /** Shares of validation and test (default 0.1 each). */
  val?: number;
  test?: number;
  /** Assign every labelled face again from the seed. */
  reassign?: boolean;
  use?: LabelUse;
}

export interface SplitCounts {
  train: number;
  val: number;
  test: number;
  /** Faces given a split now. */
  assigned: number;
  /** Per class (class schemas): counts per split. */
  byClass?: Record<string, { train: number; val: number; test: number }>;
}

export function makeSplit(db: Database.Database, schemaId: number, o: SplitOptions): SplitCounts {
  const val = o.val ?? 0.1;
  const test = o.test ?? 0.1;
  if (!(val >= 0 && test >= 0 && val + test < 1))
    throw new CamdError('input', 'validation and test shares are 0 or more and leave some for training', 'val');
  if (!Number.isInteger(o.seed) || o.seed < 0)
    throw new CamdError('input', 'the seed is a non-negative integer', 'seed');
  return db
    .transaction((): SplitCounts => {
      if (o.reassign) db.prepare('DELETE FROM label_splits WHERE schema_id = ?').run(schemaId);
      const r = resolveLabels(db, schemaId, o.use ?? 'human');
      const groups = new Map<string, { have: Record<SplitName, number>; fresh: number[] }>();
      for (const it of r.items) {
        const key = r.task === 'fer' ? r.names[it.labels[0]!]! : '';
        const g = groups.get(key) ?? { have: { train: 0, val: 0, test: 0 }, fresh: [] };
        if (it.split) g.have[it.split]++;
        else g.fresh.push(it.image_id);
        groups.set(key, g);
      }
      const ins = db.prepare('INSERT OR REPLACE INTO label_splits (schema_id, image_id, split) VALUES (?, ?, ?)');
      const rng = new Rng(o.seed).fork(`label-split-${schemaId}`);
      let assigned = 0;
      for (const [key, g] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        const ids = rng.fork(`class-${key}`).shuffle([...g.fresh].sort((a, b) => a - b));
        const n = g.have.train + g.have.val + g.have.test + ids.length;
        const want: Record<SplitName, number> = { test: Math.round(n * test), val: Math.round(n * val), train: 0 };
        want.train = n - want.test - want.val;
        for (const id of ids) {
          const s = (['test', 'val', 'train'] as const).find((x) => g.have[x] < want[x]) ?? 'train';
          ins.run(schemaId, id, s);
          g.have[s]++;
          assigned++;
        }
      }
      db.prepare('UPDATE label_schemas SET split_seed = ? WHERE id = ?').run(o.seed, schemaId);
      return { ...splitCounts(db, schemaId, r.task === 'fer'), assigned };
    })
    .immediate();
}

export function splitCounts(db: Database.Database, schemaId: number, byClass: boolean): Omit<SplitCounts, 'assigned'> {
  const totals = { train: 0, val: 0, test: 0 };
  for (const row of db
    .prepare('SELECT split, count(*) AS n FROM label_splits WHERE schema_id = ? GROUP BY split')
    .all(schemaId) as { split: SplitName; n: number }[])
    totals[row.split] = row.n;
  if (!byClass) return totals;
  const per: Record<string, { train: number; val: number; test: number }> = {};
  const r = resolveLabels(db, schemaId, 'human');
  for (const it of r.items) {
    if (!it.split) continue;
    const name = r.names[it.labels[0]!]!;
    per[name] ??= { train: 0, val: 0, test: 0 };
    per[name][it.split]++;
  }
  return { ...totals, byClass: per };
}
