// Labelling over a real SQLite store (trainer/src/labels): schemas and templates, label writes
// with their log, undo/redo, edits of classes that never drop labels, queue filters and order,
// progress and agreement, seeded stratified splits, import of every label-file format into the
// same tables, exports (the CelebA layout byte for byte), labels that follow a moved file, the
// migration of schema-3 labels.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../trainer/src/store/store.js';
import { MIGRATIONS } from '../../trainer/src/store/migrations.js';
import * as L from '../../trainer/src/labels/index.js';
import {
  CELEBA_ATTRIBUTES,
  parseCelebA,
  parseCsv,
  parseFerplus,
  parseFolders,
  parseLfwa,
  parseRafdb,
  type LabeledSet,
} from '../../trainer/src/labels/label-files.js';
import { tempDir } from '../support/folders.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** A store with one dataset of `paths` (rows only: the labelling code never opens the files). */
function fixture(paths: string[]): { store: Store; db: Database.Database; dataset: number; id: (p: string) => number } {
  const store = new Store(join(tempDir('labels'), 'camd.db'));
  const d = store.ensureDataset(tempDir('faces'), 'faces');
  store.applyScan(
    d.id,
    paths.map((p) => ({
      rel_path: p,
      bytes: 1,
      mtime_ms: 1,
      width: 64,
      height: 64,
      format: 'jpeg',
      sha256: sha(p),
      status: 'ok',
      error: null,
    })),
    [],
  );
  const ids = new Map(store.images(d.id).map((r) => [r.rel_path, r.id]));
  return { store, db: store.db, dataset: d.id, id: (p) => ids.get(p)! };
}

const faces = (n: number) => Array.from({ length: n }, (_, i) => `f${String(i).padStart(3, '0')}.jpg`);

