// Model-assisted labelling through the real CLI: a `--format store` fine-tune leaves its
// predictions on every face; `camd predict` makes them for any fine-tuned model; `camd
// label-curve` fits the "labels needed" curve on an encoder's cached features.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expressionFolders } from '../support/rendered-faces.js';
import { tempDir } from '../support/folders.js';
import { Store } from '../../trainer/src/store/store.js';
import * as L from '../../trainer/src/labels/index.js';

const CAMD = fileURLToPath(new URL('../../trainer/bin/camd.js', import.meta.url));
type Line = { type?: string; [k: string]: unknown };
function camd(args: string[]): { status: number | null; lines: Line[]; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [CAMD, ...args], { encoding: 'utf8', timeout: 600_000 });
  const lines = args.includes('--json')
    ? r.stdout
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Line)
    : [];
  return { status: r.status, lines, stderr: r.stderr, stdout: r.stdout };
}

let folders: string;
let db: string;

/** The predictions of the fine-tune's run on the schema's 60 faces, by image. */
function predictionsNow(runId: string) {
  const store = new Store(db);
  try {
    return L.predictionsOf(
      store.db,
      runId,
      schemaId,
      images.map((i) => i.id),
    ).sort((a, b) => a.image_id - b.image_id);
  } finally {
    store.close();
  }
}
let schemaId: number;
let fieldOf: Map<string, number>;
let images: { id: number; rel_path: string }[];
beforeAll(async () => {
  folders = await expressionFolders(20, 4); // 60 rendered faces, 3 expressions
  db = join(tempDir('db'), 'camd.db');
  expect(camd(['scan', folders, '--db', db]).status).toBe(0);
  const store = new Store(db);
  const d = store.datasetByRoot(folders)!;
  const s = L.createSchema(store.db, {
    datasetId: d.id,
    name: 'expressions',
    task: 'fer',
    names: ['smile', 'frown', 'surprise'],
  });
  schemaId = s.id;
  fieldOf = new Map(s.fields.map((f) => [f.name, f.id]));
  images = store.images(d.id, 'ok');
  // 48 of 60 faces labelled; 12 left for the model to help with
  for (const im of images.filter((_, k) => k % 5 !== 0))
    L.writeLabels(store.db, {
      schemaId: s.id,
      imageIds: [im.id],
      labeller: 'ana',
      changes: [{ slot: 0, value: fieldOf.get(im.rel_path.split('/')[0]!)! }],
    });
  store.close();
}, 120_000);

