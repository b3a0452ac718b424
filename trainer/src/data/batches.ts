/**
 * Pre-training batches from a fixed list of cached images. Batch `step` is a pure function of
 * (seed, step): the epoch's order comes from an Rng forked by epoch, the augmentation and masks
 * of the batch from an Rng forked by step — so a resumed run sees exactly the batches a straight
 * run would, and batches can be prepared ahead while the previous step trains.
 */
import { Rng } from '../util/rng.js';
import { CamdError } from '../util/errors.js';
import { blockMask } from '../model/mask.js';
import { drawTwoViews, twoViews } from './augment.js';
import type { DecodeCache } from './decode-cache.js';
import type { CamdBatch } from '../model/camd.js';

/** A batch as plain arrays (two views, their masks and geometry), before it becomes tensors. */
export interface HostBatch {
  x1: Float32Array;
  x2: Float32Array;
  masks: Uint8Array[];
  geometry: CamdBatch['geometry'];
  shape: [number, number, number, number];
}

export interface BatchSourceOptions {
  /** Content hashes of the images, in the run's fixed order. */
  hashes: readonly string[];
  cache: DecodeCache;
  imgSize: number;
  grid: number;
  maskCount: number;
  batchSize: number;
  seed: number;
}

export class BatchSource {
  readonly itersPerEpoch: number;
  private readonly perms = new Map<number, number[]>();

  constructor(private readonly o: BatchSourceOptions) {
    if (o.hashes.length < o.batchSize) {
      throw new Error(
        `the dataset has ${o.hashes.length} readable image(s), fewer than the batch size ${o.batchSize}; lower --batch or add images`,
      );
    }
    this.itersPerEpoch = Math.floor(o.hashes.length / o.batchSize); // drop_last (§4)
  }

  private order(epoch: number): number[] {
    let p = this.perms.get(epoch);
    if (!p) {
      p = new Rng(this.o.seed).fork(`epoch-${epoch}`).shuffle([...this.o.hashes.keys()]);
      this.perms.set(epoch, p);
      if (this.perms.size > 3) this.perms.delete(Math.min(...this.perms.keys()));
    }
    return p;
  }

  /** Indices (into hashes) of the images of batch `step` (0-based). */
  indices(step: number): number[] {
    const epoch = Math.floor(step / this.itersPerEpoch);
    const it = step % this.itersPerEpoch;
    return this.order(epoch).slice(it * this.o.batchSize, (it + 1) * this.o.batchSize);
  }

  async batch(step: number): Promise<HostBatch> {
    const { imgSize: S, grid, maskCount, batchSize: B, cache, hashes } = this.o;
    const rng = new Rng(this.o.seed).fork(`step-${step}`);
    const imgs = this.indices(step).map((i) => {
      const img = cache.get(hashes[i]!);
      if (!img)
        throw new CamdError(
          'io',
          `image ${hashes[i]} is missing from the decode cache ${cache.dir}; run the command again to rebuild it`,
        );
      return img;
    });
    // all random draws first, in order
    const params = imgs.map((img) => drawTwoViews(img.width, img.height, rng));
    const masks = imgs.map(() => blockMask({ grid, count: maskCount }, rng));
    const views = await Promise.all(imgs.map((img, b) => twoViews(img, S, params[b]!)));
    const n = S * S * 3;
    const x1 = new Float32Array(B * n);
    const x2 = new Float32Array(B * n);
    views.forEach((v, b) => {
      x1.set(v.x1, b * n);
      x2.set(v.x2, b * n);
    });
    return { x1, x2, masks, geometry: views.map((v) => v.geometry), shape: [B, S, S, 3] };
  }
}