describe('schemas', () => {
  it("templates: the 40 CelebA attributes, 7 RAF-DB and 8 FERPlus classes, with shortcuts; the user's own with numbers and points", () => {
    const { db, dataset } = fixture(faces(2));
    const celeba = L.createSchema(db, { datasetId: dataset, template: 'celeba40' });
    expect(celeba).toMatchObject({ name: 'CelebA attributes', task: 'far', template: 'celeba40' });
    expect(celeba.fields.map((f) => f.name)).toEqual([...CELEBA_ATTRIBUTES]);
    const keys = celeba.fields.map((f) => f.shortcut);
    expect(keys.slice(0, 3)).toEqual(['a', 'b', 'c']);
    expect(new Set(keys).size).toBe(40);
    expect(keys.every((k) => k !== null && !L.RESERVED_KEYS.includes(k))).toBe(true);
    const raf = L.createSchema(db, { datasetId: dataset, template: 'rafdb7' });
    expect(raf.fields.map((f) => [f.name, f.shortcut])).toEqual([
      ['Surprise', '1'],
      ['Fear', '2'],
      ['Disgust', '3'],
      ['Happy', '4'],
      ['Sad', '5'],
      ['Anger', '6'],
      ['Neutral', '7'],
    ]);
    expect(L.createSchema(db, { datasetId: dataset, template: 'ferplus8' }).fields).toHaveLength(8);
    const own = L.createSchema(db, {
      datasetId: dataset,
      name: 'pose and smile',
      task: 'fer',
      names: ['smile', 'no smile'],
      extras: [
        { kind: 'number', name: 'yaw', min: -90, max: 90, unit: '°' },
        { kind: 'point', name: 'nose tip' },
      ],
    });
    expect(own.fields.map((f) => [f.kind, f.name])).toEqual([
      ['class', 'smile'],
      ['class', 'no smile'],
      ['number', 'yaw'],
      ['point', 'nose tip'],
    ]);
    expect(() =>
      L.createSchema(db, { datasetId: dataset, name: 'pose and smile', task: 'fer', names: ['a', 'b'] }),
    ).toThrow(/already has a schema named 'pose and smile'/);
    expect(() => L.createSchema(db, { datasetId: dataset, task: 'fer', names: ['only'] })).toThrow(
      /at least two classes/,
    );
    expect(() => L.createSchema(db, { datasetId: dataset, task: 'far', names: ['x', 'x'], name: 'dup' })).toThrow(
      /'x' is listed twice/,
    );
    expect(() => L.createSchema(db, { datasetId: dataset, template: 'imagenet' })).toThrow(/unknown template/);
    expect(() => L.setShortcut(db, own.fields[0]!.id, '?')).toThrow(/kept for the labelling view/);
    expect(() => L.setShortcut(db, own.fields[0]!.id, 'Enter')).toThrow(/one key/);
    expect(() => L.setShortcut(db, own.fields[0]!.id, '2')).toThrow(/already the shortcut of another field/);
    expect(L.listSchemas(db, dataset).map((s) => s.name)).toEqual([
      'CelebA attributes',
      'RAF-DB expressions',
      'FERPlus expressions',
      'pose and smile',
    ]);
  });

  it('renaming a class keeps its labels and says how many; deleting hides them and says how many; restoring brings them back', () => {
    const { db, dataset, id } = fixture(faces(4));
    const s = L.createSchema(db, { datasetId: dataset, template: 'rafdb7' });
    const happy = s.fields.find((f) => f.name === 'Happy')!;
    L.writeLabels(db, {
      schemaId: s.id,
      imageIds: [id('f000.jpg'), id('f001.jpg'), id('f002.jpg')],
      labeller: 'ana',
      changes: [{ slot: 0, value: happy.id }],
    });
    const r = L.renameField(db, happy.id, 'Joy');
    expect(r).toMatchObject({ previous: 'Happy', labels: 3, images: 3 });
    expect(L.resolveLabels(db, s.id).items.map((i) => r.field.name === 'Joy' && i.labels[0])).toEqual([3, 3, 3]);
    expect(() => L.renameField(db, happy.id, 'Sad')).toThrow(/already has a class named 'Sad'/);
    const del = L.deleteField(db, happy.id);
    expect(del).toMatchObject({ labels: 3, images: 3 });
    const hidden = L.resolveLabels(db, s.id);
    expect(hidden.names).not.toContain('Joy');
    expect(hidden.items).toEqual([]);
    expect(hidden.left.deletedClass).toBe(3);
    expect(db.prepare('SELECT count(*) FROM annotations WHERE schema_id = ?').pluck().get(s.id)).toBe(3);
    expect(L.restoreField(db, happy.id)).toMatchObject({ labels: 3 });
    expect(L.resolveLabels(db, s.id).items).toHaveLength(3);
    const two = L.createSchema(db, { datasetId: dataset, task: 'fer', names: ['a', 'b'], name: 'two' });
    expect(() => L.deleteField(db, two.fields[0]!.id)).toThrow(/keeps at least two classes/);
  });
});

