/**
 * `camd label-curve`: the "labels needed" hint. The encoder's mean-pooled features (as
 * fine-tuning pools them, fc_norm at its initial identity) of a schema's labelled faces, cached on
 * disk by encoder file, input size and image content — a second estimate reads them back — then
 * the learning curve of quick linear probes (curve.ts) and what it says.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEncoder } from '../finetune/classifier.js';
import type { ResolvedItem } from '../finetune/dataset.js';
import { pooledFeatures } from './evaluate.js';
import { evalSide } from '../finetune/transforms.js';
import { DecodeCache } from '../data/decode-cache.js';
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { scanDataset } from '../data/scan.js';
import { Store } from '../store/store.js';
import type { EventSink } from '../protocol/events.js';
import { UserError } from '../util/errors.js';
import { cacheDirFor, defaultDbPath } from '../util/paths.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { resolveLabels, type LabelUse } from '../labels/resolve.js';
import { makeSplit } from '../labels/split.js';
import { datasetOfFolder, schemaOfDataset } from '../labels/store-dataset.js';
import { curveHint, learningCurve, type CurvePoint } from '../labels/curve.js';

export interface LabelCurveSpec {
  encoder: string;
  data: string;
  schema: string;
  db?: string;
  labels?: LabelUse;
  seed?: number;
  backend?: string;
}

export interface LabelCurveResult {
  metric: 'top1' | 'mean_acc';
  points: CurvePoint[];
  hint: string;
  features: { computed: number; cached: number };
  seconds: number;
}

/** A features file: records of (64 hex characters of the image's SHA-256, D float32). */
function readFeatures(file: string, D: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  if (!existsSync(file)) return out;
  const buf = readFileSync(file);
  const rec = 64 + 4 * D;
  if (buf.length % rec !== 0) return out; // damaged: computed again
  for (let o = 0; o < buf.length; o += rec) {
    const sha = buf.toString('latin1', o, o + 64);
    const v = new Float32Array(D);
    for (let d = 0; d < D; d++) v[d] = buf.readFloatLE(o + 64 + 4 * d);
    out.set(sha, v);
  }
  return out;
}

function writeFeatures(file: string, m: Map<string, Float32Array>, D: number): void {
  const rec = 64 + 4 * D;
  const buf = Buffer.alloc(m.size * rec);
  let o = 0;
  for (const [sha, v] of m) {
    buf.write(sha, o, 64, 'latin1');
    for (let d = 0; d < D; d++) buf.writeFloatLE(v[d]!, o + 64 + 4 * d);
    o += rec;
  }
  writeFileAtomic(file, buf);
}

export async function runLabelCurve(
  spec: LabelCurveSpec,
  emit: EventSink,
  signal?: AbortSignal,
): Promise<LabelCurveResult> {
  const t0 = performance.now();
  const { selectBackendFor } = await import('../backends/ladder.js');
  await selectBackendFor(spec.backend);
  if (!existsSync(spec.encoder)) throw new UserError(`the encoder ${spec.encoder} does not exist`, 2, 'encoder');
  let enc;
  try {
    enc = readEncoder(spec.encoder);
  } catch (e) {
    throw new UserError((e as Error).message, 2, 'encoder');
  }
  const store = new Store(spec.db ?? defaultDbPath());
  try {
    store.reapDeadRuns();
    const { root, datasetId } = datasetOfFolder(store, spec.data);
    await scanDataset(store, root, {
      maxPixels: DEFAULT_MAX_PIXELS,
      onProgress: (done, total) => emit({ type: 'progress', phase: 'scanning', done, total }),
      signal,
    });
    const schema = schemaOfDataset(store, datasetId, spec.schema, root);
    const use = spec.labels ?? 'human';
    let r = resolveLabels(store.db, schema.id, use);
    if (r.items.some((i) => !i.split)) {
      makeSplit(store.db, schema.id, { seed: schema.split_seed ?? spec.seed ?? 0, use });
      r = resolveLabels(store.db, schema.id, use);
    }
    const shaOf = new Map(store.images(datasetId, 'ok').map((i) => [i.id, i.sha256]));
    const items: (ResolvedItem & { image: number })[] = r.items
      .filter((i) => shaOf.get(i.image_id))
      .map((i) => ({
        image: i.image_id,
        path: i.rel_path,
        sha256: shaOf.get(i.image_id)!,
        labels: i.labels,
        split: i.split!,
      }));
    const model = enc.model;
    const S = model.imgSize;
    const D = model.embedDim;
    const encSha = createHash('sha256').update(readFileSync(spec.encoder)).digest('hex').slice(0, 16);
    const dir = join(cacheDirFor(store.file), 'features');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${encSha}-s${S}.f32`);
    const known = readFeatures(file, D);
    const todo = items.filter((i) => !known.has(i.sha256));
    const cached = items.length - todo.length;
    if (todo.length) {
      const cache = new DecodeCache(cacheDirFor(store.file), evalSide(S));
      const c = await cache.ensure(
        todo.map((i) => ({ abs: join(root, i.path), sha256: i.sha256 })),
        DEFAULT_MAX_PIXELS,
        (done, total) => emit({ type: 'progress', phase: 'decoding', done, total }),
      );
      if (c.failed.length) throw new UserError(`cannot decode ${c.failed[0]!.path}: ${c.failed[0]!.reason}`);
      const feats = await pooledFeatures(model, enc.tensors, todo, cache, {
        what: spec.encoder,
        onProgress: (done, total) => emit({ type: 'progress', phase: 'features', done, total }),
        ...(signal ? { signal } : {}),
      });
      for (const [sha, v] of feats) known.set(sha, v);
      writeFeatures(file, known, D);
    }
    const K = r.names.length;
    const y = (i: ResolvedItem) => (r.task === 'far' ? i.labels : [i.labels[0]!]);
    const part = (pred: (i: ResolvedItem) => boolean) => {
      const sel = items.filter((i) => pred(i) && known.has(i.sha256));
      return { x: sel.map((i) => known.get(i.sha256)!), y: sel.map(y) };
    };
    const train = part((i) => i.split === 'train');
    const test = part((i) => i.split !== 'train');
    const metric = r.task === 'far' ? ('mean_acc' as const) : ('top1' as const);
    // each probe is a progress step: many attributes on thousands of faces take a while
    const points = learningCurve(r.task, D, K, train, test, spec.seed ?? 0, 3, (done, total) =>
      emit({ type: 'progress', phase: 'evaluating', done, total }),
    );
    const hint =
      test.x.length === 0
        ? `No validation or test face to measure on: split the labelled faces first (${train.x.length} are in training).`
        : curveHint(points, metric === 'top1' ? 'top-1 accuracy' : 'mean accuracy');
    return {
      metric,
      points,
      hint,
      features: { computed: todo.length, cached },
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    store.close();
  }
}
