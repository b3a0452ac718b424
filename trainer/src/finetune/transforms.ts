/**
 * Fine-tuning transforms of method.md §5 (timm create_transform):
 *  train: RandomResizedCrop(S, scale 0.08–1, ratio 3/4–4/3, bicubic) → flip 0.5 →
 *         RandAugment rand-m9-mstd0.5-inc1 (2 ops, each p 0.5, magnitude ~ N(9, 0.5) in [0, 10]) →
 *         ImageNet normalisation → RandomErasing p 0.25 (per-pixel N(0, 1), area 2–33 %, log aspect 0.3–3.3)
 *  eval:  shorter side → int(S / crop_pct) (bicubic; crop_pct 224/256 up to 224 px, 1.0 above),
 *         centre crop S (torchvision's rounding), ImageNet normalisation — torchvision's bytes.
 * Random parameters are drawn first from the Rng; pixels are uint8-valued floats (as PIL) until normalisation.
 */
import type { Rng } from '../util/rng.js';
import type { RgbImage } from '../data/image-io.js';
import { resizedCrop } from '../data/resample.js';
import { sampleResizedCrop } from '../data/crop.js';
import { FINETUNE_DEFAULTS } from '../protocol/defaults.js';
import {
  autocontrast,
  enhanceBrightness,
  enhanceColor,
  enhanceContrast,
  enhanceSharpness,
} from '../data/pil-colour.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
const FILL = IMAGENET_MEAN.map((m) => Math.round(m * 255)); // timm's fill colour for geometric ops

export const RAND_OPS = [
  'AutoContrast',
  'Equalize',
  'Invert',
  'Rotate',
  'PosterizeIncreasing',
  'SolarizeIncreasing',
  'SolarizeAdd',
  'ColorIncreasing',
  'ContrastIncreasing',
  'BrightnessIncreasing',
  'SharpnessIncreasing',
  'ShearX',
  'ShearY',
  'TranslateXRel',
  'TranslateYRel',
] as const;
export type RandOp = (typeof RAND_OPS)[number];

export interface RandOpDraw {
  op: RandOp;
  apply: boolean;
  magnitude: number;
  sign: number;
}

export interface TrainDraw {
  crop: { i: number; j: number; h: number; w: number };
  flip: boolean;
  ops: RandOpDraw[];
  erase: { top: number; left: number; h: number; w: number; noiseSeed: number } | null;
}

/** Strength of the training augmentation; the defaults are §5's. */
export interface AugOptions {
  /** 'rand-m9-mstd0.5-inc1' (default) or 'none'. */
  randAugment: 'rand-m9-mstd0.5-inc1' | 'none';
  /** RandomErasing probability (0.25). */
  reprob: number;
  /** Lower bound of the RandomResizedCrop area scale (0.08). */
  minCropScale: number;
}

export const DEFAULT_AUG: AugOptions = {
  randAugment: FINETUNE_DEFAULTS.randAugment,
  reprob: FINETUNE_DEFAULTS.reprob,
  minCropScale: FINETUNE_DEFAULTS.minCropScale,
};

/** All random choices of one training sample (timm order: crop, flip, RandAugment, erasing). */
export function drawTrain(W: number, H: number, S: number, rng: Rng, aug: AugOptions = DEFAULT_AUG): TrainDraw {
  const crop = sampleResizedCrop(W, H, [aug.minCropScale, 1], rng);
  const flip = rng.bernoulli(0.5);
  const ops: RandOpDraw[] = [];
  for (let k = 0; k < (aug.randAugment === 'none' ? 0 : 2); k++) {
    const op = RAND_OPS[rng.int(0, RAND_OPS.length - 1)]!; // uniform, with replacement
    const apply = rng.bernoulli(0.5);
    const magnitude = Math.min(10, Math.max(0, rng.normal(9, 0.5)));
    const sign = rng.bernoulli(0.5) ? -1 : 1;
    ops.push({ op, apply, magnitude, sign });
  }
  let erase: TrainDraw['erase'] = null;
  if (aug.reprob > 0 && rng.bernoulli(aug.reprob)) {
    for (let t = 0; t < 10; t++) {
      const area = rng.uniform(0.02, 1 / 3) * S * S;
      const aspect = Math.exp(rng.uniform(Math.log(0.3), Math.log(1 / 0.3)));
      const h = Math.round(Math.sqrt(area * aspect));
      const w = Math.round(Math.sqrt(area / aspect));
      if (w < S && h < S) {
        erase = { top: rng.int(0, S - h), left: rng.int(0, S - w), h, w, noiseSeed: rng.nextU32() };
        break;
      }
    }
  }
  return { crop, flip, ops, erase };
}

