/**
 * The documented defaults of every spec (docs/pretraining.md and docs/finetuning.md flag tables), in one place: the trainer fills
 * omitted fields with them, and the app's forms show them. No Node import.
 */
import { DEFAULT_MASK_RATIO } from '../model/config.js';

/** Refuse images with more pixels than this (decompression-bomb guard, from the header). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/**
 * The pre-training recipes: what the learning rate, warm-up, masking and length default to.
 * - `desktop` (the default): chosen by measurement on real faces at desktop scale (tiny/112, batch 16,
 *   174 faces, 400 steps on 2 CPU cores): `npm run bench -- --recipe-sweep`, table and reasons in
 *   docs/quality.md, "A desktop recipe". No learning rate moved the probe past an untrained network
 *   (all within the fold-to-fold spread), so the tie is broken on the objective: blr 1.6e-3 (lr 1e-4
 *   at batch 16, near the paper's own 1.25e-4) ended with the lowest dense loss (0.84, against 1.21
 *   at the paper's blr, which gives lr 1.95e-6 at batch 16, and 0.88 at lr 4e-4).
 * - `paper`: the released script's (method.md §4): blr 3.125e-5 for an effective batch of 1024 on
 *   4 GPUs (lr 1.25e-4), 5 warm-up epochs, 400 epochs — for a GPU cluster.
 * Both scale lr = blr × batch / 256 at any batch.
 */
export const RECIPES = {
  desktop: { blr: 1.6e-3, warmupEpochs: 5, epochs: 100, maskRatio: DEFAULT_MASK_RATIO },
  paper: { blr: 3.125e-5, warmupEpochs: 5, epochs: 400, maskRatio: DEFAULT_MASK_RATIO },
} as const;
export type RecipeName = keyof typeof RECIPES;
export const RECIPE_NAMES = Object.keys(RECIPES) as RecipeName[];

export const PRETRAIN_DEFAULTS = {
  preset: 'tiny',
  batch: 16,
  ...RECIPES.desktop,
  seed: 0,
  checkpointEvery: 500,
  keepCheckpoints: 2,
  backend: 'auto',
  threads: 'auto',
  recompute: 'auto',
  maxPixels: DEFAULT_MAX_PIXELS,
} as const;

export const FINETUNE_DEFAULTS = {
  preset: 'tiny',
  epochs: 50,
  batch: 32,
  blr: 2.5e-4,
  warmupEpochs: 5,
  layerDecay: 0.65,
  dropPath: 0.1,
  minLr: 1e-6,
  weightDecay: 0.05,
  seed: 0,
  randAugment: 'rand-m9-mstd0.5-inc1',
  reprob: 0.25,
  minCropScale: 0.08,
  backend: 'auto',
  threads: 'auto',
} as const;

/**
 * `camd finetune --task landmarks` (face alignment, geometry/landmark-run.ts): epochs, images per
 * step, base learning rate (lr = blr × batch / 256), warm-up, drop-path and AdamW weight decay.
 * The heatmap head starts flat (every landmark at the centre) and needs a larger step than the
 * classifier's head to leave it: measured in docs/finetuning.md.
 */
export const LANDMARK_DEFAULTS = {
  epochs: 30,
  batch: 32,
  blr: 5e-3,
  warmupEpochs: 2,
  dropPath: 0.1,
  weightDecay: 0.05,
} as const;

/**
 * `camd finetune --task pose` (head pose, pose/pose-run.ts): epochs, images per step, base learning
 * rate (lr = blr × batch / 256), warm-up, drop-path and AdamW weight decay, as for face alignment.
 */
export const POSE_DEFAULTS = {
  epochs: 30,
  batch: 32,
  blr: 5e-3,
  warmupEpochs: 2,
  dropPath: 0.1,
  weightDecay: 0.05,
} as const;

/**
 * `camd finetune --task parsing` (parsing/): epochs, batch, base learning rate (per 256, as the
 * other tasks), warm-up, drop-path and weight decay; the head's channels per pyramid level (FaRL's
 * UperNet is far wider; 64 keeps the head small next to a tiny encoder) and the weight of the Dice
 * term added to the per-pixel cross-entropy.
 */
export const PARSING_DEFAULTS = {
  epochs: 30,
  batch: 16,
  blr: 5e-3,
  warmupEpochs: 2,
  dropPath: 0.1,
  weightDecay: 0.05,
  width: 64,
  dice: 1,
} as const;

/**
 * Faces at ingest (`camd scan DIR --faces`): detection score and face size (pixels across the face,
 * max(2·eye distance, 1.8·eye-to-mouth)) below which a face is not kept, the crop's border as a
 * fraction of the face size on each side, the crop's side (258 = the decode cache's side for
 * 224-pixel training, so crops enter training without another resize), the tiling (1: the whole
 * photo only; 2 or 3 for group photos with small faces), the dHash distance at
 * which near-duplicates are reported (they are collapsed only when asked, with --dedupe), and the
 * cosine similarity of two faces' FaceRes descriptions at or above which they are taken for one
 * person (a near-duplicate pair below it is two people, never collapsed; measured in docs/faces.md).
 */
export const FACES_DEFAULTS = {
  minScore: 0.6,
  minFace: 32,
  margin: 0.5,
  size: 258,
  tiles: 1,
  reportNearDuplicates: 6,
  samePerson: 0.7,
} as const;
