/**
 * Crop sampling of the two views (method.md §1.2) and the relative geometry of view 2 in
 * view-1 crop units (§1.3). Pure functions of the image size and an Rng.
 */
import type { Rng } from '../util/rng.js';
import { roundHalfEven } from '../model/mask.js';
import type { RelativeGeometry } from '../model/posembed.js';

export interface Crop {
  i: number; // top
  j: number; // left
  h: number;
  w: number;
}

/**
 * torchvision RandomResizedCrop.get_params: up to 10 tries of area scale s ~ U(scale) and
 * log-uniform aspect in [3/4, 4/3]; fallback is a centre crop clamped to the ratio range.
 */
export function sampleResizedCrop(
  W: number,
  H: number,
  scale: [number, number],
  rng: Rng,
  ratio: [number, number] = [3 / 4, 4 / 3],
): Crop {
  const area = W * H;
  const logRatio: [number, number] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let t = 0; t < 10; t++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= W && h > 0 && h <= H) {
      return { i: rng.int(0, H - h), j: rng.int(0, W - w), h, w };
    }
  }
  const inRatio = W / H;
  let w: number;
  let h: number;
  if (inRatio < ratio[0]) {
    w = W;
    h = roundHalfEven(w / ratio[0]);
  } else if (inRatio > ratio[1]) {
    h = H;
    w = roundHalfEven(h * ratio[1]);
  } else {
    w = W;
    h = H;
  }
  return { i: Math.floor((H - h) / 2), j: Math.floor((W - w) / 2), h, w };
}

/** §1.3: view 2 expressed in view-1 crop units. */
export function relativeGeometry(c1: Crop, c2: Crop, W: number, flip1: boolean, flip2: boolean): RelativeGeometry {
  return {
    di: (c2.i - c1.i) / c1.h,
    dj: (c2.j - c1.j) / c1.w,
    dh: c2.h / c1.h,
    dw: c2.w / c1.w,
    flip: flip1 !== flip2,
    fdj: (W - c1.j - c2.j) / c1.w,
  };
}

/** View-1 scale range (crop_min, crop_max) and view-2 (whole image) of §1.2. */
export const VIEW1_SCALE: [number, number] = [0.08, 0.6];
export const VIEW2_SCALE: [number, number] = [1, 1];