describe('label writes, undo and redo', () => {
  it('one action is one batch, logged with who and when; values are checked; two labellers keep two labels', () => {
    const { db, dataset, id } = fixture([...faces(3), 'bad.jpg']);
    db.prepare("UPDATE images SET status = 'bad' WHERE rel_path = 'bad.jpg'").run();
    const s = L.createSchema(db, {
      datasetId: dataset,
      name: 'attrs',
      task: 'far',
      names: ['Smiling', 'Eyeglasses'],
      extras: [
        { kind: 'number', name: 'yaw', min: -90, max: 90 },
        { kind: 'point', name: 'nose' },
      ],
    });
    const [smiling, glasses, yaw, nose] = s.fields;
    const w = L.writeLabels(db, {
      schemaId: s.id,
      imageIds: [id('f000.jpg'), id('f001.jpg')],
      labeller: 'ana',
      changes: [
        { slot: smiling!.id, value: 1 },
        { slot: glasses!.id, value: 0 },
      ],
    });
    expect(w.changed).toBe(4);
    expect(db.prepare('SELECT count(DISTINCT batch) FROM annotation_log').pluck().get()).toBe(1);
    expect(
      L.writeLabels(db, {
        schemaId: s.id,
        imageIds: [id('f000.jpg')],
        labeller: 'ana',
        changes: [{ slot: smiling!.id, value: 1 }],
      }),
    ).toEqual({ batch: null, changed: 0 });
    L.writeLabels(db, {
      schemaId: s.id,
      imageIds: [id('f000.jpg')],
      labeller: 'ben',
      changes: [
        { slot: smiling!.id, value: 0 },
        { slot: yaw!.id, value: -30.5 },
        { slot: nose!.id, value: 0.5, y: 0.6 },
      ],
    });
    const mine = L.annotationsOf(db, s.id, [id('f000.jpg')]);
    expect(mine.map((a) => [a.labeller, a.slot, a.value, a.y])).toEqual(
      [
        ['ana', smiling!.id, 1, null],
        ['ben', smiling!.id, 0, null],
        ['ana', glasses!.id, 0, null],
        ['ben', yaw!.id, -30.5, null],
        ['ben', nose!.id, 0.5, 0.6],
      ].sort((a, b) => (a[1] as number) - (b[1] as number) || String(a[0]).localeCompare(String(b[0]))),
    );
    expect(mine.every((a) => a.source === 'human' && /^\d{4}-\d\d-\d\dT/.test(a.at))).toBe(true);
    const bad =
      (changes: L.LabelChange[], imageIds = [id('f002.jpg')], labeller = 'ana') =>
      () =>
        L.writeLabels(db, { schemaId: s.id, imageIds, labeller, changes });
    expect(bad([{ slot: smiling!.id, value: 2 }])).toThrow(/Smiling is 0 or 1/);
    expect(bad([{ slot: yaw!.id, value: 120 }])).toThrow(/yaw is between -90 and 90/);
    expect(bad([{ slot: nose!.id, value: 0.5 }])).toThrow(/nose is a point: x and y/);
    expect(bad([{ slot: nose!.id, value: 1.5, y: 0 }])).toThrow(/fractions of the image/);
    expect(bad([{ slot: 0, value: 1 }])).toThrow(/slot 0 is the class of a class schema/);
    expect(bad([{ slot: smiling!.id, value: 1 }], [id('bad.jpg')])).toThrow(
      /not readable images of this schema's dataset/,
    );
    expect(bad([{ slot: smiling!.id, value: 1 }], [id('f002.jpg')], 'import:celeba')).toThrow(/kept for label files/);
    expect(L.historyOf(db, s.id, id('f000.jpg')).map((h) => h.labeller)).toEqual(['ben', 'ben', 'ben', 'ana', 'ana']);
  });

  it("undo reverts a labeller's last action (a grid apply at once), redo reapplies it, a new action drops the redo; others' labels are untouched", () => {
    const { db, dataset, id } = fixture(faces(5));
    const s = L.createSchema(db, { datasetId: dataset, template: 'rafdb7' });
    const cls = (n: string) => s.fields.find((f) => f.name === n)!.id;
    const labelOf = (img: string, who = 'ana') =>
      (db.prepare('SELECT value FROM annotations WHERE image_id = ? AND labeller = ?').pluck().get(id(img), who) as
        | number
        | undefined) ?? null;
    L.writeLabels(db, {
      schemaId: s.id,
      imageIds: [id('f000.jpg')],
      labeller: 'ana',
      changes: [{ slot: 0, value: cls('Happy') }],
    });
    L.writeLabels(db, {
      schemaId: s.id,
      imageIds: [id('f000.jpg')],
      labeller: 'ana',
      changes: [{ slot: 0, value: cls('Sad') }],
    });
    L.writeLabels(db, {
      schemaId: s.id,
      imageIds: faces(5).map(id),
      labeller: 'ana',
      changes: [{ slot: 0, value: cls('Neutral') }],
    }); // grid
    L.writeLabels(db, {
      schemaId: s.id,
      imageIds: [id('f001.jpg')],
      labeller: 'ben',
      changes: [{ slot: 0, value: cls('Fear') }],
    });
    expect(L.undoState(db, s.id, 'ana')).toEqual({ canUndo: true, canRedo: false });
    expect(L.undoLabels(db, s.id, 'ana')).toMatchObject({
      changes: 5,
      images: expect.arrayContaining(faces(5).map(id)),
    });
    expect(faces(5).map((f) => labelOf(f))).toEqual([cls('Sad'), null, null, null, null]);
    expect(labelOf('f001.jpg', 'ben')).toBe(cls('Fear'));
    L.undoLabels(db, s.id, 'ana');
    expect(labelOf('f000.jpg')).toBe(cls('Happy'));
    expect(L.undoState(db, s.id, 'ana')).toEqual({ canUndo: true, canRedo: true });
    L.redoLabels(db, s.id, 'ana');
    expect(labelOf('f000.jpg')).toBe(cls('Sad'));
    L.redoLabels(db, s.id, 'ana');
    expect(faces(5).map((f) => labelOf(f))).toEqual(faces(5).map(() => cls('Neutral')));
    expect(L.redoLabels(db, s.id, 'ana')).toBeNull();
    L.undoLabels(db, s.id, 'ana');
    L.writeLabels(db, {
      schemaId: s.id,
      imageIds: [id('f004.jpg')],
      labeller: 'ana',
      changes: [{ slot: 0, value: cls('Anger') }],
    });
    expect(L.undoState(db, s.id, 'ana').canRedo).toBe(false);
    expect(L.redoLabels(db, s.id, 'ana')).toBeNull();
    L.undoLabels(db, s.id, 'ana');
    L.undoLabels(db, s.id, 'ana');
    L.undoLabels(db, s.id, 'ana');
    expect(L.undoLabels(db, s.id, 'ana')).toBeNull();
    expect(db.prepare("SELECT count(*) FROM annotations WHERE labeller = 'ana'").pluck().get()).toBe(0);
    expect(labelOf('f001.jpg', 'ben')).toBe(cls('Fear'));
  });
});

