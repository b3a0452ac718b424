/**
 * Writing labels: every action (one key, one grid apply, one accepted prediction) is one batch,
 * committed in one transaction before it is acknowledged — a killed process loses nothing it
 * acknowledged (WAL). Each change is logged with before and after, who and when: undo reverts a
 * labeller's last batch, redo reapplies it, and a new action after an undo drops the redo.
 * Annotations are per labeller: two people's labels of the same face are both kept.
 */
import type Database from 'better-sqlite3';
import { CamdError } from '../util/errors.js';
import { getSchema, type LabelSchema } from './schema.js';

export type AnnotationSource = 'human' | 'import' | 'accepted';

export interface Annotation {
  image_id: number;
  schema_id: number;
  /** 0: the schema's class (value: the class field's id); else the field's id. */
  slot: number;
  labeller: string;
  value: number;
  y: number | null;
  source: AnnotationSource;
  run_id: string | null;
  at: string;
}

export interface LabelChange {
  /** 0 for the class of a class schema; else a field id. */
  slot: number;
  /** null: remove this labeller's label. */
  value: number | null;
  /** Points: y (x is `value`), both in [0, 1] of the image. */
  y?: number | null;
}

export interface WriteRequest {
  schemaId: number;
  imageIds: readonly number[];
  labeller: string;
  changes: readonly LabelChange[];
  /** 'accepted': a model's prediction taken as it is (`runId` says whose). */
  source?: 'human' | 'accepted';
  runId?: string;
}

export interface WriteResult {
  /** The action's batch (null: nothing changed). */
  batch: number | null;
  changed: number;
}

const now = () => new Date().toISOString();

export function checkLabeller(labeller: string): string {
  const l = labeller.trim();
  if (!l || l.length > 64) throw new CamdError('input', 'the labeller is a name of 1 to 64 characters', 'labeller');
  if (l.startsWith('import'))
    throw new CamdError('input', "labeller names starting with 'import' are kept for label files", 'labeller');
  return l;
}

/** A change checked against the schema: the slot exists and is live, the value fits it. */
function checkChange(s: LabelSchema, c: LabelChange): void {
  if (c.value === null) return;
  if (!Number.isFinite(c.value)) throw new CamdError('input', 'a label value must be a finite number', 'value');
  if (c.slot === 0) {
    if (s.task !== 'fer') throw new CamdError('input', 'slot 0 is the class of a class schema', 'slot');
    const cls = s.fields.find((f) => f.id === c.value && f.kind === 'class');
    if (!cls) throw new CamdError('input', `${c.value} is not a class of ${s.name}`, 'value');
    return;
  }
  const f = s.fields.find((x) => x.id === c.slot);
  if (!f || f.kind === 'class') throw new CamdError('input', `${c.slot} is not a live field of ${s.name}`, 'slot');
  if (f.kind === 'attribute' && c.value !== 0 && c.value !== 1)
    throw new CamdError('input', `${f.name} is 0 or 1`, 'value');
  if (f.kind === 'number' && ((f.min !== null && c.value < f.min) || (f.max !== null && c.value > f.max)))
    throw new CamdError('input', `${f.name} is between ${f.min ?? '−∞'} and ${f.max ?? '∞'}`, 'value');
  if (f.kind === 'point') {
    if (c.y === undefined || c.y === null || !Number.isFinite(c.y))
      throw new CamdError('input', `${f.name} is a point: x and y`, 'y');
    if (c.value < 0 || c.value > 1 || c.y < 0 || c.y > 1)
      throw new CamdError('input', `${f.name}: x and y are fractions of the image, 0 to 1`, 'value');
  }
}

interface Prepared {
  get: Database.Statement;
  put: Database.Statement;
  del: Database.Statement;
  log: Database.Statement;
}

