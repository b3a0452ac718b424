/**
 * One optimiser step of fine-tuning on a training batch (method.md §5): on augmented views through
 * the whole classifier with drop-path, or, for a linear probe, on the frozen encoder's features
 * computed once before the first step.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng.js';
import type { ResolvedItem } from './dataset.js';
import { cachedImage, evalBatches, labelTensor, lossOf } from './eval-batches.js';
import type { FinetuneContext } from './loop-context.js';
import { drawTrain, trainTransform } from './transforms.js';

/** Features of every item under the frozen encoder (linear probe), by item path. */
export type FrozenFeatures = Map<string, Float32Array>;

/** Features of every item under the frozen encoder (linear probe), computed once. */
export async function frozenFeatures(c: FinetuneContext): Promise<FrozenFeatures> {
  const out = new Map<string, Float32Array>();
  const all = [...c.train, ...c.val, ...c.test];
  let done = 0;
  for (const part of [c.train, c.val, c.test]) {
    for await (const b of evalBatches(part, c.cache, c.S, 32)) {
      const f = tf.tidy(() => c.clf.features(tf.tensor4d(b.x, [b.n, c.S, c.S, 3])));
      const data = (await f.data()) as Float32Array;
      f.dispose();
      const D = c.model.embedDim;
      b.items.forEach((it, k) => out.set(it.path, data.slice(k * D, (k + 1) * D)));
      done += b.n;
      c.send({ type: 'progress', phase: 'features', done, total: all.length });
    }
  }
  return out;
}

/** The items' frozen features as one (items × D) tensor. */
export function featuresOf(c: FinetuneContext, features: FrozenFeatures, items: ResolvedItem[]): tf.Tensor2D {
  return tf.tensor2d(
    items.flatMap((it) => [...features.get(it.path)!]),
    [items.length, c.model.embedDim],
  );
}

/** One optimiser step on the loss `f`; returns the loss value (no gradient clipping in fine-tuning, §5). */
async function optimiserStep(c: FinetuneContext, f: () => tf.Scalar, lr: number): Promise<number> {
  const v = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(f, [...c.vars.values()]);
    const byName = new Map<string, tf.Tensor>();
    for (const [n, va] of c.vars) if (grads[va.name]) byName.set(n, grads[va.name]!);
    c.opt.apply(c.vars, byName, lr, c.lrScale);
    return value;
  });
  const out = (await v.data())[0]!;
  v.dispose();
  return out;
}

/** The items' training views (transforms.ts), their random parameters drawn from `rng` first, as one batch tensor. */
async function trainViews(c: FinetuneContext, items: ResolvedItem[], rng: Rng): Promise<tf.Tensor4D> {
  const { S } = c;
  const draws = items.map((x) => {
    const img = cachedImage(c.cache, x);
    return drawTrain(img.width, img.height, S, rng, c.aug);
  });
  const views = await Promise.all(
    items.map((x, b) =>
      trainTransform(cachedImage(c.cache, x), S, draws[b]!, (s) => {
        const g = new Rng(s);
        return () => g.normal();
      }),
    ),
  );
  const xb = new Float32Array(items.length * S * S * 3);
  views.forEach((v, b) => xb.set(v, b * S * S * 3));
  return tf.tensor4d(xb, [items.length, S, S, 3]);
}

/** One optimiser step on a training batch at learning rate `lr`; returns the loss value. */
export async function trainStep(
  c: FinetuneContext,
  features: FrozenFeatures | null,
  items: ResolvedItem[],
  rng: Rng,
  lr: number,
): Promise<number> {
  const { task, clf } = c;
  const y = labelTensor(task, items, c.names.length);
  let loss: number;
  if (features) {
    const f = featuresOf(c, features, items);
    loss = await optimiserStep(c, () => lossOf(task, clf.head(f), y), lr);
    f.dispose();
  } else {
    const x = await trainViews(c, items, rng);
    const masks = clf.dropPathMasks(items.length, rng);
    loss = await optimiserStep(c, () => lossOf(task, clf.logits(x, masks), y), lr);
    tf.dispose([x, ...(masks ?? []).flat()]);
  }
  y.dispose();
  return loss;
}