describe('queue, resolution, progress', () => {
  it('filters (unlabelled, labelled, not mine, by label, disagreement, model disagreement, low confidence) and the uncertainty order', () => {
    const { db, dataset, id, store } = fixture(faces(6));
    const s = L.createSchema(db, { datasetId: dataset, template: 'rafdb7' });
    const cls = (n: string) => s.fields.find((f) => f.name === n)!.id;
    const write = (imgs: string[], who: string, c: string) =>
      L.writeLabels(db, {
        schemaId: s.id,
        imageIds: imgs.map(id),
        labeller: who,
        changes: [{ slot: 0, value: cls(c) }],
      });
    write(['f000.jpg', 'f001.jpg'], 'ana', 'Happy');
    write(['f001.jpg'], 'ben', 'Sad');
    write(['f002.jpg'], 'ben', 'Happy');
    const paths = (q: Partial<L.QueueQuery>) => L.queue(db, { schemaId: s.id, ...q }).items.map((i) => i.rel_path);
    expect(paths({ filter: 'unlabelled' })).toEqual(['f003.jpg', 'f004.jpg', 'f005.jpg']);
    expect(paths({ filter: 'labelled' })).toEqual(['f000.jpg', 'f001.jpg', 'f002.jpg']);
    expect(paths({ filter: 'not-mine', labeller: 'ben' })).toEqual(['f000.jpg', 'f003.jpg', 'f004.jpg', 'f005.jpg']);
    expect(paths({ label: { slot: 0, value: cls('Happy') } })).toEqual(['f000.jpg', 'f001.jpg', 'f002.jpg']);
    expect(paths({ filter: 'disagreement' })).toEqual(['f001.jpg']);
    expect(() => L.queue(db, { schemaId: s.id, order: 'uncertainty' })).toThrow(/choose a fine-tuned run/);
    store.createRun({ id: 'r1', kind: 'finetune', config: {}, seed: 0 });
    L.savePredictions(
      db,
      'r1',
      s.id,
      faces(6).map((f, i) => ({
        image_id: id(f),
        slot: 0,
        value: cls(i % 2 ? 'Happy' : 'Sad'),
        confidence: [0.9, 0.3, 0.55, 0.8, 0.2, 0.7][i]!,
        probs: null,
      })),
    );
    expect(paths({ order: 'uncertainty', runId: 'r1' })).toEqual([
      'f004.jpg',
      'f001.jpg',
      'f002.jpg',
      'f005.jpg',
      'f003.jpg',
      'f000.jpg',
    ]);
    expect(paths({ filter: 'unlabelled', order: 'uncertainty', runId: 'r1' })).toEqual([
      'f004.jpg',
      'f005.jpg',
      'f003.jpg',
    ]);
    expect(paths({ filter: 'low-confidence', runId: 'r1' })).toEqual(['f001.jpg', 'f002.jpg', 'f004.jpg']);
    expect(paths({ filter: 'model-disagreement', runId: 'r1' })).toEqual(['f000.jpg', 'f001.jpg', 'f002.jpg']);
    expect(L.queue(db, { schemaId: s.id, runId: 'r1', limit: 2 }).items[1]).toMatchObject({
      rel_path: 'f001.jpg',
      labelled: true,
      confidence: 0.3,
    });
    // accepting a prediction is a label of its own source; fine-tuning uses it only when asked
    L.writeLabels(db, {
      schemaId: s.id,
      imageIds: [id('f005.jpg')],
      labeller: 'ana',
      changes: [{ slot: 0, value: cls('Happy') }],
      source: 'accepted',
      runId: 'r1',
    });
    expect(L.resolveLabels(db, s.id, 'human').items.map((i) => i.rel_path)).toEqual(['f000.jpg', 'f002.jpg']);
    expect(L.resolveLabels(db, s.id, 'human').left.ties).toBe(1);
    expect(L.resolveLabels(db, s.id, 'human+accepted').items.map((i) => i.rel_path)).toEqual([
      'f000.jpg',
      'f002.jpg',
      'f005.jpg',
    ]);
    expect(paths({ filter: 'unlabelled' })).toEqual(['f003.jpg', 'f004.jpg']);
  });

  it("progress per class and attribute, and the agreement of two people (Cohen's kappa)", () => {
    const { db, dataset, id } = fixture(faces(10));
    const s = L.createSchema(db, { datasetId: dataset, name: 'a', task: 'fer', names: ['yes', 'no'] });
    const [yes, no] = s.fields.map((f) => f.id);
    // ana and ben on 10 faces: agree on 8 (5 yes, 3 no), disagree on 2
    const ana = [yes, yes, yes, yes, yes, no, no, no, yes, no];
    const ben = [yes, yes, yes, yes, yes, no, no, no, no, yes];
    faces(10).forEach((f, i) => {
      L.writeLabels(db, { schemaId: s.id, imageIds: [id(f)], labeller: 'ana', changes: [{ slot: 0, value: ana[i]! }] });
      L.writeLabels(db, { schemaId: s.id, imageIds: [id(f)], labeller: 'ben', changes: [{ slot: 0, value: ben[i]! }] });
    });
    const p = L.progress(db, s.id);
    expect(p).toMatchObject({ images: 10, labelled: 10, complete: 10, acceptedOnly: 0 });
    expect(p.fields.map((f) => [f.name, f.present])).toEqual([
      ['yes', 7],
      ['no', 5],
    ]);
    expect(p.labellers.map((l) => [l.labeller, l.images])).toEqual([
      ['ana', 10],
      ['ben', 10],
    ]);
    expect(p.agreement).toHaveLength(1);
    expect(p.agreement[0]).toMatchObject({ a: 'ana', b: 'ben', compared: 10, agreement: 0.8 });
    // po = 0.8, pe = 0.6·0.6 + 0.4·0.4 = 0.52 → κ = 0.28 / 0.48
    expect(p.agreement[0]!.kappa).toBeCloseTo(0.28 / 0.48, 10);
    expect(
      L.cohenKappa([
        [5, 0],
        [0, 5],
      ]),
    ).toBe(1);
  });
});

