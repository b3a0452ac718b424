/**
 * Mask preview: the two views and the block mask of one image, made by the trainer's own batch
 * code (BatchSource: drawTwoViews, blockMask, twoViews, method.md §1.2–§1.5) as a batch of one at
 * step `sample`, then turned back from VGGFace2-normalised floats into RGB for display.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gridOf, maskedCount, presetConfig, DEFAULT_MASK_RATIO, type PresetName } from '../model/config.js';
import { DecodeCache, cacheSideFor } from './decode-cache.js';
import { BatchSource } from './batches.js';
import { DEFAULT_MAX_PIXELS } from './image-io.js';
import { VGGFACE2_MEAN, VGGFACE2_STD } from './augment.js';
import { CamdError, UserError } from '../util/errors.js';
import { reasonOf } from '../util/system-errors.js';

export interface PreviewImage {
  width: number;
  height: number;
  /** RGB, 3 bytes a pixel, row-major. */
  rgb: Uint8Array;
}

export interface MaskPreview {
  imgSize: number;
  patchSize: number;
  grid: number;
  tokens: number;
  masked: number;
  visible: number;
  /** 1 = masked patch of view 1, row-major over the grid. */
  mask: number[];
  /** View 1: the random resized crop the student sees (masked where mask = 1). */
  view1: PreviewImage;
  /** View 2: the whole face the teacher sees. */
  view2: PreviewImage;
}

/** VGGFace2-normalised NHWC floats of one image → RGB bytes. */
function toRgb(x: Float32Array, S: number, offset = 0): PreviewImage {
  const rgb = new Uint8Array(S * S * 3);
  for (let i = 0; i < S * S * 3; i++) {
    const c = i % 3;
    rgb[i] = Math.max(0, Math.min(255, Math.round((x[offset + i]! * VGGFACE2_STD[c]! + VGGFACE2_MEAN[c]!) * 255)));
  }
  return { width: S, height: S, rgb };
}

export async function maskPreview(o: {
  image: string;
  cacheDir: string;
  preset?: PresetName;
  imgSize?: number;
  maskRatio?: number;
  seed?: number;
  sample?: number;
  maxPixels?: number;
}): Promise<MaskPreview> {
  let cfg;
  try {
    cfg = presetConfig(o.preset ?? 'tiny', { imgSize: o.imgSize, maskRatio: o.maskRatio ?? DEFAULT_MASK_RATIO });
  } catch (e) {
    throw new UserError((e as Error).message, 2, 'imgSize');
  }
  const S = cfg.model.imgSize;
  const { grid, tokens } = gridOf(cfg.model);
  let bytes: Buffer;
  try {
    bytes = await readFile(o.image);
  } catch (e) {
    throw new CamdError('input', `cannot read ${o.image}: ${reasonOf(e)}`, 'image');
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const cache = new DecodeCache(o.cacheDir, cacheSideFor(S));
  const res = await cache.ensure([{ abs: o.image, sha256 }], o.maxPixels ?? DEFAULT_MAX_PIXELS);
  if (res.failed.length) throw new CamdError('input', `cannot decode ${o.image}: ${res.failed[0]!.reason}`, 'image');
  const maskCount = maskedCount(o.maskRatio ?? DEFAULT_MASK_RATIO, tokens);
  const source = new BatchSource({
    hashes: [sha256],
    cache,
    imgSize: S,
    grid,
    maskCount,
    batchSize: 1,
    seed: o.seed ?? 0,
  });
  const b = await source.batch(o.sample ?? 0);
  const mask = Array.from(b.masks[0]!);
  return {
    imgSize: S,
    patchSize: cfg.model.patchSize,
    grid,
    tokens,
    masked: maskCount,
    visible: tokens - maskCount,
    mask,
    view1: toRgb(b.x1, S),
    view2: toRgb(b.x2, S),
  };
}
