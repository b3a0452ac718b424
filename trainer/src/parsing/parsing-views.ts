/**
 * A parsing sample's pixels and label map as the model sees them. Each sample is cut out once
 * (`canonicalParsing`): the whole image (a face crop in LaPa and CelebAMask-HQ), centred, its longer
 * side filling the view's frame, with room around it for rotation and zoom, at a fixed resolution;
 * the label map goes through the same frame with nearest-neighbour sampling (so every pixel keeps a
 * class index) even when it is stored at another size than the image (CelebAMask-HQ: 512 px masks,
 * 1024 px images). Each training view is then warped from the cut-out with a random rotation, zoom
 * and shift, and mirrored half the time, which also renumbers the left/right classes by the
 * dataset's map; the evaluation view has none of them. Outside the image, labels are background.
 */
import type { RgbImage } from '../data/rgb-image.js';
import { type Alignment, type Point, warpAligned } from '../faces/align.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../finetune/transforms.js';
import { frame } from '../landmarks/landmark-views.js';
import { CamdError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import type { LabelMap } from './label-png.js';

/** The cut-out's side over the view's frame: room for rotation and zoom-out without a border. */
const CANONICAL_ROOM = 1.25;

export interface ParsingCanonical {
  img: RgbImage;
  labels: LabelMap;
}

export interface ParsingAug {
  /** Largest rotation, degrees. */
  rotate: number;
  /** Zoom drawn uniformly in [1 − scale, 1 + scale]. */
  scale: number;
  /** Largest shift, as a fraction of the view's side. */
  shift: number;
  flip: boolean;
}

export const DEFAULT_PARSING_AUG: ParsingAug = { rotate: 10, scale: 0.1, shift: 0.05, flip: true };

/** The label map through a warp, nearest neighbour: pixel i covers [i, i + 1); outside is 0 (background). */
export function warpLabels(m: LabelMap, a: Alignment): LabelMap {
  const S = a.size;
  const out = new Uint8Array(S * S);
  for (let v = 0; v < S; v++)
    for (let u = 0; u < S; u++) {
      const x = u + 0.5;
      const y = v + 0.5;
      const ix = Math.floor(a.origin[0] + x * a.ax[0] + y * a.ay[0]);
      const iy = Math.floor(a.origin[1] + x * a.ax[1] + y * a.ay[1]);
      if (ix >= 0 && iy >= 0 && ix < m.width && iy < m.height) out[v * S + u] = m.data[iy * m.width + ix]!;
    }
  return { width: S, height: S, data: out };
}

/** The sample cut out at round(S × CANONICAL_ROOM) pixels; `what` names it in errors. */
export function canonicalParsing(img: RgbImage, labels: LabelMap, S: number, what: string): ParsingCanonical {
  const sx = labels.width / img.width;
  const sy = labels.height / img.height;
  if (Math.abs(sx - sy) > 0.02 * Math.max(sx, sy))
    throw new CamdError(
      'input',
      `${what}: the label map is ${labels.width}×${labels.height}, not the image's shape (${img.width}×${img.height})`,
    );
  const side = Math.round(S * CANONICAL_ROOM);
  const L = Math.max(img.width, img.height) * CANONICAL_ROOM;
  const la = frame([labels.width / 2, labels.height / 2], L * sx, 0, side);
  return { img: warpAligned(img, canonicalFrame(img.width, img.height, S)), labels: warpLabels(labels, la) };
}

/** The cut-out's frame of a width × height image: centred, its longer side × CANONICAL_ROOM over round(S × CANONICAL_ROOM) pixels. */
export function canonicalFrame(width: number, height: number, S: number): Alignment {
  return frame([width / 2, height / 2], Math.max(width, height) * CANONICAL_ROOM, 0, Math.round(S * CANONICAL_ROOM));
}

/** The evaluation view's frame on a cut-out of `side` pixels: centred, upright, unzoomed. */
export function evaluationFrame(side: number, S: number): Alignment {
  return frame([side / 2, side / 2], side / CANONICAL_ROOM, 0, S);
}

/** RGB pixels normalised as the encoder was trained (ImageNet mean and std), optionally mirrored. */
function normalised(px: Uint8Array, S: number, flip: boolean): Float32Array {
  const x = new Float32Array(S * S * 3);
  for (let yy = 0; yy < S; yy++)
    for (let xx = 0; xx < S; xx++) {
      const from = (yy * S + (flip ? S - 1 - xx : xx)) * 3;
      const to = (yy * S + xx) * 3;
      for (let ch = 0; ch < 3; ch++) x[to + ch] = (px[from + ch]! / 255 - IMAGENET_MEAN[ch]!) / IMAGENET_STD[ch]!;
    }
  return x;
}

export interface ParsingView {
  /** S×S×3, normalised as the encoder was trained (ImageNet mean and std). */
  x: Float32Array;
  /** S×S class indices. */
  y: Int32Array;
}

/** A view of a cut-out: augmented when `rng` is given, else the plain evaluation view. */
export function parsingView(
  s: ParsingCanonical,
  S: number,
  flipMap: readonly number[],
  aug: ParsingAug,
  rng: Rng | null,
): ParsingView {
  const side = s.img.width;
  let a = evaluationFrame(side, S);
  if (rng) {
    const u = (r: number) => (rng.next() * 2 - 1) * r;
    const theta = (u(aug.rotate) * Math.PI) / 180;
    const L = (side / CANONICAL_ROOM) * (1 + u(aug.scale));
    const c: Point = [side / 2 + u(aug.shift) * L, side / 2 + u(aug.shift) * L];
    a = frame(c, L, theta, S);
  }
  const px = warpAligned(s.img, a).data;
  const lab = warpLabels(s.labels, a).data;
  const flip = rng !== null && aug.flip && rng.next() < 0.5;
  const x = normalised(px, S, flip);
  const y = new Int32Array(S * S);
  for (let yy = 0; yy < S; yy++)
    for (let xx = 0; xx < S; xx++) {
      const from = yy * S + (flip ? S - 1 - xx : xx);
      y[yy * S + xx] = flip ? flipMap[lab[from]!]! : lab[from]!;
    }
  return { x, y };
}

/**
 * The evaluation view of a whole photo, as training views a sample (a parsing sample is its whole
 * image: the same cut-out, then the same evaluation frame — the same two resamplings), for
 * `camd predict`; with the similarity that takes a view position (continuous: view pixel i covers
 * [i, i + 1)) to photo pixels (continuous likewise): photo = origin + scale × view.
 */
export function parsingPredictionView(img: RgbImage, S: number): { x: Float32Array; origin: Point; scale: number } {
  const a1 = canonicalFrame(img.width, img.height, S);
  const a2 = evaluationFrame(a1.size, S);
  const x = normalised(warpAligned(warpAligned(img, a1), a2).data, S, false);
  // both frames are upright: photo = a1.origin + a1.scale × (a2.origin + a2.scale × view)
  return {
    x,
    origin: [a1.origin[0] + a1.scale * a2.origin[0], a1.origin[1] + a1.scale * a2.origin[1]],
    scale: a1.scale * a2.scale,
  };
}
