/**
 * Representation quality on a small labelled probe set: the encoder's mean-pooled features (as
 * fine-tuning pools them) of every probe face, then a weighted k-NN (knn.ts) and a quick linear
 * probe (labels/curve.ts probeAccuracy: standardised features, full-batch logistic/softmax
 * regression, 300 steps) trained on the probe set's training split and measured on the rest.
 */
import { sampleSd } from '../util/stats.js';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../model/config.js';
import type { NamedArray } from '../store/checkpoint.js';
import { Classifier } from '../finetune/classifier.js';
import { readLabels, type ResolvedItem } from '../finetune/dataset.js';
import { evalBatches } from '../finetune/eval-batches.js';
import { evalSide } from '../finetune/transforms.js';
import { DecodeCache } from '../data/decode-cache.js';
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { cacheDirFor } from '../util/paths.js';
import type { Store } from '../store/store.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { probeAccuracy } from '../labels/curve.js';
import { knnAccuracy, type Split } from './knn.js';

export interface ProbeSet {
  root: string;
  task: 'far' | 'fer';
  names: string[];
  train: ResolvedItem[];
  test: ResolvedItem[];
  /** How train and test were chosen. */
  splitNote: string;
}

export interface ProbeScores {
  /** 'top1' for classes, 'mean_acc' for attributes. */
  metric: 'top1' | 'mean_acc';
  knn: number;
  linear: number;
  train: number;
  test: number;
  seconds: number;
  /** With cross-validation: the standard deviation of the folds' accuracies (fold-to-fold spread). */
  spread?: { knn: number; linear: number };
}

/**
 * Reads a labelled folder in any format fine-tuning reads. Its own train split trains the probes
 * and the rest (val + test) measures them; a folder whose labels are all "train" is split 70/30
 * with the seed (the same faces every time).
 */
export async function loadProbeSet(
  store: Store,
  format: string,
  data: string,
  o: { seed?: number; schema?: string } = {},
): Promise<ProbeSet> {
  const seed = o.seed ?? 0;
  const ds = await readLabels(store, format, data, {
    seed,
    maxPixels: DEFAULT_MAX_PIXELS,
    ...(o.schema ? { schema: o.schema } : {}),
  });
  let train = ds.items.filter((i) => i.split === 'train');
  let test = ds.items.filter((i) => i.split !== 'train');
  let splitNote = `the folder's own split: ${train.length} to train the probes, ${test.length} to measure them`;
  if (test.length === 0 || train.length === 0) {
    const all = [...ds.items].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
    const rng = new Rng(seed);
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    const nTrain = Math.round(all.length * 0.7);
    train = all.slice(0, nTrain);
    test = all.slice(nTrain);
    splitNote = `no held-out faces in the folder's labels: split 70/30 with seed ${seed} (${train.length} / ${test.length})`;
  }
  if (train.length < 2 || test.length < 1)
    throw new UserError(
      `the probe set ${data} has ${ds.items.length} usable labelled face(s): a probe needs at least 3`,
      2,
      'probe-data',
    );
  return { root: ds.root, task: ds.set.task, names: ds.set.names, train, test, splitNote };
}

/**
 * Mean-pooled features of the probe faces under an encoder (patch_embed, cls_token, pos_embed,
 * blocks.*); `random` keeps the untrained network (fine-tuning's initialisation, seed 0);
 * `pixels` is the baseline without a network: the normalised input averaged to 16×16×3.
 */
