/**
 * A fine-tuned model's predictions on every readable face of a schema's dataset, for
 * model-assisted labelling (predictions.ts stores them apart from labels). The classifier's
 * outputs map to the schema's live fields by name: a class schema gets one row a face (slot 0,
 * value = the predicted class's field id, confidence = its softmax probability, probs = every
 * class's); an attribute schema one row an attribute (value 1 when sigmoid > 0.5, confidence =
 * max(p, 1 − p), probs = {"1": p}). A run's previous predictions on the schema are replaced in the
 * same transaction.
 *
 * Used at the end of a `--format store` fine-tune (finetune/run.ts) and by `camd predict`.
 */
import { realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Classifier } from './classifier.js';
import type { ResolvedItem } from './dataset.js';
import { type LogitsOf, logitsOver } from './eval-batches.js';
import { evalSide } from './transforms.js';
import { DecodeCache } from '../data/decode-cache.js';
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { scanDataset } from '../data/scan.js';
import { Store } from '../store/store.js';
import type { EventSink } from '../protocol/events.js';
import { UserError } from '../util/errors.js';
import { cacheDirFor, defaultDbPath } from '../util/paths.js';
import { mainKind, type LabelSchema } from '../labels/schema.js';
import { datasetOfFolder, schemaOfDataset } from '../labels/store-dataset.js';
import { clearPredictions, savePredictions, type Prediction } from '../labels/predictions.js';

export interface PredictInput {
  store: Store;
  schema: LabelSchema;
  runId: string;
  /** The classifier, or an exported file's logits in ONNX Runtime. */
  clf: Classifier | LogitsOf;
  task: 'far' | 'fer';
  names: readonly string[];
  imgSize: number;
  /** The dataset's folder (absolute). */
  root: string;
  emit: EventSink;
  signal?: AbortSignal;
  maxPixels?: number;
}

/** The schema's live field of each classifier output, or a one-line refusal naming what differs. */
export function fieldsFor(schema: LabelSchema, task: 'far' | 'fer', names: readonly string[]): number[] {
  if (task !== schema.task)
    throw new UserError(
      `the model predicts ${task === 'far' ? 'attributes' : 'classes'}, the schema '${schema.name}' has ${schema.task === 'far' ? 'attributes' : 'classes'}`,
      2,
      'schema',
    );
  const live = schema.fields.filter((f) => f.kind === mainKind(schema.task));
  const byName = new Map(live.map((f) => [f.name, f.id]));
  const missing = names.filter((n) => !byName.has(n));
  if (missing.length)
    throw new UserError(
      `the schema '${schema.name}' has no ${task === 'far' ? 'attribute' : 'class'} ${missing
        .slice(0, 5)
        .map((n) => `'${n}'`)
        .join(
          ', ',
        )}${missing.length > 5 ? ', …' : ''} that the model predicts (it has ${live.map((f) => `'${f.name}'`).join(', ')})`,
      2,
      'schema',
    );
  return names.map((n) => byName.get(n)!);
}

/** Rows of predictions from logits (n × K). */
export function predictionRows(
  task: 'far' | 'fer',
  logits: Float32Array,
  imageIds: readonly number[],
  fieldIds: readonly number[],
): Prediction[] {
  const K = fieldIds.length;
  const rows: Prediction[] = [];
  imageIds.forEach((image, i) => {
    const z = logits.subarray(i * K, (i + 1) * K);
    if (task === 'fer') {
      const m = Math.max(...z);
      const e = Array.from(z, (v) => Math.exp(v - m));
      const sum = e.reduce((a, b) => a + b, 0);
      const p = e.map((v) => v / sum);
      let best = 0;
      for (let k = 1; k < K; k++) if (p[k]! > p[best]!) best = k;
      rows.push({
        image_id: image,
        slot: 0,
        value: fieldIds[best]!,
        confidence: p[best]!,
        probs: Object.fromEntries(fieldIds.map((f, k) => [String(f), p[k]!])),
      });
    } else {
      for (let k = 0; k < K; k++) {
        const p = 1 / (1 + Math.exp(-z[k]!));
        rows.push({
          image_id: image,
          slot: fieldIds[k]!,
          value: p > 0.5 ? 1 : 0,
          confidence: Math.max(p, 1 - p),
          probs: { '1': p },
        });
      }
    }
  });
  return rows;
}

