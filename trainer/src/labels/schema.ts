/**
 * Label schemas of a dataset and their fields (store schema 4): create from a template or the
 * user's own names, add fields, rename, reorder shortcuts, delete and restore. A field's labels
 * are never dropped by an edit: renaming keeps them (they point at the field, not its name);
 * deleting hides the field and its labels, says how many, and restoring brings both back.
 */
import type Database from 'better-sqlite3';
import { CamdError } from '../util/errors.js';
import { defaultShortcuts, shortcutProblem, templateOf, type FieldKind, type SchemaTask } from './templates.js';

export interface LabelField {
  id: number;
  schema_id: number;
  kind: FieldKind;
  name: string;
  position: number;
  shortcut: string | null;
  min: number | null;
  max: number | null;
  unit: string | null;
  deleted_at: string | null;
}

export interface LabelSchema {
  id: number;
  dataset_id: number;
  name: string;
  task: SchemaTask;
  template: string | null;
  split_seed: number | null;
  created_at: string;
  /** Live fields by position: attributes (far) or classes (fer), then numbers and points. */
  fields: LabelField[];
  /** Deleted fields (restorable), with their labels kept. */
  deleted: LabelField[];
}

export interface ExtraField {
  kind: 'number' | 'point';
  name: string;
  min?: number;
  max?: number;
  unit?: string;
}

export interface NewSchema {
  datasetId: number;
  /** Default: the template's name. */
  name?: string;
  task?: SchemaTask;
  /** celeba40 | rafdb7 | ferplus8; or `names` of the user's own. */
  template?: string;
  names?: readonly string[];
  extras?: readonly ExtraField[];
}

const now = () => new Date().toISOString();

/** The kind of the main fields of a task. */
export const mainKind = (task: SchemaTask): 'attribute' | 'class' => (task === 'far' ? 'attribute' : 'class');

function cleanName(name: string, what: string, field: string): string {
  const n = name.trim();
  if (!n) throw new CamdError('input', `${what} needs a name`, field);
  if (n.length > 100) throw new CamdError('input', `${what} names are at most 100 characters`, field);
  return n;
}

export function getSchema(db: Database.Database, id: number): LabelSchema {
  const s = db.prepare('SELECT * FROM label_schemas WHERE id = ?').get(id) as
    | Omit<LabelSchema, 'fields' | 'deleted'>
    | undefined;
  if (!s) throw new CamdError('input', `there is no label schema ${id}`, 'schema');
  const all = db
    .prepare('SELECT * FROM label_fields WHERE schema_id = ? ORDER BY position, id')
    .all(id) as LabelField[];
  const order = (f: LabelField) => (f.kind === 'attribute' || f.kind === 'class' ? 0 : 1);
  const fields = all
    .filter((f) => f.deleted_at === null)
    .sort((a, b) => order(a) - order(b) || a.position - b.position);
  return { ...s, fields, deleted: all.filter((f) => f.deleted_at !== null) };
}

export function listSchemas(db: Database.Database, datasetId: number): LabelSchema[] {
  const ids = db
    .prepare('SELECT id FROM label_schemas WHERE dataset_id = ? ORDER BY created_at, id')
    .pluck()
    .all(datasetId) as number[];
  return ids.map((id) => getSchema(db, id));
}

export function schemaByName(db: Database.Database, datasetId: number, name: string): LabelSchema | undefined {
  const id = db
    .prepare('SELECT id FROM label_schemas WHERE dataset_id = ? AND name = ?')
    .pluck()
    .get(datasetId, name) as number | undefined;
  return id === undefined ? undefined : getSchema(db, id);
}