/** PIL's cubic of Image.transform (Geometry.c BICUBIC: Keys' kernel with a = −1) at offset d ∈ [0, 1). */
function cubic(v1: number, v2: number, v3: number, v4: number, d: number): number {
  const p1 = v2;
  const p2 = -v1 + v3;
  const p3 = 2 * (v1 - v2) + v3 - v4;
  const p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

/**
 * Inverse-mapped affine warp exactly as PIL's Image.transform(AFFINE, resample=BICUBIC), which
 * timm's RandAugment uses with the fine-tuning interpolation (bicubic): output pixel (x, y) reads
 * the source at (a·(x + ½) + b·(y + ½) + c, d·(x + ½) + e·(y + ½) + f); outside the image → the fill
 * colour; 4×4 taps with clamped columns, rows past the edge repeat the last row read, the result
 * truncated to 8 bits (Pillow's Geometry.c).
 */
function affine(x: Float32Array, S: number, m: [number, number, number, number, number, number]): void {
  const src = x.slice();
  const [a, b, c, d, e, f] = m;
  const xclip = (v: number) => (v < 0 ? 0 : v >= S ? S - 1 : v);
  const row = (yy: number, x0: number, x1: number, x2: number, x3: number, ch: number, dx: number) => {
    const o = yy * S;
    return cubic(
      src[(o + x0) * 3 + ch]!,
      src[(o + x1) * 3 + ch]!,
      src[(o + x2) * 3 + ch]!,
      src[(o + x3) * 3 + ch]!,
      dx,
    );
  };
  for (let y = 0; y < S; y++) {
    for (let xx = 0; xx < S; xx++) {
      let xin = a * (xx + 0.5) + b * (y + 0.5) + c;
      let yin = d * (xx + 0.5) + e * (y + 0.5) + f;
      const o = (y * S + xx) * 3;
      if (xin < 0 || xin >= S || yin < 0 || yin >= S) {
        x[o] = FILL[0]!;
        x[o + 1] = FILL[1]!;
        x[o + 2] = FILL[2]!;
        continue;
      }
      xin -= 0.5;
      yin -= 0.5;
      const ix = Math.floor(xin);
      const iy = Math.floor(yin);
      const dx = xin - ix;
      const dy = yin - iy;
      const x0 = xclip(ix - 1);
      const x1 = xclip(ix);
      const x2 = xclip(ix + 1);
      const x3 = xclip(ix + 2);
      const y0 = iy - 1;
      for (let ch = 0; ch < 3; ch++) {
        const v1 = row(y0 < 0 ? 0 : y0 >= S ? S - 1 : y0, x0, x1, x2, x3, ch, dx);
        const v2 = y0 + 1 >= 0 && y0 + 1 < S ? row(y0 + 1, x0, x1, x2, x3, ch, dx) : v1;
        const v3 = y0 + 2 >= 0 && y0 + 2 < S ? row(y0 + 2, x0, x1, x2, x3, ch, dx) : v2;
        const v4 = y0 + 3 >= 0 && y0 + 3 < S ? row(y0 + 3, x0, x1, x2, x3, ch, dx) : v3;
        const v = cubic(v1, v2, v3, v4, dy);
        x[o + ch] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
      }
    }
  }
}

/** One RandAugment op at magnitude m ∈ [0, 10] (timm's _RAND_INCREASING_TRANSFORMS level functions). */
export function applyRandOp(x: Float32Array, S: number, d: RandOpDraw): void {
  const m = d.magnitude / 10;
  const sgn = d.sign;
  switch (d.op) {
    case 'AutoContrast':
      autocontrast(x);
      break;
    case 'Equalize':
      for (let ch = 0; ch < 3; ch++) {
        const hist = new Array<number>(256).fill(0);
        for (let k = ch; k < x.length; k += 3) hist[x[k]!]!++;
        const nz = hist.filter((h) => h > 0);
        const step = Math.floor((x.length / 3 - nz[nz.length - 1]!) / 255);
        if (!step) continue; // PIL: nothing to equalise
        const lut = new Array<number>(256);
        let n = Math.floor(step / 2);
        for (let i = 0; i < 256; i++) {
          lut[i] = Math.min(255, Math.floor(n / step));
          n += hist[i]!;
        }
        for (let k = ch; k < x.length; k += 3) x[k] = lut[x[k]!]!;
      }
      break;
    case 'Invert':
      for (let k = 0; k < x.length; k++) x[k] = 255 - x[k]!;
      break;
    case 'Rotate': {
      // Image.rotate(deg) of PIL (counter-clockwise for positive degrees), about the centre
      const deg = sgn * m * 30;
      const r = (-deg * Math.PI) / 180;
      const cos = Math.round(Math.cos(r) * 1e15) / 1e15; // PIL rounds the matrix to 15 decimals
      const sin = Math.round(Math.sin(r) * 1e15) / 1e15;
      const c = S / 2;
      affine(x, S, [cos, sin, c - cos * c - sin * c, -sin, cos, c + sin * c - cos * c]);
      break;
    }
    case 'PosterizeIncreasing': {
      const bits = 4 - Math.floor(m * 4);
      const mask = ~(2 ** (8 - bits) - 1) & 0xff;
      for (let k = 0; k < x.length; k++) x[k] = x[k]! & mask;
      break;
    }
    case 'SolarizeIncreasing': {
      const thresh = 256 - Math.floor(m * 256);
      for (let k = 0; k < x.length; k++) if (x[k]! >= thresh) x[k] = 255 - x[k]!;
      break;
    }
    case 'SolarizeAdd': {
      const add = Math.floor(m * 110);
      for (let k = 0; k < x.length; k++) if (x[k]! < 128) x[k] = Math.min(255, x[k]! + add);
      break;
    }
    // ImageEnhance's Color, Contrast, Brightness and Sharpness at factor 1 ± 0.9·m, Pillow's bytes (data/pil-colour.ts)
    case 'ColorIncreasing':
      enhanceColor(x, 1 + sgn * m * 0.9);
      break;
    case 'ContrastIncreasing':
      enhanceContrast(x, 1 + sgn * m * 0.9);
      break;
    case 'BrightnessIncreasing':
      enhanceBrightness(x, 1 + sgn * m * 0.9);
      break;
    case 'SharpnessIncreasing':
      enhanceSharpness(x, S, S, 1 + sgn * m * 0.9);
      break;
    case 'ShearX':
      affine(x, S, [1, sgn * m * 0.3, 0, 0, 1, 0]);
      break;
    case 'ShearY':
      affine(x, S, [1, 0, 0, sgn * m * 0.3, 1, 0]);
      break;
    case 'TranslateXRel':
      affine(x, S, [1, 0, sgn * m * 0.45 * S, 0, 1, 0]);
      break;
    case 'TranslateYRel':
      affine(x, S, [1, 0, 0, 0, 1, sgn * m * 0.45 * S]);
      break;
  }
}

async function cropPixels(
  img: RgbImage,
  crop: { i: number; j: number; h: number; w: number },
  S: number,
): Promise<Float32Array> {
  return Float32Array.from(resizedCrop(img, crop, S));
}

function normalise(x: Float32Array): void {
  for (let k = 0; k < x.length; k++) x[k] = (x[k]! / 255 - IMAGENET_MEAN[k % 3]!) / IMAGENET_STD[k % 3]!;
}

/** A training sample (HWC floats, normalised). */
export async function trainTransform(
  img: RgbImage,
  S: number,
  d: TrainDraw,
  noise: (seed: number) => () => number,
): Promise<Float32Array> {
  const x = await cropPixels(img, d.crop, S);
  if (d.flip) {
    for (let y = 0; y < S; y++)
      for (let xx = 0; xx < S / 2; xx++)
        for (let ch = 0; ch < 3; ch++) {
          const a = (y * S + xx) * 3 + ch;
          const b = (y * S + (S - 1 - xx)) * 3 + ch;
          const t = x[a]!;
          x[a] = x[b]!;
          x[b] = t;
        }
  }
  for (const op of d.ops) if (op.apply) applyRandOp(x, S, op);
  normalise(x);
  if (d.erase) {
    const gauss = noise(d.erase.noiseSeed);
    for (let y = d.erase.top; y < d.erase.top + d.erase.h; y++)
      for (let xx = d.erase.left; xx < d.erase.left + d.erase.w; xx++)
        for (let ch = 0; ch < 3; ch++) x[(y * S + xx) * 3 + ch] = gauss();
  }
  return x;
}

/**
 * The evaluation view before normalisation: the centre S×S of an image whose shorter side is
 * evalSide(S) (the decode cache stores exactly that), placed as torchvision's CenterCrop places it —
 * int(round((H − S) / 2)), Python's round, halves to even.
 */
export function evalView(img: RgbImage, S: number): Uint8Array {
  const i = centreOffset(img.height, S);
  const j = centreOffset(img.width, S);
  if (i < 0 || j < 0) throw new Error(`evaluation image ${img.width}×${img.height} is smaller than ${S}`);
  return resizedCrop(img, { i, j, h: S, w: S }, S);
}

/** (size − S) / 2 rounded as Python's round() does: an exact half goes to the even neighbour. */
export function centreOffset(size: number, S: number): number {
  const d = size - S;
  if (d % 2 === 0) return d / 2;
  const lo = Math.floor(d / 2);
  return lo % 2 === 0 ? lo : lo + 1;
}

/** The evaluation view, normalised (HWC floats). */
export async function evalTransform(img: RgbImage, S: number): Promise<Float32Array> {
  const x = Float32Array.from(evalView(img, S));
  normalise(x);
  return x;
}

/**
 * The shorter side the evaluation view is cut from, as the released build_transform computes it:
 * int(S / crop_pct) with crop_pct = 224/256 up to 224 px and 1.0 above (truncated, not rounded).
 */
export function evalSide(S: number): number {
  return S <= 224 ? Math.trunc(S / (224 / 256)) : S;
}
