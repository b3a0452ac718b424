/**
 * Labels in and out of the store. In: a parsed label file (CelebA, LFWA, RAF-DB, FERPlus, class
 * folders, CSV — labels/label-files.ts) lands in a schema of the dataset (the template's when the
 * names are a known layout), as the annotations of labeller `import:<format>` with source
 * 'import', and its split. Out: a CSV that `camd finetune --format csv` reads back, a full CSV
 * (numbers, points, who and when), and the CelebA layout (list_attr_celeba.txt and
 * list_eval_partition.txt).
 */
import type Database from 'better-sqlite3';
import { CamdError } from '../util/errors.js';
import type { LabeledSet } from './label-files.js';
import { createSchema, getSchema, mainKind, schemaByName, type LabelSchema } from './schema.js';
import { templateFor } from './templates.js';
import { resolveLabels, leftOutNote, type LabelUse } from './resolve.js';
import { makeSplit } from './split.js';

const FORMAT_NAMES: Record<string, string> = {
  celeba: 'CelebA attributes',
  lfwa: 'LFWA attributes',
  rafdb: 'RAF-DB expressions',
  ferplus: 'FERPlus expressions',
  folders: 'classes (folders)',
  csv: 'labels (CSV)',
};

const now = () => new Date().toISOString();

/** The schema an imported set lands in: an existing one with these names, or a new one. */
function schemaForImport(db: Database.Database, datasetId: number, set: LabeledSet): LabelSchema {
  const base = FORMAT_NAMES[set.format] ?? set.format;
  for (let k = 1; k < 100; k++) {
    const name = k === 1 ? base : `${base} (${k})`;
    const s = schemaByName(db, datasetId, name);
    if (!s) {
      const t = templateFor(set.task, set.names);
      return createSchema(
        db,
        t ? { datasetId, name, template: t.id } : { datasetId, name, task: set.task, names: set.names },
      );
    }
    const main = s.fields.filter((f) => f.kind === mainKind(s.task)).map((f) => f.name);
    if (s.task === set.task && main.length === set.names.length && main.every((n, i) => n === set.names[i])) return s;
  }
  throw new CamdError('input', `too many schemas named like '${base}'`);
}

