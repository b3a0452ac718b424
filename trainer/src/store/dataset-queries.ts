/**
 * The app's reads of datasets: the list with each dataset's labelled count, what forgetting one
 * would interrupt, and the numbers of its summary page (formats, resolutions, folders, labels).
 */
import type Database from 'better-sqlite3';
import { sqlList, UNFINISHED_STATUSES } from '../protocol/run-status.js';

/** A dataset's row as the app lists it. */
export interface DatasetSummary {
  id: number;
  name: string;
  root: string;
  created_at: string;
  scanned_at: string | null;
  image_count: number;
  bad_count: number;
  source_dataset_id: number | null;
  labelled_count: number;
}

/**
 * A dataset's row. Labelled: images with a label (made in the app, read from a label file, or an
 * accepted prediction) on a field that is not deleted — a class label names its class field, any
 * other its own field.
 */
const DATASET_COLUMNS = `d.id, d.name, d.root, d.created_at, d.scanned_at, d.image_count, d.bad_count, d.source_dataset_id,
  (SELECT count(*) FROM images i WHERE i.dataset_id = d.id AND EXISTS (
     SELECT 1 FROM annotations a JOIN label_fields f ON f.id = CASE WHEN a.slot = 0 THEN CAST(a.value AS INTEGER) ELSE a.slot END
     WHERE a.image_id = i.id AND f.deleted_at IS NULL)) AS labelled_count`;

export function datasetSummaries(db: Database.Database): DatasetSummary[] {
  return db.prepare(`SELECT ${DATASET_COLUMNS} FROM datasets d ORDER BY d.created_at, d.id`).all() as DatasetSummary[];
}

export function datasetSummary(db: Database.Database, id: number): DatasetSummary | undefined {
  return db.prepare(`SELECT ${DATASET_COLUMNS} FROM datasets d WHERE d.id = ?`).get(id) as DatasetSummary | undefined;
}

/** Runs of the dataset that are queued or worked on. */
export function unfinishedRunCount(db: Database.Database, datasetId: number): number {
  return (
    db
      .prepare(`SELECT count(*) AS n FROM runs WHERE dataset_id = ? AND status IN (${sqlList(UNFINISHED_STATUSES)})`)
      .get(datasetId) as { n: number }
  ).n;
}

/** Forgets a dataset: its images, faces and labels go with it (cascades); runs keep their records. */
export function deleteDataset(db: Database.Database, id: number): void {
  db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
}

export interface LabelValueCount {
  task: string;
  name: string;
  value: number;
  /** '' for labels without a split. */
  split: string;
  n: number;
}

/** The dataset's labels (the labels table: read from label files) counted per task, name, value and split. */
export function labelValueCounts(db: Database.Database, datasetId: number): LabelValueCount[] {
  return db
    .prepare(
      "SELECT l.task, l.name, l.value, coalesce(l.split, '') AS split, count(*) AS n FROM labels l JOIN images i ON i.id = l.image_id WHERE i.dataset_id = ? GROUP BY l.task, l.name, l.value, l.split",
    )
    .all(datasetId) as LabelValueCount[];
}

/** What tells that a dataset's index changed: when it was last scanned and its counts. */
export interface DatasetMark {
  id: number;
  scanned_at: string | null;
  image_count: number;
  bad_count: number;
}

/** The datasets made from this one (its face crops, `camd scan --faces`): ids only, no counting of images. */
export function derivedDatasetIds(db: Database.Database, source: number): number[] {
  return (db.prepare('SELECT id FROM datasets WHERE source_dataset_id = ?').all(source) as { id: number }[]).map(
    (r) => r.id,
  );
}

/** Every dataset's mark (cheap: no counting of images). */
export function datasetMarks(db: Database.Database): DatasetMark[] {
  return db.prepare('SELECT id, scanned_at, image_count, bad_count FROM datasets').all() as DatasetMark[];
}
