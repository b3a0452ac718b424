/**
 * The probe's positive control: a network known to be good on faces — the face-description model
 * (`faceres`, 1024-d descriptor of its global pooling) that ships inside `@vladmandic/human`, the
 * package our face detection uses — as one more row of `camd probe`. A probe set on which this
 * descriptor does not clearly beat an untrained network and raw pixels has no signal to rank
 * encoders with (docs/quality.md). Each face is the evaluation view at 224 px (the model's input
 * size), RGB 0–255 as the package feeds it; nothing is downloaded.
 */
import * as tf from '@tensorflow/tfjs';
import { loadPackageModel } from '../faces/detector.js';
import { cachedImage } from '../finetune/eval-batches.js';
import { evalSide, evalView } from '../finetune/transforms.js';
import { DecodeCache } from '../data/decode-cache.js';
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { cacheDirFor } from '../util/paths.js';
import { UserError } from '../util/errors.js';
import { join } from 'node:path';
import type { ProbeSet } from './evaluate.js';

export const DESCRIPTOR_SIZE = 224;
const OUTPUT = 'global_pooling/Mean';

/** The descriptor of every probe face, by content hash. */
export async function descriptorFeatures(
  set: ProbeSet,
  dbFile: string,
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, Float32Array>> {
  const items = [...set.train, ...set.test];
  const cache = new DecodeCache(cacheDirFor(dbFile), evalSide(DESCRIPTOR_SIZE));
  const c = await cache.ensure(
    items.map((i) => ({ abs: join(set.root, i.path), sha256: i.sha256 })),
    DEFAULT_MAX_PIXELS,
  );
  if (c.failed.length)
    throw new UserError(`cannot decode the probe image ${c.failed[0]!.path}: ${c.failed[0]!.reason}`, 2, 'probe-data');
  const model = await loadPackageModel('faceres.json');
  const out = new Map<string, Float32Array>();
  try {
    let done = 0;
    for (const it of items) {
      const view = evalView(cachedImage(cache, it), DESCRIPTOR_SIZE);
      const d = tf.tidy(() => {
        const x = tf.tensor4d(Float32Array.from(view), [1, DESCRIPTOR_SIZE, DESCRIPTOR_SIZE, 3]);
        return (model.execute(x, OUTPUT) as tf.Tensor).reshape([-1]);
      });
      out.set(it.sha256, (await d.data()) as Float32Array);
      d.dispose();
      onProgress?.(++done, items.length);
    }
  } finally {
    model.dispose();
  }
  return out;
}
