/**
 * Two-view augmentation of method.md §1.2, producing x1 (view 1, masked later), x2 (view 2, the
 * whole image) and the relative geometry of §1.3. All random parameters of a batch are drawn
 * first, in a fixed order, so a batch is a pure function of (images, rng state); the pixel work
 * follows on 8-bit values, as the reference's PIL images hold them: crop + bicubic resize exactly
 * as PIL (resample.ts); ColorJitter and RandomGrayscale exactly as torchvision's PIL path does them
 * (ImageEnhance Brightness / Contrast / Color, adjust_hue through PIL's HSV, convert('L'):
 * pil-colour.ts); a Gaussian blur (the reference's PIL GaussianBlur is a box-blur approximation,
 * not reproduced), rounded to 8 bits as PIL returns it; solarize at 128; then ToTensor's /255 and
 * the normalisation.
 */
import type { Rng } from '../util/rng.js';
import type { RgbImage } from './image-io.js';
import { resizedCrop } from './resample.js';
import { relativeGeometry, sampleResizedCrop, VIEW1_SCALE, VIEW2_SCALE, type Crop } from './crop.js';
import { adjustHue, enhanceBrightness, enhanceColor, enhanceContrast, greyOf } from './pil-colour.js';
import type { RelativeGeometry } from '../model/posembed.js';

/** The view size the release's augmentation parameters are given for (§1.2): blur σ scales with S / 224. */
export const REFERENCE_SIZE = 224;

/** VGGFace2 statistics used by pre-training (§1.2 step 5). */
export const VGGFACE2_MEAN = [0.5231, 0.4044, 0.3489] as const;
export const VGGFACE2_STD = [0.2536, 0.2194, 0.207] as const;

/** Colour and blur parameters of one view, drawn up front. */
export interface ColourParams {
  jitter: { order: number[]; brightness: number; contrast: number; saturation: number; hue: number } | null;
  grey: boolean;
  blurSigma: number | null;
  solarize: boolean;
}

export interface ViewParams {
  crop: Crop; // in the coordinates of the (possibly flipped) image
  flip: boolean;
  colour: ColourParams;
}

/** §1.2 step 4: jitter (p 0.8, random order), grey (p 0.2), blur (p 1.0 view 1 / 0.1 view 2), solarize (view 2, p 0.2). */
function drawColour(rng: Rng, blurP: number, solarizeP: number): ColourParams {
  let jitter: ColourParams['jitter'] = null;
  if (rng.bernoulli(0.8)) {
    jitter = {
      order: rng.shuffle([0, 1, 2, 3]),
      brightness: rng.uniform(0.6, 1.4), // 0.4
      contrast: rng.uniform(0.6, 1.4), // 0.4
      saturation: rng.uniform(0.8, 1.2), // 0.2
      hue: rng.uniform(-0.1, 0.1), // 0.1
    };
  }
  const grey = rng.bernoulli(0.2);
  const blurSigma = rng.bernoulli(blurP) ? rng.uniform(0.1, 2.0) : null;
  const solarize = solarizeP > 0 && rng.bernoulli(solarizeP);
  return { jitter, grey, blurSigma, solarize };
}

export function drawTwoViews(
  W: number,
  H: number,
  rng: Rng,
): { v1: ViewParams; v2: ViewParams; geometry: RelativeGeometry } {
  const flip1 = rng.bernoulli(0.5);
  const flip2 = rng.bernoulli(0.5);
  const c1 = sampleResizedCrop(W, H, VIEW1_SCALE, rng);
  const c2 = sampleResizedCrop(W, H, VIEW2_SCALE, rng);
  const col1 = drawColour(rng, 1.0, 0);
  const col2 = drawColour(rng, 0.1, 0.2);
  return {
    v1: { crop: c1, flip: flip1, colour: col1 },
    v2: { crop: c2, flip: flip2, colour: col2 },
    geometry: relativeGeometry(c1, c2, W, flip1, flip2),
  };
}