/** Records a parsed label file; `imageIdOf` maps its paths to the dataset's image ids (missing ones are skipped). */
export function importLabeled(
  db: Database.Database,
  datasetId: number,
  set: LabeledSet,
  imageIdOf: (path: string) => number | undefined,
): { schema: LabelSchema; images: number } {
  const schema = schemaForImport(db, datasetId, set);
  const main = schema.fields.filter((f) => f.kind === mainKind(schema.task));
  const labeller = `import:${set.format}`;
  const put = db.prepare(
    `INSERT INTO annotations (image_id, schema_id, slot, labeller, value, y, source, run_id, at) VALUES (?, ?, ?, ?, ?, NULL, 'import', NULL, ?)
     ON CONFLICT (image_id, schema_id, slot, labeller) DO UPDATE SET value = excluded.value, at = excluded.at`,
  );
  const split = db.prepare('INSERT OR REPLACE INTO label_splits (schema_id, image_id, split) VALUES (?, ?, ?)');
  const at = now();
  let images = 0;
  db.transaction(() => {
    for (const it of set.items) {
      const id = imageIdOf(it.path);
      if (id === undefined) continue;
      if (schema.task === 'fer') put.run(id, schema.id, 0, labeller, main[it.labels[0]!]!.id, at);
      else it.labels.forEach((v, k) => put.run(id, schema.id, main[k]!.id, labeller, v, at));
      split.run(schema.id, id, it.split);
      images++;
    }
  }).immediate();
  return { schema: getSchema(db, schema.id), images };
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Makes the split first when some labelled faces have none (with the schema's seed, or 0). */
function ensureSplit(db: Database.Database, schemaId: number, use: LabelUse): string | null {
  const r = resolveLabels(db, schemaId, use);
  if (r.items.every((i) => i.split)) return null;
  const seed = r.schema.split_seed ?? 0;
  const c = makeSplit(db, schemaId, { seed, use });
  return `${c.assigned} face(s) had no split: assigned from seed ${seed} (train ${c.train}, val ${c.val}, test ${c.test})`;
}

export interface Exported {
  text: string;
  rows: number;
  notes: string[];
}

/** `path,<attributes…>,split` (0/1) or `path,label,split` — what `camd finetune --format csv` reads. */
export function exportCsv(db: Database.Database, schemaId: number, use: LabelUse = 'human'): Exported {
  const notes = [ensureSplit(db, schemaId, use)].filter((n): n is string => n !== null);
  const r = resolveLabels(db, schemaId, use);
  const head = r.task === 'far' ? ['path', ...r.names, 'split'] : ['path', 'label', 'split'];
  const lines = [head.map(csvField).join(',')];
  for (const it of r.items)
    lines.push(
      [it.rel_path, ...(r.task === 'far' ? it.labels.map(String) : [r.names[it.labels[0]!]!]), it.split ?? 'train']
        .map(csvField)
        .join(','),
    );
  const left = leftOutNote(r);
  if (left) notes.push(left);
  return { text: `${lines.join('\n')}\n`, rows: r.items.length, notes };
}

/** Every annotation with who, when and from where; numbers and points included. */
export function exportFullCsv(db: Database.Database, schemaId: number): Exported {
  const s = getSchema(db, schemaId);
  const names = new Map([...s.fields, ...s.deleted].map((f) => [f.id, f]));
  const rows = db
    .prepare(
      `SELECT i.rel_path, a.slot, a.value, a.y, a.labeller, a.source, a.run_id, a.at, sp.split FROM annotations a JOIN images i ON i.id = a.image_id
       LEFT JOIN label_splits sp ON sp.schema_id = a.schema_id AND sp.image_id = a.image_id WHERE a.schema_id = ? ORDER BY i.rel_path, a.slot, a.labeller`,
    )
    .all(schemaId) as {
    rel_path: string;
    slot: number;
    value: number;
    y: number | null;
    labeller: string;
    source: string;
    run_id: string | null;
    at: string;
    split: string | null;
  }[];
  const lines = ['path,field,kind,value,y,labeller,source,run,at,split,deleted'];
  for (const r of rows) {
    const f = r.slot === 0 ? names.get(r.value) : names.get(r.slot);
    const field = r.slot === 0 ? 'class' : (f?.name ?? `field ${r.slot}`);
    const value = r.slot === 0 ? (f?.name ?? `class ${r.value}`) : String(r.value);
    lines.push(
      [
        r.rel_path,
        field,
        r.slot === 0 ? 'class' : (f?.kind ?? ''),
        value,
        r.y === null ? '' : String(r.y),
        r.labeller,
        r.source,
        r.run_id ?? '',
        r.at,
        r.split ?? '',
        f?.deleted_at ? 'yes' : '',
      ]
        .map(csvField)
        .join(','),
    );
  }
  return { text: `${lines.join('\n')}\n`, rows: rows.length, notes: [] };
}

/**
 * The CelebA layout: `list_attr_celeba.txt` (the count, the names, then `<file> v1 … vn` with 1 and
 * -1, each value two characters wide as in the original) and `list_eval_partition.txt` (`<file>
 * 0|1|2`). File names are the dataset's paths without a leading `img_align_celeba/` (where CelebA
 * keeps its images).
 */
export function exportCelebA(
  db: Database.Database,
  schemaId: number,
  use: LabelUse = 'human',
): { attributes: string; partition: string; rows: number; notes: string[] } {
  const s = getSchema(db, schemaId);
  if (s.task !== 'far')
    throw new CamdError(
      'input',
      'the CelebA layout holds binary attributes: this is a class schema (export it as CSV)',
      'format',
    );
  const notes = [ensureSplit(db, schemaId, use)].filter((n): n is string => n !== null);
  const r = resolveLabels(db, schemaId, use);
  const items = [...r.items].sort((a, b) => (a.rel_path < b.rel_path ? -1 : a.rel_path > b.rel_path ? 1 : 0));
  const file = (p: string) => p.replace(/^img_align_celeba\//, '');
  const bad = items.find((it) => /\s/.test(file(it.rel_path)));
  if (bad)
    throw new CamdError(
      'input',
      `the CelebA layout cannot name a file with spaces (${bad.rel_path}): export as CSV`,
      'format',
    );
  const attributes = `${items.length}\n${r.names.join(' ')}\n${items.map((it) => `${file(it.rel_path)} ${it.labels.map((v) => (v === 1 ? ' 1' : '-1')).join(' ')}`).join('\n')}\n`;
  const code = { train: '0', val: '1', test: '2' } as const;
  const partition = `${items.map((it) => `${file(it.rel_path)} ${code[it.split ?? 'train']}`).join('\n')}\n`;
  const left = leftOutNote(r);
  if (left) notes.push(left);
  return { attributes, partition, rows: items.length, notes };
}
