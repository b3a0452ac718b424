/**
 * One label per face and field, from everyone's annotations, for fine-tuning, splits and
 * exports: the majority of the people who labelled it; where no person did, the imported file's;
 * where neither, an accepted model prediction — only when asked (`use: 'human+accepted'`; the
 * default is people and files only, so a model's guesses never train a model silently). A tie
 * between people leaves the face out, and says so. A class schema's face has its class; an
 * attribute schema's face is used only when every live attribute has a value.
 */
import type Database from 'better-sqlite3';
import { getSchema, mainKind, type LabelSchema } from './schema.js';
import type { SchemaTask } from './templates.js';

export type LabelUse = 'human' | 'human+accepted';
export type SplitName = 'train' | 'val' | 'test';

export interface ResolvedImage {
  image_id: number;
  rel_path: string;
  /** far: 0/1 per live attribute (schema order); fer: [index of the class among the live classes]. */
  labels: number[];
  split: SplitName | null;
}

export interface Resolved {
  schema: LabelSchema;
  task: SchemaTask;
  /** Live attribute or class names, in label order. */
  names: string[];
  /** The field ids behind `names` (predictions map back through them). */
  fieldIds: number[];
  items: ResolvedImage[];
  /** Faces with labels that could not be used, by reason. */
  left: { ties: number; partial: number; deletedClass: number };
}

type Row = { image_id: number; rel_path: string; slot: number; value: number; source: string; split: SplitName | null };

/** The value the majority gives; null on a tie. */
function majority(values: number[]): number | null {
  if (values.length === 1) return values[0]!;
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: number | null = null;
  let n = 0;
  let tie = false;
  for (const [v, c] of counts) {
    if (c > n) {
      best = v;
      n = c;
      tie = false;
    } else if (c === n) tie = true;
  }
  return tie ? null : best;
}

/** The resolved value of one slot from its rows; undefined: none, null: a tie. */
function resolveSlot(rows: Row[], use: LabelUse): number | null | undefined {
  for (const src of use === 'human' ? ['human', 'import'] : ['human', 'import', 'accepted']) {
    const vs = rows.filter((r) => r.source === src).map((r) => r.value);
    if (vs.length) return majority(vs);
  }
  return undefined;
}

export function resolveLabels(
  db: Database.Database,
  schemaId: number,
  use: LabelUse = 'human',
  onlyImages?: readonly number[],
): Resolved {
  const schema = getSchema(db, schemaId);
  const main = schema.fields.filter((f) => f.kind === mainKind(schema.task));
  const fieldIds = main.map((f) => f.id);
  const names = main.map((f) => f.name);
  const classIndex = new Map(main.map((f, i) => [f.id, i]));
  const deletedClasses = new Set(schema.deleted.filter((f) => f.kind === 'class').map((f) => f.id));
  const slots = schema.task === 'fer' ? [0] : fieldIds;
  const only = onlyImages ? ` AND a.image_id IN (${onlyImages.map((n) => Math.trunc(n)).join(',') || 'NULL'})` : '';
  const stmt = db.prepare(
    `SELECT a.image_id, i.rel_path, a.slot, a.value, a.source, sp.split
     FROM annotations a JOIN images i ON i.id = a.image_id AND i.status = 'ok'
     LEFT JOIN label_splits sp ON sp.schema_id = a.schema_id AND sp.image_id = a.image_id
     WHERE a.schema_id = ? AND a.slot IN (${slots.join(',') || 'NULL'})${only}
     ORDER BY a.image_id, a.slot`,
  );
  const items: ResolvedImage[] = [];
  const left = { ties: 0, partial: 0, deletedClass: 0 };
  let cur: Row[] = [];
  const flush = () => {
    if (!cur.length) return;
    const first = cur[0]!;
    const bySlot = new Map<number, Row[]>();
    for (const r of cur) bySlot.set(r.slot, [...(bySlot.get(r.slot) ?? []), r]);
    cur = [];
    if (schema.task === 'fer') {
      const v = resolveSlot(bySlot.get(0) ?? [], use);
      if (v === undefined) return;
      if (v === null) return void left.ties++;
      const k = classIndex.get(v);
      if (k === undefined) return void (deletedClasses.has(v) ? left.deletedClass++ : left.ties++);
      items.push({ image_id: first.image_id, rel_path: first.rel_path, labels: [k], split: first.split });
      return;
    }
    const labels: number[] = [];
    let tie = false;
    for (const id of fieldIds) {
      const v = resolveSlot(bySlot.get(id) ?? [], use);
      if (v === null) tie = true;
      else if (v !== undefined) labels.push(v);
    }
    if (tie) left.ties++;
    else if (labels.length === 0) return;
    else if (labels.length < fieldIds.length) left.partial++;
    else items.push({ image_id: first.image_id, rel_path: first.rel_path, labels, split: first.split });
  };
  for (const r of stmt.iterate(schemaId) as Iterable<Row>) {
    if (cur.length && cur[0]!.image_id !== r.image_id) flush();
    cur.push(r);
  }
  flush();
  return { schema, task: schema.task, names, fieldIds, items, left };
}

/** A sentence for what was left out (empty when nothing was). */
export function leftOutNote(r: Resolved): string {
  const parts: string[] = [];
  if (r.left.ties) parts.push(`${r.left.ties} face(s) where labellers disagree with no majority`);
  if (r.left.partial) parts.push(`${r.left.partial} face(s) with only some attributes labelled`);
  if (r.left.deletedClass) parts.push(`${r.left.deletedClass} face(s) labelled with a deleted class`);
  return parts.length ? `left out: ${parts.join('; ')}` : '';
}