/** Predicts every readable face of the schema's dataset and saves the rows; returns how many faces. */
export async function predictFaces(p: PredictInput): Promise<number> {
  const fieldIds = fieldsFor(p.schema, p.task, p.names);
  const rows = p.store.images(p.schema.dataset_id, 'ok').filter((r) => r.sha256);
  const items: ResolvedItem[] = rows.map((r) => ({ path: r.rel_path, sha256: r.sha256!, labels: [], split: 'train' }));
  const S = p.imgSize;
  const cache = new DecodeCache(cacheDirFor(p.store.file), evalSide(S));
  const c = await cache.ensure(
    items.map((i) => ({ abs: join(p.root, i.path), sha256: i.sha256 })),
    p.maxPixels ?? DEFAULT_MAX_PIXELS,
    (done, total) => p.emit({ type: 'progress', phase: 'decoding', done, total }),
  );
  const failed = new Set(c.failed.map((f) => f.path));
  const keep = rows.map((r, k) => !failed.has(join(p.root, r.rel_path)) && !failed.has(r.rel_path) && k >= 0);
  const ok = items.filter((_, k) => keep[k]);
  const ids = rows.filter((_, k) => keep[k]).map((r) => r.id);
  const logits = await logitsOver(
    p.clf,
    ok,
    cache,
    S,
    fieldIds.length,
    (done) => p.emit({ type: 'progress', phase: 'predicting', done, total: ok.length }),
    p.signal,
  );
  if (p.signal?.aborted) return 0;
  const out = predictionRows(p.task, logits, ids, fieldIds);
  p.store.db
    .transaction(() => {
      clearPredictions(p.store.db, p.runId, p.schema.id);
      savePredictions(p.store.db, p.runId, p.schema.id, out);
    })
    .immediate();
  return ids.length;
}

/** The run a classifier file belongs to: the store's checkpoint row for it, or the run whose folder holds it. */
export function runOfCheckpoint(store: Store, file: string): string | null {
  const abs = resolve(file);
  let real = abs;
  try {
    real = realpathSync(abs);
  } catch {
    /* checked by the caller */
  }
  const byRow = store.db
    .prepare('SELECT run_id FROM checkpoints WHERE path IN (?, ?) ORDER BY id DESC LIMIT 1')
    .pluck()
    .get(abs, real) as string | undefined;
  if (byRow) return byRow;
  const byDir = store.db
    .prepare("SELECT id FROM runs WHERE out_dir IN (?, ?) AND kind = 'finetune' LIMIT 1")
    .pluck()
    .get(dirname(abs), dirname(real)) as string | undefined;
  return byDir ?? null;
}

export interface PredictSpec {
  /** The fine-tuned classifier file, or… */
  checkpoint?: string;
  /** …an ONNX file of one (camd export --format onnx), run in ONNX Runtime (opened by onnx/predict.ts, which runPredict is then given). */
  onnx?: string;
  data: string;
  schema: string;
  db?: string;
  runId?: string;
  backend?: string;
}

export interface PredictResult {
  images: number;
  runId: string;
  schemaId: number;
  seconds: number;
}

/** A classifier to predict with: ours on the chosen backend, or an exported file in ONNX Runtime (onnx/predict.ts). */
export interface OpenedClassifier {
  model: Classifier | LogitsOf;
  task: 'far' | 'fer';
  names: string[];
  imgSize: number;
  dispose: () => Promise<void> | void;
}

/** Our classifier file (spec.checkpoint), on the backend the spec asks for. */
async function openCheckpoint(spec: PredictSpec): Promise<OpenedClassifier> {
  const { selectBackendFor } = await import('../backends/ladder.js');
  const { loadClassifier } = await import('./classifier-file.js');
  await selectBackendFor(spec.backend);
  const { clf, task, names, imgSize } = loadClassifier(spec.checkpoint!);
  return { model: clf, task, names, imgSize, dispose: () => clf.dispose() };
}

/** `camd predict`: a fine-tuned classifier's predictions on a dataset of the store, under its run. */
export async function runPredict(
  spec: PredictSpec,
  emit: EventSink,
  signal?: AbortSignal,
  open: (spec: PredictSpec) => Promise<OpenedClassifier> = openCheckpoint,
): Promise<PredictResult> {
  const t0 = performance.now();
  const source = spec.onnx ?? spec.checkpoint!;
  const { model, task, names, imgSize, dispose } = await open(spec);
  try {
    const store = new Store(spec.db ?? defaultDbPath());
    try {
      store.reapDeadRuns();
      const { root, datasetId } = datasetOfFolder(store, spec.data);
      const runId = spec.runId ?? (spec.onnx ? null : runOfCheckpoint(store, source));
      if (!runId)
        throw new UserError(
          spec.onnx
            ? `an ONNX file belongs to no run of the store: say whose predictions these are with --run-id (the run the file was exported from)`
            : `${source} is not a checkpoint of a run in the store ${store.file}: say whose predictions these are with --run-id`,
          2,
          'runId',
        );
      if (!store.run(runId)) throw new UserError(`there is no run ${runId} in the store ${store.file}`, 2, 'runId');
      await scanDataset(store, root, {
        maxPixels: DEFAULT_MAX_PIXELS,
        onProgress: (done, total) => emit({ type: 'progress', phase: 'scanning', done, total }),
        signal,
      });
      const schema = schemaOfDataset(store, datasetId, spec.schema, root);
      const images = await predictFaces({ store, schema, runId, clf: model, task, names, imgSize, root, emit, signal });
      return { images, runId, schemaId: schema.id, seconds: (performance.now() - t0) / 1000 };
    } finally {
      store.close();
    }
  } finally {
    await dispose();
  }
}
