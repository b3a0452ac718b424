/**
 * The documented defaults of every spec (docs/pretraining.md and docs/finetuning.md flag tables), in one place: the trainer fills
 * omitted fields with them, and the app's forms show them. No Node import.
 */
import { DEFAULT_MASK_RATIO } from '../model/config.js';

/** Refuse images with more pixels than this (decompression-bomb guard, from the header). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

export const PRETRAIN_DEFAULTS = { preset: 'tiny', maskRatio: DEFAULT_MASK_RATIO, batch: 16, epochs: 100, blr: 3.125e-5, warmupEpochs: 5, seed: 0, checkpointEvery: 500, keepCheckpoints: 2, backend: 'auto', threads: 'auto' } as const;

export const FINETUNE_DEFAULTS = { preset: 'tiny', epochs: 50, batch: 32, blr: 2.5e-4, warmupEpochs: 5, layerDecay: 0.65, dropPath: 0.1, minLr: 1e-6, weightDecay: 0.05, seed: 0, randAugment: 'rand-m9-mstd0.5-inc1', reprob: 0.25, minCropScale: 0.08, backend: 'auto', threads: 'auto' } as const;

/**
 * Faces at ingest (`camd scan DIR --faces`): detection score and face size (pixels across the face,
 * max(2·eye distance, 1.8·eye-to-mouth)) below which a face is not kept, the crop's border as a
 * fraction of the face size on each side, the crop's side (258 = the decode cache's side for
 * 224-pixel training, so crops enter training without another resize), the tiling (1: the whole
 * photo only; 2 or 3 for group photos with small faces), and the dHash distance at
 * which near-duplicates are reported (they are collapsed only when asked, with --dedupe).
 */
export const FACES_DEFAULTS = { minScore: 0.5, minFace: 40, margin: 0.5, size: 258, tiles: 1, reportNearDuplicates: 6 } as const;
