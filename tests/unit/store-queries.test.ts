// The app's reads of the store (trainer/src/store/*-queries.ts, reached through Store methods), on
// a real SQLite file: what each returns, in which order, and what each filter keeps.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Store, type NewImage } from '../../trainer/src/store/store.js';
import * as L from '../../trainer/src/labels/index.js';
import { tempDir } from '../support/folders.js';
import { Datasets } from '../../electron/services/datasets.js';
import { Jobs } from '../../electron/services/jobs.js';
import { EventBus } from '../../electron/base/bus.js';

const img = (rel_path: string, o: Partial<NewImage> = {}): NewImage => ({
  rel_path,
  bytes: 100,
  mtime_ms: 1,
  width: 64,
  height: 48,
  format: 'jpeg',
  sha256: `sha-${rel_path}`,
  status: 'ok',
  error: null,
  ...o,
});

/** A dataset of five files: three readable at the root and in a/, one in b/, one unreadable. */
function dataset() {
  const s = new Store(join(tempDir('store-queries'), 'camd.db'));
  const ds = s.ensureDataset('/faces', 'faces');
  s.applyScan(
    ds.id,
    [
      img('a/1.jpg'),
      img('a/2.png', { format: 'png', width: 300, height: 200 }),
      img('b/3.jpg', { width: 1000, height: 2000 }),
      img('top.jpg'),
      img('bad.jpg', { status: 'bad', error: 'truncated', width: null, height: null, format: null }),
    ],
    [],
  );
  const id = (rel: string) => s.imageIdAt(ds.id, rel)!;
  return { s, ds, id };
}

/** A label by labeller 'ann' (the labels view reads the annotations): `name` an attribute of a 'far' schema, or 'class' of a 'fer' one. */
function label(s: Store, datasetId: number, imageId: number, task: 'far' | 'fer', name: string, value: number) {
  const names = task === 'far' ? [name] : ['c0', 'c1', 'c2', 'c3'];
  const schema =
    L.listSchemas(s.db, datasetId).find((x) => x.task === task) ?? L.createSchema(s.db, { datasetId, task, names });
  const field = task === 'far' ? schema.fields.find((f) => f.name === name)! : schema.fields[value]!;
  L.writeLabels(s.db, {
    schemaId: schema.id,
    imageIds: [imageId],
    labeller: 'ann',
    changes: [task === 'far' ? { slot: field.id, value } : { slot: 0, value: field.id }],
  });
  return schema.id;
}