export function createSchema(db: Database.Database, n: NewSchema): LabelSchema {
  const t = n.template !== undefined ? templateOf(n.template) : undefined;
  if (n.template !== undefined && !t)
    throw new CamdError('input', `unknown template '${n.template}' (celeba40, rafdb7 or ferplus8)`, 'template');
  const task = t?.task ?? n.task;
  if (!task)
    throw new CamdError('input', 'a schema is attributes (far) or classes (fer): give a task or a template', 'task');
  if (t && n.task && n.task !== t.task)
    throw new CamdError('input', `the template ${t.id} is ${t.task === 'far' ? 'attributes' : 'classes'}`, 'task');
  const names = t
    ? [...t.names]
    : (n.names ?? []).map((x) => cleanName(x, task === 'far' ? 'an attribute' : 'a class', 'names'));
  if (task === 'fer' && names.length < 2)
    throw new CamdError('input', 'a class schema needs at least two classes', 'names');
  if (task === 'far' && names.length < 1)
    throw new CamdError('input', 'an attribute schema needs at least one attribute', 'names');
  const dup = names.find((x, i) => names.indexOf(x) !== i);
  if (dup) throw new CamdError('input', `'${dup}' is listed twice`, 'names');
  const name = cleanName(n.name ?? t?.name ?? (task === 'far' ? 'attributes' : 'classes'), 'a schema', 'name');
  if (!db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(n.datasetId))
    throw new CamdError('input', `there is no dataset ${n.datasetId}`, 'dataset');
  if (db.prepare('SELECT 1 FROM label_schemas WHERE dataset_id = ? AND name = ?').get(n.datasetId, name))
    throw new CamdError('input', `this dataset already has a schema named '${name}'`, 'name');
  const kind = mainKind(task);
  const keys = defaultShortcuts(kind, names.length);
  const id = db
    .transaction(() => {
      const sid = Number(
        db
          .prepare('INSERT INTO label_schemas (dataset_id, name, task, template, created_at) VALUES (?, ?, ?, ?, ?)')
          .run(n.datasetId, name, task, t?.id ?? null, now()).lastInsertRowid,
      );
      const ins = db.prepare(
        'INSERT INTO label_fields (schema_id, kind, name, position, shortcut, min, max, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      names.forEach((x, i) => ins.run(sid, kind, x, i, keys[i] ?? null, null, null, null));
      (n.extras ?? []).forEach((e, i) => {
        const en = cleanName(e.name, `a ${e.kind}`, 'extras');
        if (e.kind === 'number' && e.min !== undefined && e.max !== undefined && !(e.min < e.max))
          throw new CamdError('input', `${en}: min must be below max`, 'extras');
        ins.run(sid, e.kind, en, i, null, e.min ?? null, e.max ?? null, e.unit ?? null);
      });
      return sid;
    })
    .immediate();
  return getSchema(db, id);
}

/** Labels that point at a field (any labeller, any source), and the images they are on. */
export function labelsOnField(db: Database.Database, f: LabelField): { labels: number; images: number } {
  const r = (
    f.kind === 'class'
      ? db
          .prepare(
            'SELECT count(*) AS labels, count(DISTINCT image_id) AS images FROM annotations WHERE schema_id = ? AND slot = 0 AND value = ?',
          )
          .get(f.schema_id, f.id)
      : db
          .prepare(
            'SELECT count(*) AS labels, count(DISTINCT image_id) AS images FROM annotations WHERE schema_id = ? AND slot = ?',
          )
          .get(f.schema_id, f.id)
  ) as { labels: number; images: number };
  return r;
}

function fieldOf(db: Database.Database, id: number): LabelField {
  const f = db.prepare('SELECT * FROM label_fields WHERE id = ?').get(id) as LabelField | undefined;
  if (!f) throw new CamdError('input', `there is no label field ${id}`, 'field');
  return f;
}

/** Renames a field; its labels stay on it. Returns how many there are, and the old name (to undo). */
export function renameField(
  db: Database.Database,
  id: number,
  name: string,
): { field: LabelField; previous: string; labels: number; images: number } {
  const f = fieldOf(db, id);
  const n = cleanName(name, `a ${f.kind}`, 'name');
  if (
    n !== f.name &&
    db
      .prepare(
        'SELECT 1 FROM label_fields WHERE schema_id = ? AND kind = ? AND name = ? AND deleted_at IS NULL AND id != ?',
      )
      .get(f.schema_id, f.kind, n, id)
  ) {
    throw new CamdError('input', `this schema already has a ${f.kind} named '${n}'`, 'name');
  }
  db.prepare('UPDATE label_fields SET name = ? WHERE id = ?').run(n, id);
  return { field: fieldOf(db, id), previous: f.name, ...labelsOnField(db, f) };
}

/** Hides a field and its labels (kept; `restoreField` brings both back). Returns how many labels are hidden. */
export function deleteField(db: Database.Database, id: number): { field: LabelField; labels: number; images: number } {
  const f = fieldOf(db, id);
  if (f.deleted_at) throw new CamdError('input', `${f.name} is already deleted`, 'field');
  const s = getSchema(db, f.schema_id);
  const main = s.fields.filter((x) => x.kind === mainKind(s.task));
  if (f.kind === mainKind(s.task) && main.length <= (s.task === 'fer' ? 2 : 1))
    throw new CamdError(
      'input',
      `a ${s.task === 'fer' ? 'class schema keeps at least two classes' : 'schema keeps at least one attribute'}`,
      'field',
    );
  db.prepare('UPDATE label_fields SET deleted_at = ? WHERE id = ?').run(now(), id);
  return { field: fieldOf(db, id), ...labelsOnField(db, f) };
}

export function restoreField(db: Database.Database, id: number): { field: LabelField; labels: number; images: number } {
  const f = fieldOf(db, id);
  if (!f.deleted_at) throw new CamdError('input', `${f.name} is not deleted`, 'field');
  if (
    db
      .prepare('SELECT 1 FROM label_fields WHERE schema_id = ? AND kind = ? AND name = ? AND deleted_at IS NULL')
      .get(f.schema_id, f.kind, f.name)
  ) {
    throw new CamdError('input', `a live ${f.kind} is named '${f.name}': rename it first`, 'field');
  }
  db.prepare('UPDATE label_fields SET deleted_at = NULL WHERE id = ?').run(id);
  return { field: fieldOf(db, id), ...labelsOnField(db, f) };
}

export function addField(
  db: Database.Database,
  schemaId: number,
  e: { kind: FieldKind; name: string; min?: number; max?: number; unit?: string; shortcut?: string },
): LabelField {
  const s = getSchema(db, schemaId);
  if ((e.kind === 'attribute' || e.kind === 'class') && e.kind !== mainKind(s.task))
    throw new CamdError('input', `a ${s.task === 'far' ? 'attribute' : 'class'} schema has no ${e.kind}s`, 'kind');
  const name = cleanName(e.name, `a ${e.kind}`, 'name');
  if (
    db
      .prepare('SELECT 1 FROM label_fields WHERE schema_id = ? AND kind = ? AND name = ? AND deleted_at IS NULL')
      .get(schemaId, e.kind, name)
  )
    throw new CamdError('input', `this schema already has a ${e.kind} named '${name}'`, 'name');
  if (e.kind === 'number' && e.min !== undefined && e.max !== undefined && !(e.min < e.max))
    throw new CamdError('input', 'min must be below max', 'min');
  const taken = s.fields.map((f) => f.shortcut).filter((k): k is string => k !== null);
  let key: string | null = null;
  if (e.shortcut !== undefined) key = checkShortcut(e.shortcut, taken);
  else if (e.kind === 'attribute' || e.kind === 'class') key = defaultShortcuts(e.kind, 1, taken)[0] ?? null;
  const position =
    (db
      .prepare('SELECT coalesce(max(position), -1) + 1 FROM label_fields WHERE schema_id = ? AND kind = ?')
      .pluck()
      .get(schemaId, e.kind) as number) ?? 0;
  const id = Number(
    db
      .prepare(
        'INSERT INTO label_fields (schema_id, kind, name, position, shortcut, min, max, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(schemaId, e.kind, name, position, key, e.min ?? null, e.max ?? null, e.unit ?? null).lastInsertRowid,
  );
  return fieldOf(db, id);
}

function checkShortcut(key: string, taken: readonly string[]): string {
  const p = shortcutProblem(key);
  if (p) throw new CamdError('input', p, 'shortcut');
  if (taken.includes(key))
    throw new CamdError('input', `'${key}' is already the shortcut of another field`, 'shortcut');
  return key;
}

/** Gives a field a key (null: none). */
export function setShortcut(db: Database.Database, id: number, key: string | null): LabelField {
  const f = fieldOf(db, id);
  if (key !== null) {
    const taken = db
      .prepare(
        'SELECT shortcut FROM label_fields WHERE schema_id = ? AND deleted_at IS NULL AND id != ? AND shortcut IS NOT NULL',
      )
      .pluck()
      .all(f.schema_id, id) as string[];
    checkShortcut(key, taken);
  }
  db.prepare('UPDATE label_fields SET shortcut = ? WHERE id = ?').run(key, id);
  return fieldOf(db, id);
}

/** Deletes a schema with its labels, predictions and splits; returns how many labels went. */
export function deleteSchema(db: Database.Database, id: number): { labels: number } {
  getSchema(db, id);
  return db
    .transaction(() => {
      const labels = db.prepare('SELECT count(*) FROM annotations WHERE schema_id = ?').pluck().get(id) as number;
      db.prepare('DELETE FROM annotations_orphaned WHERE schema_id = ?').run(id);
      db.prepare('DELETE FROM annotation_log WHERE schema_id = ?').run(id);
      db.prepare('DELETE FROM label_schemas WHERE id = ?').run(id);
      return { labels };
    })
    .immediate();
}
