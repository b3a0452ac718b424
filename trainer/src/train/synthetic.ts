/**
 * Synthetic pre-training batches: random images with real masks (§1.5) and real crop geometry
 * (§1.2–1.3). Used by the benchmark and by tests that need a batch without a dataset.
 */
import * as tf from '@tensorflow/tfjs';
import type { CamdBatch } from '../model/camd.js';
import { gridOf, maskedCount, type CamdConfig } from '../model/config.js';
import { blockMask } from '../model/mask.js';
import { relativeGeometry, sampleResizedCrop, VIEW1_SCALE, VIEW2_SCALE } from '../data/crop.js';
import type { Rng } from '../util/rng.js';
import type { HostBatch } from '../data/batches.js';

export type { HostBatch };

/** Host-side (plain arrays) batch, reproducible from the rng. */
export function syntheticHostBatch(cfg: CamdConfig, batchSize: number, rng: Rng): HostBatch {
  const S = cfg.model.imgSize;
  const { grid, tokens } = gridOf(cfg.model);
  const count = maskedCount(cfg.mask.ratio, tokens);
  const n = batchSize * S * S * 3;
  const x1 = new Float32Array(n);
  const x2 = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x1[i] = rng.normal();
    x2[i] = rng.normal();
  }
  const W = 256;
  const H = 256;
  const masks: Uint8Array[] = [];
  const geometry: CamdBatch['geometry'] = [];
  for (let b = 0; b < batchSize; b++) {
    masks.push(blockMask({ grid, count }, rng));
    const flip1 = rng.bernoulli(0.5);
    const flip2 = rng.bernoulli(0.5);
    const c1 = sampleResizedCrop(W, H, VIEW1_SCALE, rng);
    const c2 = sampleResizedCrop(W, H, VIEW2_SCALE, rng);
    geometry.push(relativeGeometry(c1, c2, W, flip1, flip2));
  }
  return { x1, x2, masks, geometry, shape: [batchSize, S, S, 3] };
}

/** Uploads a host batch to the current backend. Dispose x1 and x2 when done. */
export function toDeviceBatch(h: HostBatch): CamdBatch {
  return { x1: tf.tensor4d(h.x1, h.shape), x2: tf.tensor4d(h.x2, h.shape), masks: h.masks, geometry: h.geometry };
}

export function disposeBatch(b: CamdBatch): void {
  b.x1.dispose();
  b.x2.dispose();
}
