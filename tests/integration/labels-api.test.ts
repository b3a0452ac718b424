// Labelling through the API contract over its browser-mode transport (HTTP + WebSocket) against a
// real host: real SQLite, real face photographs. Schemas, writes with who and when, undo/redo per
// labeller, the queue and its filters, progress with agreement, splits, exports read back by the
// trainer's own label parsers, the `labels` topic, and refusals at the boundary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { faceFolder, tempDir } from '../support/folders.js';
import { attributeCsv } from '../support/rendered-faces.js';
import { errorOf, hosted, until, type Hosted } from '../support/app-host.js';
import { parseCsv } from '../../trainer/src/labels/label-files.js';
import type { Job, LabelSchema, TopicEvent } from '../../electron/common/contract.js';

let h: Hosted;
let dataset: number;
let images: number[];
beforeAll(async () => {
  h = await hosted();
  const jobs: Job[] = [];
  const off = await h.client.subscribe('jobs', {}, (j) => jobs.push(j));
  const r = await h.client.call('datasets.add', { path: faceFolder(10, 'label-api') });
  await until('the scan', () => jobs.find((j) => j.id === r.job.id && j.status !== 'running'), Boolean);
  off();
  dataset = r.dataset.id;
  images = (await h.client.call('datasets.images', { dataset, status: 'ok' })).items.map((i) => i.id);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('labelling over the contract', () => {
  let fer: LabelSchema;
  let far: LabelSchema;

  it('creates schemas from templates and from own names; refuses a duplicate name and a bad template', async () => {
    fer = await h.client.call('labels.createSchema', { dataset, template: 'ferplus8' });
    expect(fer.fields.map((f) => f.name)).toEqual([
      'neutral',
      'happiness',
      'surprise',
      'sadness',
      'anger',
      'disgust',
      'fear',
      'contempt',
    ]);
    expect(fer.fields.map((f) => f.shortcut)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    far = await h.client.call('labels.createSchema', {
      dataset,
      name: 'mine',
      task: 'far',
      names: ['glasses', 'beard', 'smiling'],
      extras: [{ kind: 'number', name: 'yaw', min: -90, max: 90, unit: '°' }],
    });
    expect(far.fields.map((f) => [f.kind, f.name, f.shortcut])).toEqual([
      ['attribute', 'glasses', 'a'],
      ['attribute', 'beard', 'b'],
      ['attribute', 'smiling', 'c'],
      ['number', 'yaw', null],
    ]);
    expect((await h.client.call('labels.schemas', { dataset })).map((s) => s.name)).toEqual([
      'FERPlus expressions',
      'mine',
    ]);
    expect(await errorOf(h.client.call('labels.createSchema', { dataset, template: 'ferplus8' }))).toMatchObject({
      cause: 'input',
      field: 'name',
    });
    expect(
      await errorOf(h.client.call('labels.createSchema', { dataset, template: 'imagenet' as never })),
    ).toMatchObject({ cause: 'usage', field: 'template' });
    expect(await errorOf(h.client.call('labels.schemas', { dataset: 999 }))).toMatchObject({ cause: 'not-found' });
  });

  it('every write is committed with who and when, published on the topic; undo and redo are per labeller', async () => {
    const events: TopicEvent<'labels'>[] = [];
    const off = await h.client.subscribe('labels', { schema: fer.id }, (e) => events.push(e));
    const happy = fer.fields.find((f) => f.name === 'happiness')!.id;
    const sad = fer.fields.find((f) => f.name === 'sadness')!.id;
    const w1 = await h.client.call('labels.write', {
      schema: fer.id,
      images: [images[0]!],
      labeller: 'ana',
      changes: [{ slot: 0, value: happy }],
    });
    expect(w1).toMatchObject({ changed: 1, canUndo: true, canRedo: false });
    await h.client.call('labels.write', {
      schema: fer.id,
      images: [images[1]!, images[2]!],
      labeller: 'ana',
      changes: [{ slot: 0, value: sad }],
    });
    await h.client.call('labels.write', {
      schema: fer.id,
      images: [images[0]!],
      labeller: 'ben',
      changes: [{ slot: 0, value: sad }],
    });
    const of = await h.client.call('labels.of', { schema: fer.id, images: [images[0]!] });
    expect(of.annotations.map((a) => [a.labeller, a.value, a.source])).toEqual([
      ['ana', happy, 'human'],
      ['ben', sad, 'human'],
    ]);
    expect(Date.now() - Date.parse(of.annotations[0]!.at)).toBeLessThan(60_000);
    // ana's undo takes back her grid apply (two faces), not ben's label
    const u = await h.client.call('labels.undo', { schema: fer.id, labeller: 'ana' });
    expect(u).toMatchObject({ canUndo: true, canRedo: true });
    expect(u.undone!.images.sort()).toEqual([images[1]!, images[2]!].sort());
    expect(
      (await h.client.call('labels.of', { schema: fer.id, images: [images[1]!, images[2]!] })).annotations,
    ).toEqual([]);
    await h.client.call('labels.redo', { schema: fer.id, labeller: 'ana' });
    expect(
      (await h.client.call('labels.of', { schema: fer.id, images: [images[1]!, images[2]!] })).annotations,
    ).toHaveLength(2);
    await until(
      'the topic events',
      () => events.length,
      (n) => n >= 5,
    );
    expect(events.map((e) => e.what)).toEqual(['write', 'write', 'write', 'undo', 'redo']);
    expect(events[3]!.labeller).toBe('ana');
    off();
  });

  it('the queue filters (unlabelled, disagreement, by label) and progress with agreement', async () => {
    const unl = await h.client.call('labels.queue', { schema: fer.id, filter: 'unlabelled' });
    expect(unl.total).toBe(images.length - 3);
    const dis = await h.client.call('labels.queue', { schema: fer.id, filter: 'disagreement' });
    expect(dis.items.map((i) => i.image_id)).toEqual([images[0]!]);
    const sad = fer.fields.find((f) => f.name === 'sadness')!.id;
    expect((await h.client.call('labels.queue', { schema: fer.id, label: { slot: 0, value: sad } })).total).toBe(3);
    expect(await errorOf(h.client.call('labels.queue', { schema: fer.id, order: 'uncertainty' }))).toMatchObject({
      field: 'runId',
    });
    const p = await h.client.call('labels.progress', { schema: fer.id });
    expect(p).toMatchObject({ images: images.length, labelled: 3 });
    expect(p.fields.find((f) => f.name === 'sadness')!.present).toBe(3);
    expect(p.agreement).toEqual([{ a: 'ana', b: 'ben', compared: 1, agreement: 0, kappa: expect.any(Number) }]);
  });

  it('renaming and deleting a class keep its labels and say how many; restoring brings them back', async () => {
    const sadField = fer.fields.find((f) => f.name === 'sadness')!;
    const r = await h.client.call('labels.renameField', { id: sadField.id, name: 'sad' });
    expect(r).toMatchObject({ previous: 'sadness', labels: 3, images: 3 });
    const d = await h.client.call('labels.deleteField', { id: sadField.id });
    expect(d).toMatchObject({ labels: 3, images: 3 });
    expect((await h.client.call('labels.progress', { schema: fer.id })).labelled).toBe(1);
    // the datasets list counts the faces labelled in the app, without the deleted class's, and is told
    const row = async () => (await h.client.call('datasets.list', {})).find((x) => x.id === dataset)!;
    expect((await row()).labelled_count).toBe(1);
    const told: number[] = [];
    const off = await h.client.subscribe(
      'datasets',
      {},
      (e) => e.dataset && e.id === dataset && told.push(e.dataset.labelled_count),
    );
    await h.client.call('labels.restoreField', { id: sadField.id });
    expect((await h.client.call('labels.progress', { schema: fer.id })).labelled).toBe(3);
    expect((await row()).labelled_count).toBe(3);
    await until(
      'the datasets topic to tell the new count',
      () => told,
      (t) => t.includes(3),
      5_000,
    );
    off();
  });

  it('a seeded split, then exports: CSV read back by --format csv, CelebA layout by --format celeba', async () => {
    // attributes for every face by one labeller (one action a face: the whole vector)
    const attrs = far.fields.filter((f) => f.kind === 'attribute');
    for (const [k, id] of images.entries())
      await h.client.call('labels.write', {
        schema: far.id,
        images: [id],
        labeller: 'ana',
        changes: attrs.map((f, j) => ({ slot: f.id, value: (k + j) % 2 })),
      });
    const split = await h.client.call('labels.split', { schema: far.id, seed: 3, val: 0.2, test: 0.2 });
    expect(split.train + split.val + split.test).toBe(images.length);
    expect(split.val).toBe(2);
    const csv = await h.client.call('labels.export', { schema: far.id, format: 'csv' });
    expect(csv.rows).toBe(images.length);
    const set = parseCsv(csv.files[0]!);
    expect(set.names).toEqual(['glasses', 'beard', 'smiling']);
    expect(set.items).toHaveLength(images.length);
    const out = tempDir('celeba-export');
    const cel = await h.client.call('labels.export', { schema: far.id, format: 'celeba', out });
    expect(cel.folder).toBe(out);
    // the layout of CelebA's files (the byte-exact round trip of a 40-attribute file: tests/unit/labelling.test.ts)
    const attrLines = readFileSync(join(out, 'Anno', 'list_attr_celeba.txt'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(attrLines.slice(0, 2)).toEqual([String(images.length), 'glasses beard smiling']);
    for (const l of attrLines.slice(2)) expect(l).toMatch(/^\S+\.(jpg|png)( (-1| 1)){3}$/);
    const part = readFileSync(join(out, 'Eval', 'list_eval_partition.txt'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(part.filter((l) => l.endsWith(' 1'))).toHaveLength(2);
    expect(part.filter((l) => l.endsWith(' 2'))).toHaveLength(2);
    expect(await errorOf(h.client.call('labels.export', { schema: fer.id, format: 'celeba' }))).toMatchObject({
      cause: 'input',
      field: 'format',
    });
    expect(
      await errorOf(h.client.call('labels.export', { schema: far.id, format: 'csv', out: 'relative/dir' })),
    ).toMatchObject({ field: 'out' });
    // the same exports as downloads (what the app's buttons are): an attachment, the same bytes; CelebA's two files as a zip
    const dl = await h.raw(`/api/downloads/labels?schema=${far.id}&format=csv&labels=human`);
    expect([dl.status, dl.headers.get('content-type'), dl.headers.get('content-disposition')]).toEqual([
      200,
      'text/csv; charset=utf-8',
      `attachment; filename="${far.name.toLowerCase()}-csv-labels.csv"`,
    ]);
    expect(dl.body.toString('utf8')).toBe(readFileSync(csv.files[0]!, 'utf8'));
    const zip = await h.raw(`/api/downloads/labels?schema=${far.id}&format=celeba`);
    expect([zip.status, zip.headers.get('content-type'), zip.body.subarray(0, 4).toString('latin1')]).toEqual([
      200,
      'application/zip',
      'PK\x03\x04',
    ]);
    expect(
      zip.body.includes(Buffer.from('Anno/list_attr_celeba.txt')) &&
        zip.body.includes(Buffer.from('Eval/list_eval_partition.txt')),
    ).toBe(true);
    // a bad query is a 400 with its reason; a POST is not a download; no token, no file
    const bad = await h.raw(`/api/downloads/labels?schema=abc&format=csv`);
    expect([bad.status, JSON.parse(bad.body.toString()).error.cause]).toEqual([400, 'usage']);
    expect(
      (await h.raw(`/api/downloads/labels?schema=${far.id}&format=csv`, { method: 'POST', body: '{}' })).status,
    ).toBe(404);
    expect((await h.raw(`/api/downloads/labels?schema=${far.id}&format=csv`, { token: null })).status).toBe(401);
  });

  it("imports a dataset folder's label file into a schema with its source; a broken file is refused with its line", async () => {
    const root = await attributeCsv(8, 2);
    const jobs: Job[] = [];
    const off = await h.client.subscribe('jobs', {}, (j) => jobs.push(j));
    const added = await h.client.call('datasets.add', { path: root });
    await until('the scan', () => jobs.find((j) => j.id === added.job.id && j.status !== 'running'), Boolean);
    off();
    const r = await h.client.call('labels.import', { dataset: added.dataset.id, format: 'csv' });
    expect(r.images).toBe(8);
    expect(r.schema.fields.map((f) => f.name)).toEqual(['Smiling', 'Eyeglasses']);
    const p = await h.client.call('labels.progress', { schema: r.schema.id });
    expect(p).toMatchObject({
      labelled: 8,
      complete: 8,
      labellers: [expect.objectContaining({ labeller: 'import:csv', images: 8 })],
    });
    expect(p.splits.train + p.splits.val + p.splits.test).toBe(8);
    // importing again updates the same schema, never a second one
    expect((await h.client.call('labels.import', { dataset: added.dataset.id, format: 'csv' })).schema.id).toBe(
      r.schema.id,
    );
    writeFileSync(join(root, 'labels.csv'), 'path,Smiling,Eyeglasses\nf0.png,1,2\n');
    expect(await errorOf(h.client.call('labels.import', { dataset: added.dataset.id, format: 'csv' }))).toMatchObject({
      cause: 'input',
      message: expect.stringMatching(/labels\.csv:2/),
    });
    expect(
      await errorOf(h.client.call('labels.import', { dataset: added.dataset.id, format: 'celeba' })),
    ).toMatchObject({ cause: 'input', message: expect.stringMatching(/list_attr_celeba\.txt/) });
  });

  it('refuses at the boundary: unknown fields, a value outside a field, an image of another dataset, a reserved labeller', async () => {
    expect(
      await errorOf(
        h.client.call('labels.write', {
          schema: far.id,
          images: [images[0]!],
          labeller: 'ana',
          changes: [{ slot: far.fields[0]!.id, value: 1 }],
          extra: 1,
        } as never),
      ),
    ).toMatchObject({ cause: 'usage' });
    expect(
      await errorOf(
        h.client.call('labels.write', {
          schema: far.id,
          images: [images[0]!],
          labeller: 'ana',
          changes: [{ slot: far.fields[0]!.id, value: 2 }],
        }),
      ),
    ).toMatchObject({ cause: 'input', field: 'value' });
    const yaw = far.fields.find((f) => f.name === 'yaw')!;
    expect(
      await errorOf(
        h.client.call('labels.write', {
          schema: far.id,
          images: [images[0]!],
          labeller: 'ana',
          changes: [{ slot: yaw.id, value: 120 }],
        }),
      ),
    ).toMatchObject({ field: 'value' });
    expect(
      await h.client.call('labels.write', {
        schema: far.id,
        images: [images[0]!],
        labeller: 'ana',
        changes: [{ slot: yaw.id, value: -30 }],
      }),
    ).toMatchObject({ changed: 1 });
    expect(
      await errorOf(
        h.client.call('labels.write', {
          schema: far.id,
          images: [999_999],
          labeller: 'ana',
          changes: [{ slot: far.fields[0]!.id, value: 1 }],
        }),
      ),
    ).toMatchObject({ field: 'imageIds' });
    expect(
      await errorOf(
        h.client.call('labels.write', {
          schema: far.id,
          images: [images[0]!],
          labeller: 'import:csv',
          changes: [{ slot: far.fields[0]!.id, value: 1 }],
        }),
      ),
    ).toMatchObject({ field: 'labeller' });
    expect(await errorOf(h.client.call('labels.setShortcut', { id: far.fields[0]!.id, key: ' ' }))).toMatchObject({
      field: 'shortcut',
    });
    expect(await errorOf(h.client.call('labels.setShortcut', { id: far.fields[0]!.id, key: 'b' }))).toMatchObject({
      field: 'shortcut',
    });
    expect(await errorOf(h.client.call('labels.predict', { schema: fer.id, run: 'no-such-run' }))).toMatchObject({
      cause: 'not-found',
    });
  });
});
