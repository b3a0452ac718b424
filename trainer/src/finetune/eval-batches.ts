/**
 * Batches of labelled images for fine-tuning and evaluation: the evaluation transform of cached
 * images, logits over a split, and the losses and label tensors of §5.
 */
import * as tf from '@tensorflow/tfjs';
import type { DecodeCache } from '../data/decode-cache.js';
import type { RgbImage } from '../data/image-io.js';
import type { Classifier } from './classifier.js';
import type { ResolvedItem } from './dataset.js';
import type { Task } from '../labels/label-files.js';
import { evalTransform } from './transforms.js';
import { CamdError } from '../util/errors.js';

/** Batched evaluation views of host images (resize S/0.875, centre crop S). */
export async function* evalBatches(
  items: ResolvedItem[],
  cache: DecodeCache,
  S: number,
  batch: number,
): AsyncGenerator<{ x: Float32Array; n: number; items: ResolvedItem[] }> {
  for (let i = 0; i < items.length; i += batch) {
    const chunk = items.slice(i, i + batch);
    const views = await Promise.all(chunk.map((it) => evalTransform(cachedImage(cache, it), S)));
    const x = new Float32Array(chunk.length * S * S * 3);
    views.forEach((v, b) => x.set(v, b * S * S * 3));
    yield { x, n: chunk.length, items: chunk };
  }
}

export function cachedImage(cache: DecodeCache, it: ResolvedItem): RgbImage {
  const img = cache.get(it.sha256);
  if (!img)
    throw new CamdError(
      'io',
      `${it.path} is missing from the decode cache ${cache.dir}; run the command again to rebuild it`,
    );
  return img;
}

/** A model's logits (n × K) for n evaluation views (NHWC, normalised): ours, or an exported file in ONNX Runtime. */
export type LogitsOf = (x: Float32Array, n: number) => Promise<Float32Array>;

/** Our classifier as a LogitsOf. */
export function classifierLogits(clf: Classifier, S: number): LogitsOf {
  return async (x, n) => {
    const l = tf.tidy(() => clf.logits(tf.tensor4d(x, [n, S, S, 3])));
    const out = (await l.data()) as Float32Array;
    l.dispose();
    return out;
  };
}

/** Logits (items × K) of a classifier over items, 32 at a time; `onBatch` after each batch (images done). */
export async function logitsOver(
  model: Classifier | LogitsOf,
  items: ResolvedItem[],
  cache: DecodeCache,
  S: number,
  K: number,
  onBatch?: (done: number) => void,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const logitsOf = typeof model === 'function' ? model : classifierLogits(model, S);
  const logits = new Float32Array(items.length * K);
  let o = 0;
  for await (const b of evalBatches(items, cache, S, 32)) {
    logits.set(await logitsOf(b.x, b.n), o);
    o += b.n * K;
    onBatch?.(o / K);
    if (signal?.aborted) break;
  }
  return logits;
}

/** BCEWithLogits (mean) for attributes, plain cross-entropy for classes (no smoothing, §5). */
export function lossOf(task: Task, logits: tf.Tensor2D, labels: tf.Tensor): tf.Scalar {
  if (task === 'far') return tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar;
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}

export function labelTensor(task: Task, items: ResolvedItem[], K: number): tf.Tensor {
  if (task === 'far')
    return tf.tensor2d(
      items.flatMap((i) => i.labels),
      [items.length, K],
    );
  // one tidy: the int32 indices and the integer one-hot are intermediates (they leaked two tensors a step)
  return tf.tidy(() =>
    tf
      .oneHot(
        tf.tensor1d(
          items.map((i) => i.labels[0]!),
          'int32',
        ),
        K,
      )
      .toFloat(),
  );
}