/** Crop (given in flipped-image coordinates) + bicubic resize to S×S, then the flip. Returns 8-bit values (0–255) as floats, HWC. */
async function viewPixels(img: RgbImage, v: ViewParams, S: number): Promise<Float32Array> {
  const { i, j, h, w } = v.crop;
  const data = resizedCrop(img, { i, j: v.flip ? img.width - j - w : j, h, w }, S); // the same pixels in the unflipped image
  const out = new Float32Array(S * S * 3);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const sx = v.flip ? S - 1 - x : x;
      const o = (y * S + x) * 3;
      const s = (y * S + sx) * 3;
      out[o] = data[s]!;
      out[o + 1] = data[s + 1]!;
      out[o + 2] = data[s + 2]!;
    }
  }
  return out;
}

/** Separable Gaussian blur with standard deviation sigma (pixels), edges clamped. */
export function gaussianBlur(x: Float32Array, S: number, sigma: number): void {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  const tmp = new Float32Array(x.length);
  for (let pass = 0; pass < 2; pass++) {
    const src = pass === 0 ? x : tmp;
    const dst = pass === 0 ? tmp : x;
    for (let y = 0; y < S; y++) {
      for (let xx = 0; xx < S; xx++) {
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        for (let t = -r; t <= r; t++) {
          const yy = pass === 0 ? y : Math.min(S - 1, Math.max(0, y + t));
          const xs = pass === 0 ? Math.min(S - 1, Math.max(0, xx + t)) : xx;
          const s = (yy * S + xs) * 3;
          const w = k[t + r]!;
          a0 += w * src[s]!;
          a1 += w * src[s + 1]!;
          a2 += w * src[s + 2]!;
        }
        const o = (y * S + xx) * 3;
        dst[o] = a0;
        dst[o + 1] = a1;
        dst[o + 2] = a2;
      }
    }
  }
}

/**
 * Applies the colour pipeline in place to 8-bit values (0–255, as floats), then ToTensor's /255 and
 * the normalisation with mean/std: ColorJitter's four ops in their drawn order, grey, blur, solarize
 * (§1.2 step 4), each on 8-bit values as on the reference's PIL image.
 */
export function applyColour(
  x: Float32Array,
  S: number,
  c: ColourParams,
  mean: readonly number[],
  std: readonly number[],
): void {
  if (c.jitter) {
    for (const op of c.jitter.order) {
      if (op === 0) enhanceBrightness(x, c.jitter.brightness);
      else if (op === 1) enhanceContrast(x, c.jitter.contrast);
      else if (op === 2) enhanceColor(x, c.jitter.saturation);
      else adjustHue(x, c.jitter.hue);
    }
  }
  if (c.grey) x.set(greyOf(x));
  // σ ∈ [0.1, 2] is drawn for the release's 224 px views (§1.2); at S px the same blur is σ·S/224
  if (c.blurSigma !== null) {
    gaussianBlur(x, S, (c.blurSigma * S) / REFERENCE_SIZE);
    for (let k = 0; k < x.length; k++) x[k] = Math.min(255, Math.max(0, Math.round(x[k]!)));
  }
  // ImageOps.solarize(threshold=128)
  if (c.solarize) for (let k = 0; k < x.length; k++) if (x[k]! >= 128) x[k] = 255 - x[k]!;
  for (let k = 0; k < x.length; k++) x[k] = (x[k]! / 255 - mean[k % 3]!) / std[k % 3]!;
}

/** One sample's two views (HWC floats, normalised) and geometry. */
export async function twoViews(
  img: RgbImage,
  S: number,
  params: ReturnType<typeof drawTwoViews>,
): Promise<{ x1: Float32Array; x2: Float32Array; geometry: RelativeGeometry }> {
  const [x1, x2] = await Promise.all([viewPixels(img, params.v1, S), viewPixels(img, params.v2, S)]);
  applyColour(x1, S, params.v1.colour, VGGFACE2_MEAN, VGGFACE2_STD);
  applyColour(x2, S, params.v2.colour, VGGFACE2_MEAN, VGGFACE2_STD);
  return { x1, x2, geometry: params.geometry };
}