function prepared(db: Database.Database): Prepared {
  return {
    get: db.prepare(
      'SELECT value, y, source, run_id FROM annotations WHERE image_id = ? AND schema_id = ? AND slot = ? AND labeller = ?',
    ),
    put: db.prepare(
      `INSERT INTO annotations (image_id, schema_id, slot, labeller, value, y, source, run_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (image_id, schema_id, slot, labeller) DO UPDATE SET value = excluded.value, y = excluded.y, source = excluded.source, run_id = excluded.run_id, at = excluded.at`,
    ),
    del: db.prepare('DELETE FROM annotations WHERE image_id = ? AND schema_id = ? AND slot = ? AND labeller = ?'),
    log: db.prepare(
      `INSERT INTO annotation_log (batch, schema_id, image_id, slot, labeller, before_value, before_y, before_source, before_run, after_value, after_y, after_source, after_run, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };
}

type Cell = { value: number; y: number | null; source: string; run_id: string | null } | undefined;

function same(a: Cell, b: { value: number | null; y: number | null; source: string; run_id: string | null }): boolean {
  if (!a) return b.value === null;
  return (
    b.value !== null &&
    a.value === b.value &&
    (a.y ?? null) === (b.y ?? null) &&
    a.source === b.source &&
    (a.run_id ?? null) === (b.run_id ?? null)
  );
}

/** Applies one action; returns its batch once committed. */
export function writeLabels(db: Database.Database, r: WriteRequest): WriteResult {
  const labeller = checkLabeller(r.labeller);
  const s = getSchema(db, r.schemaId);
  if (r.imageIds.length === 0 || r.changes.length === 0)
    throw new CamdError('input', 'nothing to label: no image or no change', 'imageIds');
  if (r.imageIds.length > 10_000) throw new CamdError('input', 'at most 10 000 images in one action', 'imageIds');
  for (const c of r.changes) checkChange(s, c);
  const source = r.source ?? 'human';
  if (source === 'accepted' && !r.runId) throw new CamdError('input', 'an accepted prediction names its run', 'runId');
  const ids = [...new Set(r.imageIds)];
  const q = ids.map(() => '?').join(',');
  const ok = db
    .prepare(`SELECT count(*) FROM images WHERE id IN (${q}) AND dataset_id = ? AND status = 'ok'`)
    .pluck()
    .get(...ids, s.dataset_id) as number;
  if (ok !== ids.length)
    throw new CamdError(
      'input',
      `${ids.length - ok} of the images are not readable images of this schema's dataset`,
      'imageIds',
    );
  const p = prepared(db);
  return db
    .transaction((): WriteResult => {
      const batch = ((db.prepare('SELECT max(batch) FROM annotation_log').pluck().get() as number | null) ?? 0) + 1;
      const at = now();
      let changed = 0;
      for (const image of ids) {
        for (const c of r.changes) {
          const before = p.get.get(image, s.id, c.slot, labeller) as Cell;
          const after = { value: c.value, y: c.y ?? null, source, run_id: source === 'accepted' ? r.runId! : null };
          if (same(before, after)) continue;
          if (c.value === null) p.del.run(image, s.id, c.slot, labeller);
          else p.put.run(image, s.id, c.slot, labeller, c.value, after.y, source, after.run_id, at);
          p.log.run(
            batch,
            s.id,
            image,
            c.slot,
            labeller,
            before?.value ?? null,
            before?.y ?? null,
            before?.source ?? null,
            before?.run_id ?? null,
            c.value,
            after.y,
            c.value === null ? null : source,
            after.run_id,
            at,
          );
          changed++;
        }
      }
      if (changed === 0) return { batch: null, changed: 0 };
      // a new action ends what could be redone
      db.prepare('UPDATE annotation_log SET state = 2 WHERE schema_id = ? AND labeller = ? AND state = 1').run(
        s.id,
        labeller,
      );
      return { batch, changed };
    })
    .immediate();
}

export interface UndoResult {
  batch: number;
  images: number[];
  changes: number;
}

function applyLogged(db: Database.Database, rows: LogRow[], side: 'before' | 'after'): void {
  const p = prepared(db);
  const at = now();
  for (const row of rows) {
    const v = side === 'before' ? row.before_value : row.after_value;
    if (v === null) p.del.run(row.image_id, row.schema_id, row.slot, row.labeller);
    else
      p.put.run(
        row.image_id,
        row.schema_id,
        row.slot,
        row.labeller,
        v,
        side === 'before' ? row.before_y : row.after_y,
        side === 'before' ? row.before_source : row.after_source,
        side === 'before' ? row.before_run : row.after_run,
        at,
      );
  }
}

interface LogRow {
  seq: number;
  batch: number;
  schema_id: number;
  image_id: number;
  slot: number;
  labeller: string;
  before_value: number | null;
  before_y: number | null;
  before_source: string | null;
  before_run: string | null;
  after_value: number | null;
  after_y: number | null;
  after_source: string | null;
  after_run: string | null;
}

/** Reverts the labeller's last action in this schema; null when there is none. */
export function undoLabels(db: Database.Database, schemaId: number, labellerIn: string): UndoResult | null {
  const labeller = checkLabeller(labellerIn);
  return db
    .transaction((): UndoResult | null => {
      const batch = db
        .prepare('SELECT max(batch) FROM annotation_log WHERE schema_id = ? AND labeller = ? AND state = 0')
        .pluck()
        .get(schemaId, labeller) as number | null;
      if (batch === null) return null;
      const rows = db.prepare('SELECT * FROM annotation_log WHERE batch = ? ORDER BY seq DESC').all(batch) as LogRow[];
      applyLogged(db, rows, 'before');
      db.prepare('UPDATE annotation_log SET state = 1 WHERE batch = ?').run(batch);
      return { batch, images: [...new Set(rows.map((r) => r.image_id))], changes: rows.length };
    })
    .immediate();
}

/** Reapplies the labeller's last undone action; null when there is none. */
export function redoLabels(db: Database.Database, schemaId: number, labellerIn: string): UndoResult | null {
  const labeller = checkLabeller(labellerIn);
  return db
    .transaction((): UndoResult | null => {
      const batch = db
        .prepare(
          'SELECT min(batch) FROM annotation_log WHERE schema_id = ? AND labeller = ? AND state = 1 AND batch > coalesce((SELECT max(batch) FROM annotation_log WHERE schema_id = ? AND labeller = ? AND state = 0), 0)',
        )
        .pluck()
        .get(schemaId, labeller, schemaId, labeller) as number | null;
      // the most recently undone is the lowest undone batch above the last done one: redo in order
      if (batch === null) return null;
      const rows = db.prepare('SELECT * FROM annotation_log WHERE batch = ? ORDER BY seq').all(batch) as LogRow[];
      applyLogged(db, rows, 'after');
      db.prepare('UPDATE annotation_log SET state = 0 WHERE batch = ?').run(batch);
      return { batch, images: [...new Set(rows.map((r) => r.image_id))], changes: rows.length };
    })
    .immediate();
}

/** Whether the labeller can undo / redo in this schema. */
export function undoState(
  db: Database.Database,
  schemaId: number,
  labeller: string,
): { canUndo: boolean; canRedo: boolean } {
  const done = db
    .prepare('SELECT max(batch) FROM annotation_log WHERE schema_id = ? AND labeller = ? AND state = 0')
    .pluck()
    .get(schemaId, labeller) as number | null;
  const undone = db
    .prepare('SELECT max(batch) FROM annotation_log WHERE schema_id = ? AND labeller = ? AND state = 1')
    .pluck()
    .get(schemaId, labeller) as number | null;
  return { canUndo: done !== null, canRedo: undone !== null && undone > (done ?? 0) };
}

/** Every labeller's labels of some images in a schema. */
export function annotationsOf(db: Database.Database, schemaId: number, imageIds: readonly number[]): Annotation[] {
  if (imageIds.length === 0) return [];
  const q = imageIds.map(() => '?').join(',');
  return db
    .prepare(`SELECT * FROM annotations WHERE schema_id = ? AND image_id IN (${q}) ORDER BY image_id, slot, labeller`)
    .all(schemaId, ...imageIds) as Annotation[];
}

/** Who changed what, newest first. */
export function historyOf(
  db: Database.Database,
  schemaId: number,
  imageId: number,
  limit = 50,
): (LogRow & { at: string; state: number })[] {
  return db
    .prepare('SELECT * FROM annotation_log WHERE schema_id = ? AND image_id = ? ORDER BY seq DESC LIMIT ?')
    .all(schemaId, imageId, limit) as (LogRow & { at: string; state: number })[];
}
