/**
 * A head-pose sample's pixels as the model sees them, and its rotation kept consistent with them.
 *
 * The face's view is 6DRepNet's test view: the box of its 2-D points loosened as its AFLW2000
 * loader does (k = 0.2, each side moved in turn: x0 −= 0.4·w, y0 −= 0.4·h, then x1 += 0.4·w′ and
 * y1 += 0.12·h′ with the widened w′, h′), then Resize(256) + CenterCrop(224) — the centred square of
 * side 224/256 of the loose box's shorter side. Each sample is cut out once (`canonical`) with room
 * around that square; a training view is a zoomed (1 ± scale), shifted (± shift of the side) and
 * mirrored (probability ½) square of the cut-out. Zoom and shift leave the pose as it is (the
 * literature's crops and RandomResizedCrop do the same); the mirror negates yaw and roll (F·R·F,
 * rotation.ts), as 6DRepNet's loaders do. There is no in-plane rotation: it would change the roll.
 */
import type { RgbImage } from '../data/rgb-image.js';
import { type Alignment, warpAligned } from '../faces/align.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../finetune/transforms.js';
import type { Rng } from '../util/rng.js';
import { mirrorRotation } from './rotation.js';

/** The cut-out's side over the view's square: room for zooming out and shifting without a border. */
const CANONICAL_ROOM = 1.4;

export interface PoseViewAug {
  /** Zoom drawn uniformly in [1 − scale, 1 + scale]. */
  scale: number;
  /** Largest shift, as a fraction of the view's side. */
  shift: number;
  /** Mirror with probability ½ (yaw and roll negated). */
  flip: boolean;
}

export const DEFAULT_POSE_AUG: PoseViewAug = { scale: 0.15, shift: 0.08, flip: true };

/** The view's square in image pixels (centre and side) from the face's points box x0, y0, x1, y1. */
export function viewSquare(box: readonly [number, number, number, number]): { cx: number; cy: number; side: number } {
  let [x0, y0, x1, y1] = box;
  const k = 0.2;
  x0 -= 2 * k * Math.abs(x1 - x0);
  y0 -= 2 * k * Math.abs(y1 - y0);
  x1 += 2 * k * Math.abs(x1 - x0);
  y1 += 0.6 * k * Math.abs(y1 - y0);
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, side: (Math.min(x1 - x0, y1 - y0) * 224) / 256 };
}

/** An axis-aligned square of side L centred on (cx, cy), to `size` pixels. */
function square(cx: number, cy: number, L: number, size: number): Alignment {
  const scale = L / size;
  return { origin: [cx - L / 2, cy - L / 2], ax: [scale, 0], ay: [0, scale], size, scale, rollDeg: 0 };
}

export interface PoseCanonical {
  img: RgbImage;
  /** The rotation, row-major. */
  R: Float64Array;
}

/** The sample cut out once at round(S × CANONICAL_ROOM) pixels around its view square. */
export function canonicalPose(
  img: RgbImage,
  box: readonly [number, number, number, number],
  R: Float64Array,
  S: number,
): PoseCanonical {
  const { cx, cy, side } = viewSquare(box);
  const n = Math.round(S * CANONICAL_ROOM);
  return { img: warpAligned(img, square(cx, cy, side * CANONICAL_ROOM, n)), R };
}

export interface PoseView {
  /** S×S×3, normalised as the encoder was trained (ImageNet mean and std). */
  x: Float32Array;
  /** The view's rotation, row-major (mirrored with the pixels). */
  R: Float32Array;
  flipped: boolean;
}

/** A view of a cut-out: augmented when `rng` is given, else the plain evaluation view. */
export function poseViewOf(c: PoseCanonical, S: number, aug: PoseViewAug, rng: Rng | null): PoseView {
  const n = c.img.width;
  const u = (a: number) => (rng ? (rng.next() * 2 - 1) * a : 0);
  const L = (n / CANONICAL_ROOM) * (1 + u(aug.scale));
  const px = warpAligned(c.img, square(n / 2 + u(aug.shift) * L, n / 2 + u(aug.shift) * L, L, S)).data;
  const flipped = rng !== null && aug.flip && rng.next() < 0.5;
  const x = new Float32Array(S * S * 3);
  for (let yy = 0; yy < S; yy++)
    for (let xx = 0; xx < S; xx++) {
      const from = (yy * S + (flipped ? S - 1 - xx : xx)) * 3;
      const to = (yy * S + xx) * 3;
      for (let ch = 0; ch < 3; ch++) x[to + ch] = (px[from + ch]! / 255 - IMAGENET_MEAN[ch]!) / IMAGENET_STD[ch]!;
    }
  return { x, R: Float32Array.from(flipped ? mirrorRotation(c.R) : c.R), flipped };
}
