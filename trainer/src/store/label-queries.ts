/**
 * The app's own touches of label schemas (the labelling module, trainer/src/labels, does the
 * rest): is there one, its dataset, and the seed its split was made with.
 */
import type Database from 'better-sqlite3';

export function hasLabelSchema(db: Database.Database, id: number): boolean {
  return db.prepare('SELECT 1 FROM label_schemas WHERE id = ?').get(id) !== undefined;
}

export function labelSchemaDataset(db: Database.Database, id: number): number | undefined {
  return db.prepare('SELECT dataset_id FROM label_schemas WHERE id = ?').pluck().get(id) as number | undefined;
}

export function setSplitSeed(db: Database.Database, schemaId: number, seed: number): void {
  db.prepare('UPDATE label_schemas SET split_seed = ? WHERE id = ?').run(seed, schemaId);
}