describe('store: the app reads datasets and images', () => {
  it('lists datasets with their labelled count (labels on live fields only); forgets one', () => {
    const { s, ds, id } = dataset();
    const other = s.ensureDataset('/other', 'other');
    expect(s.datasetSummaries().map((d) => [d.id, d.labelled_count])).toEqual([
      [ds.id, 0],
      [other.id, 0],
    ]);
    const schema = L.createSchema(s.db, { datasetId: ds.id, task: 'far', names: ['smiling', 'glasses'] });
    const [smiling, glasses] = schema.fields;
    L.writeLabels(s.db, {
      schemaId: schema.id,
      imageIds: [id('a/1.jpg')],
      labeller: 'ann',
      changes: [{ slot: smiling!.id, value: 1 }],
    });
    L.writeLabels(s.db, {
      schemaId: schema.id,
      imageIds: [id('top.jpg')],
      labeller: 'ann',
      changes: [{ slot: glasses!.id, value: 0 }],
    });
    expect(s.datasetSummary(ds.id)).toMatchObject({
      id: ds.id,
      name: 'faces',
      root: '/faces',
      image_count: 4,
      bad_count: 1,
      source_dataset_id: null,
      labelled_count: 2,
    });
    L.deleteField(s.db, glasses!.id);
    expect(s.datasetSummary(ds.id)!.labelled_count).toBe(1);
    expect(s.datasetSummary(999)).toBeUndefined();
    s.deleteDataset(other.id);
    expect(s.datasetSummaries().map((d) => d.id)).toEqual([ds.id]);
    s.close();
  });

  it('pages images in path order with every filter', () => {
    const { s, ds, id } = dataset();
    label(s, ds.id, id('a/2.png'), 'fer', 'class', 3);
    const page = (q: Partial<Parameters<Store['imagePage']>[0]>) => {
      const r = s.imagePage({ dataset: ds.id, offset: 0, limit: 100, ...q });
      return [r.total, r.items.map((i) => i.rel_path)];
    };
    expect(page({})).toEqual([5, ['a/1.jpg', 'a/2.png', 'b/3.jpg', 'bad.jpg', 'top.jpg']]);
    expect(page({ offset: 1, limit: 2 })).toEqual([5, ['a/2.png', 'b/3.jpg']]);
    expect(page({ status: 'bad' })).toEqual([1, ['bad.jpg']]);
    expect(page({ labelled: true })).toEqual([1, ['a/2.png']]);
    expect(page({ labelled: false })[0]).toBe(4);
    expect(page({ label: { task: 'fer', name: 'class', value: 3 } })).toEqual([1, ['a/2.png']]);
    expect(page({ label: { task: 'fer', name: 'class', value: 2 } })).toEqual([0, []]);
    expect(page({ folder: '/a/' })).toEqual([2, ['a/1.jpg', 'a/2.png']]);
    expect(page({ search: 'TOP' })).toEqual([1, ['top.jpg']]);
    expect(s.imagePage({ dataset: ds.id, offset: 0, limit: 1 }).items[0]).toEqual({
      id: id('a/1.jpg'),
      rel_path: 'a/1.jpg',
      width: 64,
      height: 48,
      status: 'ok',
      error: null,
    });
    s.close();
  });

  it('one image, its labels, its file; the readable images one at a time', () => {
    const { s, ds, id } = dataset();
    label(s, ds.id, id('a/1.jpg'), 'far', 'smiling', 1);
    expect(s.image(id('a/1.jpg'))).toEqual({
      id: id('a/1.jpg'),
      dataset_id: ds.id,
      rel_path: 'a/1.jpg',
      bytes: 100,
      mtime_ms: 1,
      width: 64,
      height: 48,
      format: 'jpeg',
      sha256: 'sha-a/1.jpg',
      status: 'ok',
      error: null,
    });
    expect(s.image(999)).toBeUndefined();
    expect(s.imageLabels(id('a/1.jpg'))).toEqual([{ task: 'far', name: 'smiling', value: 1, split: null }]);
    expect(s.imageFile(id('b/3.jpg'))).toEqual({
      rel_path: 'b/3.jpg',
      sha256: 'sha-b/3.jpg',
      status: 'ok',
      root: '/faces',
    });
    expect(s.imageIdAt(ds.id, 'nowhere.jpg')).toBeUndefined();
    expect(s.readableImageCount(ds.id)).toBe(4);
    expect(s.readableImage(ds.id, id('bad.jpg'))).toBeUndefined();
    expect(s.readableImage(ds.id, id('top.jpg'))).toEqual({ id: id('top.jpg'), rel_path: 'top.jpg' });
    const inIdOrder = ['a/1.jpg', 'a/2.png', 'b/3.jpg', 'top.jpg'];
    expect([0, 1, 2, 3, 4].map((n) => s.nthReadableImage(ds.id, n)?.rel_path)).toEqual([...inIdOrder, undefined]);
    s.close();
  });

  it("a dataset's numbers: formats, shorter sides, folders (counted a page of the index at a time), label counts", async () => {
    const { s, ds, id } = dataset();
    for (const [rel, value] of [
      ['a/1.jpg', 1],
      ['a/2.png', 1],
      ['top.jpg', 0],
    ] as const)
      label(s, ds.id, id(rel), 'far', 'smiling', value);
    const split = s.db.prepare("INSERT INTO label_splits (schema_id, image_id, split) VALUES (?, ?, 'train')");
    for (const rel of ['a/1.jpg', 'a/2.png']) split.run(L.listSchemas(s.db, ds.id)[0]!.id, id(rel));
    expect(s.imageFactsAfter(ds.id, 'a/2.png', 2).map((r) => r.rel_path)).toEqual(['b/3.jpg', 'bad.jpg']);
    const bus = new EventBus();
    const stats = await new Datasets(s, new Jobs(bus), bus).stats(ds.id);
    expect(stats.formats).toEqual({ jpeg: 3, png: 1, unreadable: 1 });
    const counted = stats.resolution.filter((b) => b.count > 0).map((b) => [b.from, b.count]);
    expect(counted).toEqual([
      [32, 2], // 48
      [128, 1], // 200
      [768, 1], // 1000
    ]);
    expect(stats.folders).toEqual([
      { folder: '', count: 1 },
      { folder: 'a', count: 2 },
      { folder: 'b', count: 1 },
    ]);
    expect(s.labelValueCounts(ds.id).sort((a, b) => a.value - b.value)).toEqual([
      { task: 'far', name: 'smiling', value: 0, split: '', n: 1 },
      { task: 'far', name: 'smiling', value: 1, split: 'train', n: 2 },
    ]);
    s.close();
  });
});

