/**
 * How far labelling has got: faces labelled of the total; per attribute how many are present and
 * absent, per class how many; who labelled how much; and, where two people labelled the same
 * faces, how often they agree and Cohen's kappa (agreement beyond chance).
 */
import type Database from 'better-sqlite3';
import { getSchema, mainKind } from './schema.js';

export interface FieldProgress {
  id: number;
  name: string;
  kind: 'attribute' | 'class';
  /** attribute: faces labelled present / absent (by anyone); class: faces with this class. */
  present: number;
  absent: number;
}

export interface PairAgreement {
  a: string;
  b: string;
  /** Labels both gave (faces × fields). */
  compared: number;
  agreement: number;
  kappa: number | null;
}

export interface Progress {
  images: number;
  /** Faces with a label by a person or a file. */
  labelled: number;
  /** Faces with an accepted prediction only. */
  acceptedOnly: number;
  /** Faces fully labelled (a class; every attribute). */
  complete: number;
  fields: FieldProgress[];
  labellers: { labeller: string; images: number; labels: number; last: string }[];
  agreement: PairAgreement[];
  splits: { train: number; val: number; test: number };
}

/** Cohen's kappa from a square table of counts (rows: labeller a, columns: b). */
export function cohenKappa(table: number[][]): number | null {
  const n = table.reduce((s, r) => s + r.reduce((x, y) => x + y, 0), 0);
  if (n === 0) return null;
  const po = table.reduce((s, r, i) => s + r[i]!, 0) / n;
  let pe = 0;
  for (let k = 0; k < table.length; k++) {
    const row = table[k]!.reduce((x, y) => x + y, 0);
    const col = table.reduce((s, r) => s + r[k]!, 0);
    pe += (row / n) * (col / n);
  }
  return pe === 1 ? null : (po - pe) / (1 - pe);
}

export function progress(db: Database.Database, schemaId: number): Progress {
  const s = getSchema(db, schemaId);
  const main = s.fields.filter((f) => f.kind === mainKind(s.task));
  const ids = main.map((f) => f.id);
  const liveCond =
    s.task === 'fer'
      ? `a.slot = 0 AND a.value IN (${ids.join(',') || 'NULL'})`
      : `a.slot IN (${ids.join(',') || 'NULL'})`;
  const images = db
    .prepare("SELECT count(*) FROM images WHERE dataset_id = ? AND status = 'ok'")
    .pluck()
    .get(s.dataset_id) as number;
  const labelled = db
    .prepare(
      `SELECT count(DISTINCT a.image_id) FROM annotations a JOIN images i ON i.id = a.image_id AND i.status = 'ok' WHERE a.schema_id = ? AND a.source != 'accepted' AND ${liveCond}`,
    )
    .pluck()
    .get(s.id) as number;
  const any = db
    .prepare(
      `SELECT count(DISTINCT a.image_id) FROM annotations a JOIN images i ON i.id = a.image_id AND i.status = 'ok' WHERE a.schema_id = ? AND ${liveCond}`,
    )
    .pluck()
    .get(s.id) as number;
  const complete =
    s.task === 'fer'
      ? labelled
      : (db
          .prepare(
            `SELECT count(*) FROM (SELECT a.image_id FROM annotations a JOIN images i ON i.id = a.image_id AND i.status = 'ok' WHERE a.schema_id = ? AND a.source != 'accepted' AND ${liveCond} GROUP BY a.image_id HAVING count(DISTINCT a.slot) = ?)`,
          )
          .pluck()
          .get(s.id, ids.length) as number);
  const fields: FieldProgress[] = [];
  if (s.task === 'fer') {
    const counts = new Map(
      (
        db
          .prepare(
            "SELECT CAST(value AS INTEGER) AS v, count(DISTINCT image_id) AS n FROM annotations WHERE schema_id = ? AND slot = 0 AND source != 'accepted' GROUP BY v",
          )
          .all(s.id) as { v: number; n: number }[]
      ).map((r) => [r.v, r.n]),
    );
    for (const f of main)
      fields.push({ id: f.id, name: f.name, kind: 'class', present: counts.get(f.id) ?? 0, absent: 0 });
  } else {
    const rows = db
      .prepare(
        `SELECT a.slot, a.value, count(DISTINCT a.image_id) AS n FROM annotations a WHERE a.schema_id = ? AND a.source != 'accepted' AND ${liveCond} GROUP BY a.slot, a.value`,
      )
      .all(s.id) as { slot: number; value: number; n: number }[];
    for (const f of main)
      fields.push({
        id: f.id,
        name: f.name,
        kind: 'attribute',
        present: rows.find((r) => r.slot === f.id && r.value === 1)?.n ?? 0,
        absent: rows.find((r) => r.slot === f.id && r.value === 0)?.n ?? 0,
      });
  }
  const labellers = db
    .prepare(
      `SELECT a.labeller, count(DISTINCT a.image_id) AS images, count(*) AS labels, max(a.at) AS last FROM annotations a WHERE a.schema_id = ? AND ${liveCond} GROUP BY a.labeller ORDER BY labels DESC, a.labeller`,
    )
    .all(s.id) as Progress['labellers'];
  // people only: two labellers' values on the same face and field
  const pairs = db
    .prepare(
      `SELECT x.labeller AS a, y.labeller AS b, x.value AS va, y.value AS vb, count(*) AS n FROM annotations x
       JOIN annotations y ON y.image_id = x.image_id AND y.schema_id = x.schema_id AND y.slot = x.slot AND y.labeller > x.labeller AND y.source = 'human'
       WHERE x.schema_id = ? AND x.source = 'human' AND ${liveCond.replaceAll('a.', 'x.')} GROUP BY a, b, va, vb`,
    )
    .all(s.id) as { a: string; b: string; va: number; vb: number; n: number }[];
  const byPair = new Map<string, typeof pairs>();
  for (const p of pairs) byPair.set(`${p.a}\u0000${p.b}`, [...(byPair.get(`${p.a}\u0000${p.b}`) ?? []), p]);
  const agreement: PairAgreement[] = [];
  for (const rows of byPair.values()) {
    const values = [...new Set(rows.flatMap((r) => [r.va, r.vb]))].sort((x, y) => x - y);
    const table = values.map(() => values.map(() => 0));
    for (const r of rows) table[values.indexOf(r.va)]![values.indexOf(r.vb)]! += r.n;
    const compared = rows.reduce((t, r) => t + r.n, 0);
    const same = rows.filter((r) => r.va === r.vb).reduce((t, r) => t + r.n, 0);
    agreement.push({
      a: rows[0]!.a,
      b: rows[0]!.b,
      compared,
      agreement: same / compared,
      kappa: values.length > 1 ? cohenKappa(table) : null,
    });
  }
  const splits = { train: 0, val: 0, test: 0 };
  for (const r of db
    .prepare('SELECT split, count(*) AS n FROM label_splits WHERE schema_id = ? GROUP BY split')
    .all(s.id) as { split: 'train' | 'val' | 'test'; n: number }[])
    splits[r.split] = r.n;
  return { images, labelled, acceptedOnly: any - labelled, complete, fields, labellers, agreement, splits };
}