describe('predictions for labelling', () => {
  let best: string;
  let runId: string;

  it('a --format store fine-tune saves its predictions on every face (labelled or not), mapped to the schema, before it is done', () => {
    const out = join(tempDir('run'), 'ft');
    const r = camd([
      'finetune',
      '--json',
      '--task',
      'fer',
      '--format',
      'store',
      '--schema',
      'expressions',
      '--data',
      folders,
      '--init',
      'none',
      '--preset',
      'micro',
      '--epochs',
      '2',
      '--batch',
      '16',
      '--aa',
      'none',
      '--out',
      out,
      '--db',
      db,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const types = r.lines.map((l) => (l.type === 'progress' ? `progress:${String(l.phase)}` : l.type));
    expect(types).toContain('progress:predicting');
    expect(types.lastIndexOf('progress:predicting')).toBeLessThan(types.indexOf('done'));
    expect(
      r.lines.find((l) => l.type === 'log' && /predictions on 60 face\(s\) saved/.test(String(l.message))),
    ).toBeTruthy();
    runId = String(r.lines.find((l) => l.type === 'start')!.run_id);
    best = String(r.lines.find((l) => l.type === 'done')!.checkpoint);
    const store = new Store(db);
    const preds = L.predictionsOf(
      store.db,
      runId,
      schemaId,
      images.map((i) => i.id),
    );
    expect(preds).toHaveLength(60);
    const classes = new Set(fieldOf.values());
    for (const p of preds) {
      expect(p.slot).toBe(0);
      expect(classes.has(p.value)).toBe(true);
      expect(p.confidence).toBeGreaterThanOrEqual(1 / 3);
      expect(p.confidence).toBeLessThanOrEqual(1);
      const probs = p.probs as Record<string, number>;
      expect(Object.keys(probs).map(Number).sort()).toEqual([...classes].sort());
      expect(Object.values(probs).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(probs[String(p.value)]).toBeCloseTo(p.confidence, 6);
    }
    // apart from labels: progress counts people's labels only
    expect(L.progress(store.db, schemaId).labelled).toBe(48);
    // the least confident come first
    const q = L.queue(store.db, { schemaId, runId, order: 'uncertainty', limit: 60 });
    const conf = q.items.map((i) => i.confidence!);
    expect(conf).toEqual([...conf].sort((a, b) => a - b));
    store.close();
  });

  it('camd predict: the same predictions for a model of the store; its run found from the file; a schema that does not fit is refused', () => {
    // camd predict --json MODEL… on the dataset's expressions schema in this store
    const predictWith = (...model: string[]) =>
      camd(['predict', '--json', ...model, '--data', folders, '--schema', 'expressions', '--db', db]);
    const r = predictWith('--checkpoint', best);
    expect(r.status, r.stderr).toBe(0);
    expect(r.lines.at(-1)).toMatchObject({
      type: 'done',
      kind: 'predict',
      images: 60,
      run_id: runId,
      schema_id: schemaId,
    });
    expect(r.lines.some((l) => l.type === 'progress' && l.phase === 'predicting' && l.done === 60)).toBe(true);
    // the same model exported to ONNX and run in ONNX Runtime: the same prediction on every face
    const before = predictionsNow(runId);
    const file = join(tempDir('onnx'), 'expressions.onnx');
    expect(camd(['export', '--checkpoint', best, '--format', 'onnx', '--out', file]).status).toBe(0);
    const noRun = predictWith('--onnx', file);
    expect(noRun.status).toBe(2);
    expect(noRun.stderr).toMatch(
      /an ONNX file belongs to no run of the store: say whose predictions these are with --run-id/,
    );
    const viaOnnx = predictWith('--onnx', file, '--run-id', runId);
    expect(viaOnnx.status, viaOnnx.stderr).toBe(0);
    expect(viaOnnx.lines.at(-1)).toMatchObject({ type: 'done', kind: 'predict', images: 60, run_id: runId });
    const after = predictionsNow(runId);
    expect(after.map((p) => [p.image_id, p.value])).toEqual(before.map((p) => [p.image_id, p.value]));
    after.forEach((p, i) => expect(Math.abs(p.confidence - before[i]!.confidence)).toBeLessThan(1e-4));
    const missing = camd(['predict', '--onnx', `${file}.gone`, '--data', folders, '--schema', 'expressions']);
    expect(missing.stderr.trim()).toBe(`camd: --onnx ${file}.gone: no such file or folder`);
    const foreign = camd(['predict', '--onnx', best, '--data', folders, '--schema', 'expressions']);
    expect(foreign.status).toBe(2);
    expect(foreign.stderr).toMatch(/is not an ONNX file|has no CAMD Studio metadata/);
    const both = camd(['predict', '--onnx', file, '--checkpoint', best, '--data', folders, '--schema', 'expressions']);
    expect(both.stderr.trim()).toBe('camd: --checkpoint and --onnx: give one model');
    const store = new Store(db);
    const d = store.datasetByRoot(folders)!;
    L.createSchema(store.db, { datasetId: d.id, name: 'poses', task: 'fer', names: ['left', 'right'] });
    expect(L.predictionRuns(store.db, schemaId)).toEqual([expect.objectContaining({ run_id: runId, images: 60 })]);
    store.close();
    const bad = camd(['predict', '--checkpoint', best, '--data', folders, '--schema', 'poses', '--db', db]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe(
      "camd: the schema 'poses' has no class 'smile', 'frown', 'surprise' that the model predicts (it has 'left', 'right')",
    );
    const unknown = camd(['predict', '--checkpoint', best, '--data', folders, '--schema', 'nope', '--db', db]);
    expect(unknown.stderr.trim()).toBe(
      `camd: the dataset ${folders} has no label schema 'nope' (it has 'expressions', 'poses')`,
    );
    const orphan = camd([
      'predict',
      '--checkpoint',
      best,
      '--data',
      folders,
      '--schema',
      'expressions',
      '--db',
      join(tempDir('db2'), 'other.db'),
    ]);
    expect(orphan.status).toBe(2);
    expect(orphan.stderr).toMatch(/is not a dataset of the store/);
  });

  it('camd label-curve: ≥ 3 points on growing labels, a hint in words; the features are cached for the next call', () => {
    const pre = camd([
      'pretrain',
      '--json',
      '--data',
      folders,
      '--preset',
      'micro',
      '--batch',
      '8',
      '--steps',
      '4',
      '--blr',
      '0.05',
      '--warmup-epochs',
      '0',
      '--out',
      join(tempDir('run'), 'pre'),
      '--db',
      db,
    ]);
    expect(pre.status, pre.stderr).toBe(0);
    const encoder = String(pre.lines.find((l) => l.type === 'done')!.encoder);
    const first = camd([
      'label-curve',
      '--json',
      '--encoder',
      encoder,
      '--data',
      folders,
      '--schema',
      'expressions',
      '--db',
      db,
    ]);
    expect(first.status, first.stderr).toBe(0);
    const c1 = first.lines.at(-1)!;
    const points = c1.points as { labels: number; value: number }[];
    expect(c1.metric).toBe('top1');
    expect(points.length).toBeGreaterThanOrEqual(3);
    expect(points.map((p) => p.labels)).toEqual([...points.map((p) => p.labels)].sort((a, b) => a - b));
    // the hint is about these points: it quotes the last two sizes and their measured values
    const [prev, last] = points.slice(-2) as [{ labels: number; value: number }, { labels: number; value: number }];
    expect(String(c1.hint)).toMatch(/^(Still rising|The curve has flattened): top-1 accuracy went from /);
    expect(String(c1.hint)).toContain(
      `went from ${prev.value.toFixed(2)} to ${last.value.toFixed(2)} between ${prev.labels} and ${last.labels} training labels`,
    );
    expect(new Set(points.map((p) => p.value)).size).toBeGreaterThan(1); // measured per size, not one number repeated
    expect(c1.features).toEqual({ computed: 48, cached: 0 });
    const second = camd([
      'label-curve',
      '--json',
      '--encoder',
      encoder,
      '--data',
      folders,
      '--schema',
      'expressions',
      '--db',
      db,
    ]);
    const c2 = second.lines.at(-1)!;
    expect(c2.features).toEqual({ computed: 0, cached: 48 });
    expect(c2.points).toEqual(c1.points); // deterministic
    const human = camd(['label-curve', '--encoder', encoder, '--data', folders, '--schema', 'expressions', '--db', db]);
    expect(human.stdout).toMatch(/training labels: top1 /);
  });
});