describe('splits', () => {
  it('stratified by class from a seed; the same seed the same split; faces labelled later join without moving the others', () => {
    const { db, dataset, id } = fixture(faces(100));
    const s = L.createSchema(db, { datasetId: dataset, name: 'c', task: 'fer', names: ['a', 'b'] });
    const [a, b] = s.fields.map((f) => f.id);
    // 60 'a' and 20 'b' labelled, 20 faces left for later
    faces(80).forEach((f, i) =>
      L.writeLabels(db, {
        schemaId: s.id,
        imageIds: [id(f)],
        labeller: 'ana',
        changes: [{ slot: 0, value: i < 60 ? a! : b! }],
      }),
    );
    const c = L.makeSplit(db, s.id, { seed: 7 });
    expect(c).toMatchObject({
      train: 64,
      val: 8,
      test: 8,
      assigned: 80,
      byClass: { a: { train: 48, val: 6, test: 6 }, b: { train: 16, val: 2, test: 2 } },
    });
    const first = new Map(L.resolveLabels(db, s.id).items.map((i) => [i.image_id, i.split]));
    const again = L.makeSplit(db, s.id, { seed: 7, reassign: true });
    expect(again.assigned).toBe(80);
    expect(new Map(L.resolveLabels(db, s.id).items.map((i) => [i.image_id, i.split]))).toEqual(first);
    faces(100)
      .slice(80)
      .forEach((f) =>
        L.writeLabels(db, { schemaId: s.id, imageIds: [id(f)], labeller: 'ana', changes: [{ slot: 0, value: b! }] }),
      );
    const more = L.makeSplit(db, s.id, { seed: 7 });
    expect(more.assigned).toBe(20);
    expect(more.byClass!['b']).toEqual({ train: 32, val: 4, test: 4 });
    const after = new Map(L.resolveLabels(db, s.id).items.map((i) => [i.image_id, i.split]));
    for (const [img, sp] of first) expect(after.get(img)).toBe(sp);
    expect(() => L.makeSplit(db, s.id, { seed: 1, val: 0.6, test: 0.5 })).toThrow(/leave some for training/);
  });
});