describe('store: the app reads runs and what they produced', () => {
  function runs() {
    const { s, ds } = dataset();
    s.createRun({ id: 'p1', kind: 'pretrain', name: 'beta', datasetId: ds.id, config: {}, seed: 0 });
    s.createRun({ id: 'f1', kind: 'finetune', name: 'alpha', datasetId: ds.id, config: {}, seed: 0 });
    s.createRun({ id: 'e1', kind: 'eval', datasetId: null, config: {}, seed: 0, spec: { schema: 'emotions' } });
    return { s, ds };
  }

  it('summaries: the headline number of each kind; filters and orders', () => {
    const { s, ds } = runs();
    s.addMetrics('p1', [
      { step: 1, epoch: 0, name: 'loss', value: 2 },
      { step: 2, epoch: 0, name: 'loss', value: 1.5 },
    ]);
    const ev = { dataset_id: null, epoch: 1, metric: 'top1', detail: { baselines: { majority: 0.4, chance: 0.25 } } };
    s.addEvaluation({ ...ev, run_id: 'f1', split: 'val', value: 0.6, selected: true });
    s.addEvaluation({ ...ev, run_id: 'f1', split: 'test', value: 0.7, selected: true });
    s.addEvaluation({ ...ev, run_id: 'f1', split: 'test', value: 0.9, epoch: 2 }); // not the selected epoch
    expect(s.runSummary('p1')).toMatchObject({ metric_name: 'loss', metric_value: 1.5, metric_baselines: null });
    const f1 = s.runSummary('f1')!;
    expect(f1).toMatchObject({ kind: 'finetune', status: 'created', metric_name: 'top1', metric_value: 0.7 });
    expect(JSON.parse(f1.metric_baselines!)).toMatchObject({ majority: 0.4, chance: 0.25 });
    expect(s.runSummary('e1')).toMatchObject({ metric_name: null, metric_value: null, spec: '{"schema":"emotions"}' });
    expect(s.runSummary('nope')).toBeUndefined();
    const ids = (f: Partial<Parameters<Store['runSummaries']>[0]>) =>
      s.runSummaries({ sort: 'name', order: 'asc', ...f }).map((r) => r.id);
    expect(ids({})).toEqual(['f1', 'p1', 'e1']); // by name, else by id
    expect(ids({ order: 'desc' })).toEqual(['e1', 'p1', 'f1']);
    expect(ids({ kind: 'pretrain' })).toEqual(['p1']);
    expect(ids({ dataset: ds.id })).toEqual(['f1', 'p1']);
    s.setRunStatus('p1', 'queued');
    expect(ids({ statuses: ['queued', 'running'] })).toEqual(['p1']);
    expect(ids({ statuses: [] })).toEqual(['f1', 'p1', 'e1']);
    expect(ids({ sort: 'status' })).toEqual(['e1', 'f1', 'p1']); // 'created' < 'queued', then by id
    s.close();
  });

  it('the queue in the order it was queued; unfinished runs of a dataset and of a label schema; forgetting a run', () => {
    const { s, ds } = runs();
    expect(s.queuedRunIds()).toEqual([]);
    s.setRunStatus('p1', 'queued');
    s.setRunStatus('f1', 'queued');
    s.db.prepare("UPDATE runs SET updated_at = '2000-01-01' WHERE id = 'f1'").run(); // queued first
    expect(s.queuedRunIds()).toEqual(['f1', 'p1']);
    expect(s.unfinishedRunCount(ds.id)).toBe(2);
    s.setRunStatus('f1', 'stopped');
    expect(s.unfinishedRunCount(ds.id)).toBe(1);
    s.updateRun('p1', { spec: JSON.stringify({ schema: '7' }) });
    expect(s.unfinishedRunsOnSchema(ds.id, { id: 7, name: 'emotions' })).toBe(1);
    expect(s.unfinishedRunsOnSchema(ds.id, { id: 8, name: 'other' })).toBe(0);
    s.updateRun('p1', { spec: JSON.stringify({ schema: 'emotions' }) });
    expect(s.unfinishedRunsOnSchema(ds.id, { id: 7, name: 'emotions' })).toBe(1);
    s.addMetrics('p1', [{ step: 1, epoch: 0, name: 'loss', value: 2 }]);
    s.deleteRun('p1');
    expect(s.run('p1')).toBeUndefined();
    expect(s.metrics(['p1'])).toEqual([]);
    s.close();
  });

  it('metric names, a value at a step, the points after a step', () => {
    const { s } = runs();
    s.addMetrics('p1', [
      { step: 1, epoch: 0.5, name: 'loss', value: 3, t: 1000 },
      { step: 2, epoch: null, name: 'loss', value: 2, t: 2000 },
      { step: 3, epoch: 1, name: 'loss', value: 1, t: 3000 },
      { step: 1, epoch: 0.5, name: 'lr', value: 0.1 },
    ]);
    s.addMetrics('f1', [{ step: 1, epoch: 1, name: 'acc', value: 0.5 }]);
    expect(s.metricNames(['p1', 'f1'])).toEqual(['acc', 'loss', 'lr']);
    expect(s.metricNames(['e1'])).toEqual([]);
    expect(s.metricValueAt('p1', 'loss', 2)).toBe(2);
    expect(s.metricValueAt('p1', 'loss', 9)).toBeUndefined();
    expect(s.metricPointsAfter('p1', 'loss', 1)).toEqual([
      [2, null, 2000, 2],
      [3, 1, 3000, 1],
    ]);
    s.close();
  });

  it('checkpoints by id and by kind (newest first), a fine-tuned model, evaluations', () => {
    const { s } = runs();
    const ck = (run_id: string, step: number, kind: 'full' | 'encoder' | 'classifier' | 'last', path: string) =>
      s.addCheckpoint({ run_id, step, kind, path, sha256: 'ab', bytes: 1 });
    ck('p1', 10, 'full', '/p/10');
    ck('p1', 20, 'full', '/p/20');
    ck('p1', 20, 'encoder', '/p/enc');
    ck('f1', 5, 'last', '/f/last5');
    ck('f1', 9, 'last', '/f/last9');
    expect(s.checkpointPaths('p1', 'full')).toEqual(['/p/20', '/p/10']);
    expect(s.checkpointPaths('p1', 'classifier')).toEqual([]);
    const first = s.checkpoints('p1')[0]!;
    expect(s.checkpoint(first.id)).toEqual(first);
    expect(s.checkpoint(999)).toBeUndefined();
    expect(s.fineTunedModelPath('f1')).toBe('/f/last9');
    ck('f1', 3, 'classifier', '/f/best');
    expect(s.fineTunedModelPath('f1')).toBe('/f/best'); // the selected classifier before a newer last model
    expect(s.fineTunedModelPath('p1')).toBeUndefined();
    s.addEvaluation({ run_id: 'f1', dataset_id: null, epoch: 2, split: 'test', metric: 'top1', value: 0.5 });
    s.addEvaluation({ run_id: 'f1', dataset_id: null, epoch: 1, split: 'val', metric: 'top1', value: 0.4 });
    s.addEvaluation({
      run_id: 'f1',
      dataset_id: null,
      epoch: 1,
      split: 'test',
      metric: 'top1',
      value: 0.3,
      detail: { x: 1 },
      selected: true,
    });
    expect(s.evaluations('f1').map((e) => [e.epoch, e.split, e.value, e.selected, e.detail])).toEqual([
      [1, 'test', 0.3, 1, '{"x":1}'],
      [1, 'val', 0.4, 0, null],
      [2, 'test', 0.5, 0, null],
    ]);
    s.close();
  });
});

describe('store: the app touches label schemas; the smoke check', () => {
  it('is there a schema, its dataset, its split seed; ping and open', () => {
    const { s, ds } = dataset();
    const schema = L.createSchema(s.db, { datasetId: ds.id, task: 'fer', names: ['happy', 'sad'] });
    expect(s.hasLabelSchema(schema.id)).toBe(true);
    expect(s.hasLabelSchema(schema.id + 1)).toBe(false);
    expect(s.labelSchemaDataset(schema.id)).toBe(ds.id);
    expect(s.labelSchemaDataset(schema.id + 1)).toBeUndefined();
    s.setSplitSeed(schema.id, 42);
    expect(L.getSchema(s.db, schema.id).split_seed).toBe(42);
    expect(s.ping()).toBe(true);
    expect(s.isOpen()).toBe(true);
    s.close();
    expect(s.isOpen()).toBe(false);
  });
});
