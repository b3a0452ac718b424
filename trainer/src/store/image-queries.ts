/**
 * The app's reads of images: pages of a dataset's images with filters, one image with its labels,
 * the file behind an id, and a dataset's readable images one at a time.
 */
import type Database from 'better-sqlite3';
import type { ImageRow } from './rows.js';

/** Which images of a dataset, and which page of them (in path order). */
export interface ImagePageQuery {
  dataset: number;
  offset: number;
  limit: number;
  status?: 'ok' | 'bad' | undefined;
  /** With (or without) a label in the labels table. */
  labelled?: boolean | undefined;
  /** With this label (task, name and value). */
  label?: { task: string; name: string; value: number } | undefined;
  /** Under this folder ('/'-separated, relative to the dataset's root). */
  folder?: string | undefined;
  /** A substring of the relative path, any case. */
  search?: string | undefined;
}

export type ImageSummaryRow = Pick<ImageRow, 'id' | 'rel_path' | 'width' | 'height' | 'status' | 'error'>;

export function imagePage(db: Database.Database, p: ImagePageQuery): { total: number; items: ImageSummaryRow[] } {
  const where = ['i.dataset_id = @dataset'];
  const args: Record<string, unknown> = { dataset: p.dataset, limit: p.limit, offset: p.offset };
  if (p.status) {
    where.push('i.status = @status');
    args['status'] = p.status;
  }
  if (p.labelled !== undefined)
    where.push(`${p.labelled ? '' : 'NOT '}EXISTS (SELECT 1 FROM labels l WHERE l.image_id = i.id)`);
  if (p.label) {
    where.push(
      'EXISTS (SELECT 1 FROM labels l WHERE l.image_id = i.id AND l.task = @ltask AND l.name = @lname AND l.value = @lvalue)',
    );
    Object.assign(args, { ltask: p.label.task, lname: p.label.name, lvalue: p.label.value });
  }
  if (p.folder) {
    // rel_path under the folder: a range on the (dataset, rel_path) index, no LIKE escaping needed
    const f = p.folder.replace(/^\/+|\/+$/g, '');
    where.push('i.rel_path >= @fromPath AND i.rel_path < @toPath');
    Object.assign(args, { fromPath: `${f}/`, toPath: `${f}0` }); // '0' follows '/' in code-point order
  }
  if (p.search) {
    where.push('instr(lower(i.rel_path), lower(@search)) > 0');
    args['search'] = p.search;
  }
  const w = where.join(' AND ');
  const total = (db.prepare(`SELECT count(*) AS n FROM images i WHERE ${w}`).get(args) as { n: number }).n;
  const items = db
    .prepare(
      `SELECT i.id, i.rel_path, i.width, i.height, i.status, i.error FROM images i WHERE ${w} ORDER BY i.rel_path LIMIT @limit OFFSET @offset`,
    )
    .all(args) as ImageSummaryRow[];
  return { total, items };
}

export function image(db: Database.Database, id: number): ImageRow | undefined {
  return db
    .prepare(
      'SELECT id, dataset_id, rel_path, bytes, mtime_ms, width, height, format, sha256, status, error FROM images WHERE id = ?',
    )
    .get(id) as ImageRow | undefined;
}

export interface ImageLabel {
  task: string;
  name: string;
  value: number;
  split: string | null;
}

/** An image's labels from label files (the labels table), by task and name. */
export function imageLabels(db: Database.Database, id: number): ImageLabel[] {
  return db
    .prepare('SELECT task, name, value, split FROM labels WHERE image_id = ? ORDER BY task, name')
    .all(id) as ImageLabel[];
}

/** The image of a dataset at a relative path. */
export function imageIdAt(db: Database.Database, datasetId: number, relPath: string): number | undefined {
  return db.prepare('SELECT id FROM images WHERE dataset_id = ? AND rel_path = ?').pluck().get(datasetId, relPath) as
    | number
    | undefined;
}

/** Where an image's file is: its path in its dataset's folder, with its hash and status. */
export function imageFile(
  db: Database.Database,
  id: number,
): { rel_path: string; sha256: string | null; status: string; root: string } | undefined {
  return db
    .prepare(
      'SELECT i.rel_path, i.sha256, i.status, d.root FROM images i JOIN datasets d ON d.id = i.dataset_id WHERE i.id = ?',
    )
    .get(id) as { rel_path: string; sha256: string | null; status: string; root: string } | undefined;
}

export function readableImageCount(db: Database.Database, datasetId: number): number {
  return db
    .prepare("SELECT count(*) FROM images WHERE dataset_id = ? AND status = 'ok'")
    .pluck()
    .get(datasetId) as number;
}

/** A readable image of the dataset, by id (undefined when it is not one). */
export function readableImage(
  db: Database.Database,
  datasetId: number,
  imageId: number,
): { id: number; rel_path: string } | undefined {
  return db
    .prepare("SELECT id, rel_path FROM images WHERE id = ? AND dataset_id = ? AND status = 'ok'")
    .get(imageId, datasetId) as { id: number; rel_path: string } | undefined;
}

/** The dataset's `n`-th readable image (from 0, in id order). */
export function nthReadableImage(
  db: Database.Database,
  datasetId: number,
  n: number,
): { id: number; rel_path: string } | undefined {
  return db
    .prepare("SELECT id, rel_path FROM images WHERE dataset_id = ? AND status = 'ok' ORDER BY id LIMIT 1 OFFSET ?")
    .get(datasetId, n) as { id: number; rel_path: string } | undefined;
}