describe('import and export', () => {
  function write(root: string, rel: string, text: string): void {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }

  it('every label-file format lands in the same tables, with its source, its split and the template where the names are a known layout', () => {
    const sets: LabeledSet[] = [];
    const celebaRoot = tempDir('imp-celeba');
    const v = (k: number) => CELEBA_ATTRIBUTES.map((_, i) => ((i + k) % 3 === 0 ? ' 1' : '-1')).join(' ');
    write(
      celebaRoot,
      'Anno/list_attr_celeba.txt',
      `2\n${CELEBA_ATTRIBUTES.join(' ')}\n000001.jpg ${v(0)}\n000002.jpg ${v(1)}\n`,
    );
    write(celebaRoot, 'Eval/list_eval_partition.txt', '000001.jpg 0\n000002.jpg 2\n');
    sets.push(parseCelebA(celebaRoot));
    const lfwRoot = tempDir('imp-lfwa');
    write(
      lfwRoot,
      'lfw_attributes.txt',
      `#\n#\nAaron Eckhart\t1\t${Array.from({ length: 73 }, (_, k) => (k % 2 ? 0.5 : -0.5)).join('\t')}\n`,
    );
    sets.push(parseLfwa(lfwRoot, 'lfwa-release'));
    const rafRoot = tempDir('imp-raf');
    write(rafRoot, 'EmoLabel/list_patition_label.txt', 'train_00001.jpg 4\ntest_0001.jpg 7\n');
    sets.push(parseRafdb(rafRoot));
    const ferRoot = tempDir('imp-fer');
    write(ferRoot, 'Labels/FER2013Train/label.csv', 'fer0000001.png,"(0, 0, 48, 48)",0,10,0,0,0,0,0,0,0,0\n');
    write(ferRoot, 'Labels/FER2013Test/label.csv', 'fer0032220.png,"(0, 0, 48, 48)",0,0,0,0,0,0,9,1,0,0\n');
    sets.push(parseFerplus(ferRoot));
    const folders = tempDir('imp-folders');
    for (const c of ['calm', 'angry']) for (let i = 0; i < 5; i++) write(folders, `${c}/${i}.jpg`, 'x');
    sets.push(parseFolders(folders, 1));
    const csvDir = tempDir('imp-csv');
    write(csvDir, 'labels.csv', 'path,label,split\na.jpg,yes,train\nb.jpg,no,test\n');
    sets.push(parseCsv(join(csvDir, 'labels.csv')));
    const paths = sets.flatMap((st) => st.items.map((i) => i.path));
    const { db, dataset, id } = fixture([...new Set(paths)]);
    const got = sets.map((st) => L.importLabeled(db, dataset, st, id));
    expect(got.map((g) => [g.schema.name, g.schema.task, g.schema.template, g.images])).toEqual([
      ['CelebA attributes', 'far', 'celeba40', 2],
      ['LFWA attributes', 'far', 'celeba40', 1],
      ['RAF-DB expressions', 'fer', 'rafdb7', 2],
      ['FERPlus expressions', 'fer', 'ferplus8', 2],
      ['classes (folders)', 'fer', null, 10],
      ['labels (CSV)', 'fer', null, 2],
    ]);
    const sources = db.prepare('SELECT DISTINCT labeller, source FROM annotations ORDER BY labeller').all();
    expect(sources).toEqual(
      ['celeba', 'csv', 'ferplus', 'folders', 'lfwa', 'rafdb'].map((f) => ({
        labeller: `import:${f}`,
        source: 'import',
      })),
    );
    // values and splits as parsed
    const raf = L.resolveLabels(db, got[2]!.schema.id);
    expect(raf.items.map((i) => [i.rel_path, raf.names[i.labels[0]!], i.split]).sort()).toEqual([
      ['Image/aligned/test_0001_aligned.jpg', 'Neutral', 'test'],
      ['Image/aligned/train_00001_aligned.jpg', 'Happy', 'train'],
    ]);
    // importing the same file again updates, never duplicates
    L.importLabeled(db, dataset, sets[0]!, id);
    expect(L.listSchemas(db, dataset).filter((x) => x.name.startsWith('CelebA'))).toHaveLength(1);
    // people's labels win over a file's, without changing the file's
    const celeba = got[0]!.schema;
    L.writeLabels(db, {
      schemaId: celeba.id,
      imageIds: [id('img_align_celeba/000001.jpg')],
      labeller: 'ana',
      changes: [{ slot: celeba.fields[0]!.id, value: 0 }],
    });
    expect(L.resolveLabels(db, celeba.id).items.find((i) => i.rel_path.endsWith('000001.jpg'))!.labels[0]).toBe(0);
  });

  it("the CelebA layout exported equals the imported files byte for byte; the CSV export reads back with camd's CSV reader", () => {
    const root = tempDir('roundtrip');
    const rows = Array.from(
      { length: 30 },
      (_, r) =>
        `${String(r + 1).padStart(6, '0')}.jpg ${CELEBA_ATTRIBUTES.map((_, i) => ((i * 7 + r * 3) % 5 < 2 ? ' 1' : '-1')).join(' ')}`,
    );
    const attr = `${rows.length}\n${CELEBA_ATTRIBUTES.join(' ')}\n${rows.join('\n')}\n`;
    const part = `${rows.map((r, i) => `${r.split(' ')[0]} ${i < 20 ? 0 : i < 25 ? 1 : 2}`).join('\n')}\n`;
    write(root, 'Anno/list_attr_celeba.txt', attr);
    write(root, 'Eval/list_eval_partition.txt', part);
    const set = parseCelebA(root);
    const { db, dataset, id } = fixture(set.items.map((i) => i.path));
    const { schema } = L.importLabeled(db, dataset, set, id);
    const out = L.exportCelebA(db, schema.id);
    expect(out.attributes).toBe(attr);
    expect(out.partition).toBe(part);
    expect(out.notes).toEqual([]);
    const csvDir = tempDir('csv-out');
    const csv = L.exportCsv(db, schema.id);
    writeFileSync(join(csvDir, 'labels.csv'), csv.text);
    const back = parseCsv(join(csvDir, 'labels.csv'), 0, csvDir);
    expect(back.names).toEqual([...CELEBA_ATTRIBUTES]);
    expect(back.items.map((i) => [i.path, i.labels, i.split])).toEqual(
      set.items.map((i) => [i.path, i.labels, i.split]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    const full = L.exportFullCsv(db, schema.id);
    expect(full.rows).toBe(30 * 40);
    expect(full.text.split('\n')[0]).toBe('path,field,kind,value,y,labeller,source,run,at,split,deleted');
    expect(() => L.exportCelebA(db, L.createSchema(db, { datasetId: dataset, template: 'rafdb7' }).id)).toThrow(
      /class schema/,
    );
  });

  it("a class schema's CSV export (made with a split) trains as --format csv would read it", () => {
    const { db, dataset, id } = fixture(faces(20));
    const s = L.createSchema(db, { datasetId: dataset, template: 'ferplus8' });
    faces(20).forEach((f, i) =>
      L.writeLabels(db, {
        schemaId: s.id,
        imageIds: [id(f)],
        labeller: 'ana',
        changes: [{ slot: 0, value: s.fields[i % 3]!.id }],
      }),
    );
    const csv = L.exportCsv(db, s.id);
    expect(csv.notes[0]).toMatch(/20 face\(s\) had no split: assigned from seed 0/);
    const dir = tempDir('csv-fer');
    writeFileSync(join(dir, 'labels.csv'), csv.text);
    const back = parseCsv(join(dir, 'labels.csv'), 0, dir);
    expect(back.task).toBe('fer');
    expect(back.names).toEqual(['happiness', 'neutral', 'surprise']);
    expect(back.items).toHaveLength(20);
  });
});

describe('safety of labels', () => {
  it('a file that goes away keeps its labels aside by content; back under another name, they return', () => {
    const { store, db, dataset, id } = fixture(faces(3));
    const s = L.createSchema(db, { datasetId: dataset, template: 'rafdb7' });
    L.writeLabels(db, {
      schemaId: s.id,
      imageIds: [id('f001.jpg')],
      labeller: 'ana',
      changes: [{ slot: 0, value: s.fields[3]!.id }],
    });
    store.applyScan(dataset, [], ['f001.jpg']);
    expect(db.prepare('SELECT count(*) FROM annotations').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM annotations_orphaned').pluck().get()).toBe(1);
    store.applyScan(
      dataset,
      [
        {
          rel_path: 'moved/renamed.jpg',
          bytes: 1,
          mtime_ms: 2,
          width: 64,
          height: 64,
          format: 'jpeg',
          sha256: sha('f001.jpg'),
          status: 'ok',
          error: null,
        },
      ],
      [],
    );
    const moved = store.images(dataset).find((r) => r.rel_path === 'moved/renamed.jpg')!;
    expect(L.annotationsOf(db, s.id, [moved.id]).map((a) => [a.labeller, a.value])).toEqual([['ana', s.fields[3]!.id]]);
    expect(db.prepare('SELECT count(*) FROM annotations_orphaned').pluck().get()).toBe(0);
  });

  it('the labels of a schema-3 store are moved over, the old shape still readable', () => {
    const file = join(tempDir('v3'), 'camd.db');
    const raw = new Database(file);
    for (const m of MIGRATIONS.slice(0, 3)) raw.exec(m);
    raw.pragma('user_version = 3');
    raw.prepare("INSERT INTO datasets (id, root, name, created_at) VALUES (1, '/faces', 'faces', 'x')").run();
    for (const [i, p] of ['a.jpg', 'b.jpg'].entries())
      raw
        .prepare(
          "INSERT INTO images (id, dataset_id, rel_path, bytes, mtime_ms, sha256, status) VALUES (?, 1, ?, 1, 1, ?, 'ok')",
        )
        .run(i + 1, p, sha(p));
    raw
      .prepare(
        "INSERT INTO labels VALUES (1, 'far', 'Smiling', 1, 'train'), (1, 'far', 'Male', 0, 'train'), (2, 'far', 'Smiling', 0, 'test'), (1, 'fer', 'class', 3, 'train'), (2, 'fer', 'class', 0, 'test')",
      )
      .run();
    raw.close();
    const store = new Store(file);
    expect(store.schemaVersion()).toBe(MIGRATIONS.length);
    const schemas = L.listSchemas(store.db, 1);
    expect(schemas.map((x) => [x.name, x.task, x.fields.map((f) => f.name)])).toEqual([
      ['attributes (imported)', 'far', ['Male', 'Smiling']],
      ['classes (imported)', 'fer', ['class 0', 'class 3']],
    ]);
    const far = L.resolveLabels(store.db, schemas[0]!.id);
    expect(far.items.map((i) => [i.rel_path, i.labels, i.split])).toEqual([['a.jpg', [0, 1], 'train']]);
    expect(far.left.partial).toBe(1);
    expect(
      store.db.prepare('SELECT image_id, task, name, value, split FROM labels ORDER BY task, image_id, name').all(),
    ).toEqual([
      { image_id: 1, task: 'far', name: 'Male', value: 0, split: 'train' },
      { image_id: 1, task: 'far', name: 'Smiling', value: 1, split: 'train' },
      { image_id: 2, task: 'far', name: 'Smiling', value: 0, split: 'test' },
      { image_id: 1, task: 'fer', name: 'class', value: 1, split: 'train' },
      { image_id: 2, task: 'fer', name: 'class', value: 0, split: 'test' },
    ]);
    store.close();
  });
});