export async function probeFeatures(
  model: ModelConfig,
  tensors: Map<string, NamedArray> | 'random' | 'pixels',
  set: ProbeSet,
  dbFile: string,
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, Float32Array>> {
  const items = [...set.train, ...set.test];
  const cache = new DecodeCache(cacheDirFor(dbFile), evalSide(model.imgSize));
  const c = await cache.ensure(
    items.map((i) => ({ abs: join(set.root, i.path), sha256: i.sha256 })),
    DEFAULT_MAX_PIXELS,
  );
  if (c.failed.length)
    throw new UserError(`cannot decode the probe image ${c.failed[0]!.path}: ${c.failed[0]!.reason}`, 2, 'probe-data');
  return pooledFeatures(model, tensors, items, cache, { what: 'the encoder', ...(onProgress ? { onProgress } : {}) });
}

/**
 * The features loop itself, for items already in the decode cache: fc_norm(mean of the patch
 * tokens) as fine-tuning pools them (or the pixel baseline), 32 faces a batch, by content hash.
 * Stops after the batch in progress when `signal` is aborted (what was computed is returned).
 */
export async function pooledFeatures(
  model: ModelConfig,
  tensors: Map<string, NamedArray> | 'random' | 'pixels',
  items: ResolvedItem[],
  cache: DecodeCache,
  o: { what: string; onProgress?: (done: number, total: number) => void; signal?: AbortSignal },
): Promise<Map<string, Float32Array>> {
  const S = model.imgSize;
  const clf = new Classifier({ model, outputs: 1, dropPath: 0 }, 0);
  const out = new Map<string, Float32Array>();
  try {
    if (tensors instanceof Map) clf.loadEncoder(tensors, o.what);
    const pool = Math.max(1, Math.floor(S / 16));
    const D = tensors === 'pixels' ? Math.floor(S / pool) ** 2 * 3 : model.embedDim;
    let done = 0;
    for await (const b of evalBatches(items, cache, S, 32)) {
      const f = tf.tidy(() => {
        const x = tf.tensor4d(b.x, [b.n, S, S, 3]);
        return tensors === 'pixels' ? tf.avgPool(x, pool, pool, 'valid').reshape([b.n, D]) : clf.features(x);
      });
      const data = (await f.data()) as Float32Array;
      f.dispose();
      b.items.forEach((it, k) => out.set(it.sha256, data.slice(k * D, (k + 1) * D)));
      done += b.n;
      o.onProgress?.(done, items.length);
      if (o.signal?.aborted) break;
    }
  } finally {
    clf.dispose();
  }
  return out;
}

export function scoreFeatures(set: ProbeSet, feats: Map<string, Float32Array>, seconds = 0): ProbeScores {
  const y = (i: ResolvedItem) => (set.task === 'far' ? i.labels : [i.labels[0]!]);
  const part = (items: ResolvedItem[]): Split => ({ x: items.map((i) => feats.get(i.sha256)!), y: items.map(y) });
  const train = part(set.train);
  const test = part(set.test);
  const K = set.names.length;
  const D = train.x[0]!.length;
  return {
    metric: set.task === 'far' ? 'mean_acc' : 'top1',
    knn: knnAccuracy(set.task, K, train, test),
    linear: probeAccuracy(set.task, D, K, train, test),
    train: train.x.length,
    test: test.x.length,
    seconds,
  };
}

/**
 * k-fold cross-validation over every probe face (train and test alike): each face is measured
 * once, by probes trained on the other folds; the accuracies are the folds' counts pooled. Folds
 * are a seeded shuffle (by content hash first, so the same faces give the same folds).
 */
export function crossValidated(
  set: ProbeSet,
  feats: Map<string, Float32Array>,
  folds: number,
  seed = 0,
  seconds = 0,
): ProbeScores {
  const all = [...set.train, ...set.test].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  if (folds < 2 || folds > all.length)
    throw new UserError(`--folds must be between 2 and the ${all.length} probe faces, got ${folds}`, 2, 'folds');
  const rng = new Rng(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  let knn = 0;
  let linear = 0;
  const per: { knn: number; linear: number }[] = [];
  for (let k = 0; k < folds; k++) {
    const test = all.filter((_, i) => i % folds === k);
    const train = all.filter((_, i) => i % folds !== k);
    const s = scoreFeatures({ ...set, train, test }, feats);
    knn += s.knn * test.length;
    linear += s.linear * test.length;
    per.push({ knn: s.knn, linear: s.linear });
  }
  return {
    metric: set.task === 'far' ? 'mean_acc' : 'top1',
    knn: knn / all.length,
    linear: linear / all.length,
    train: all.length - Math.ceil(all.length / folds),
    test: all.length,
    seconds,
    spread: { knn: sampleSd(per.map((p) => p.knn)), linear: sampleSd(per.map((p) => p.linear)) },
  };
}

/** Features and both probes for one encoder (`folds`: cross-validated instead of the split). */
export async function probeEncoder(
  model: ModelConfig,
  tensors: Map<string, NamedArray> | 'random' | 'pixels',
  set: ProbeSet,
  dbFile: string,
  onProgress?: (done: number, total: number) => void,
  folds?: number,
): Promise<ProbeScores> {
  const t0 = performance.now();
  const feats = await probeFeatures(model, tensors, set, dbFile, onProgress);
  return scoreAll(set, feats, (performance.now() - t0) / 1000, folds);
}

/** Both probes on computed features: on the split, or cross-validated. */
export function scoreAll(
  set: ProbeSet,
  feats: Map<string, Float32Array>,
  seconds: number,
  folds?: number,
): ProbeScores {
  return folds ? crossValidated(set, feats, folds, 0, seconds) : scoreFeatures(set, feats, seconds);
}
