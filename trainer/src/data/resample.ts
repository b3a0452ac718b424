/**
 * Crop + resize exactly as torchvision's `resized_crop` does on a PIL image: the crop is cut out
 * first (so resampling never reads past its edge), then resized with PIL's separable bicubic
 * (a = −0.5) whose support widens with the reduction factor (antialiasing), horizontal pass first,
 * each pass rounded to 8 bits, coefficients in PIL's 22-bit fixed point (Pillow's Resample.c).
 * Output pixel x samples the source at (x + 0.5)·scale − 0.5: pixel centres, as PIL. libvips'
 * bicubic enlargement, which sharp's resize used before, is shifted by about half an output pixel
 * against this (0.35–0.53 px measured), and view-1 crops are enlargements in most draws, which
 * displaced view 1 from the geometry §1.3 encodes. Tested to equal Pillow 9.4's bytes.
 */
import type { RgbImage } from './rgb-image.js';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

/** PIL's bicubic kernel with a = −0.5, support 2. */
function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Taps {
  /** First source index of each output sample. */
  start: Int32Array;
  /** Number of taps of each output sample. */
  count: Int32Array;
  /** Fixed-point weights, `maxTaps` per output sample. */
  weights: Float64Array;
  maxTaps: number;
}

/** PIL's precompute_coeffs + normalize_coeffs_8bpc for `inSize` → `outSize` over [0, inSize). */
function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * maxTaps);
  const k = new Float64Array(maxTaps);
  for (let x = 0; x < outSize; x++) {
    const center = (x + 0.5) * scale;
    const ss = 1 / filterscale;
    // Pillow truncates with (int) toward zero; centre − support + 0.5 can be negative
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let total = 0;
    for (let i = 0; i < xmax; i++) {
      const w = bicubic((i + xmin - center + 0.5) * ss);
      k[i] = w;
      total += w;
    }
    for (let i = 0; i < xmax; i++) {
      const w = total !== 0 ? k[i]! / total : 0;
      // normalize_coeffs_8bpc: round half away from zero
      weights[x * maxTaps + i] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    start[x] = xmin;
    count[x] = xmax;
  }
  return { start, count, weights, maxTaps };
}

const clip8 = (v: number) => {
  const r = Math.floor((v + HALF) / ONE);
  return r < 0 ? 0 : r > 255 ? 255 : r;
};

/** The crop (top i, left j, height h, width w) of an RGB image, resized to S×S: 8-bit RGB, HWC. */
export function resizedCrop(
  img: RgbImage,
  crop: { i: number; j: number; h: number; w: number },
  S: number,
): Uint8Array {
  return resample(img, crop, S, S);
}

/** The crop of an RGB image resized to outW × outH (PIL's Image.crop(...).resize((outW, outH), BICUBIC)). */
export function resample(
  img: RgbImage,
  crop: { i: number; j: number; h: number; w: number },
  outW: number,
  outH: number,
): Uint8Array {
  const { i, j, h, w } = crop;
  if (
    !(
      Number.isInteger(i) &&
      Number.isInteger(j) &&
      h >= 1 &&
      w >= 1 &&
      i >= 0 &&
      j >= 0 &&
      i + h <= img.height &&
      j + w <= img.width
    )
  ) {
    throw new Error(`resizedCrop: crop ${JSON.stringify(crop)} is not inside the ${img.width}×${img.height} image`);
  }
  const src = img.data;
  const W = img.width;
  // horizontal pass over the crop's rows (skipped when the width does not change, as PIL)
  let mid: Uint8Array;
  if (w === outW) {
    mid = new Uint8Array(h * outW * 3);
    for (let y = 0; y < h; y++) mid.set(src.subarray(((i + y) * W + j) * 3, ((i + y) * W + j + w) * 3), y * outW * 3);
  } else {
    const t = taps(w, outW);
    mid = new Uint8Array(h * outW * 3);
    for (let y = 0; y < h; y++) {
      const row = ((i + y) * W + j) * 3;
      for (let x = 0; x < outW; x++) {
        const o = x * t.maxTaps;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = 0; k < t.count[x]!; k++) {
          const p = row + (t.start[x]! + k) * 3;
          const c = t.weights[o + k]!;
          r += src[p]! * c;
          g += src[p + 1]! * c;
          b += src[p + 2]! * c;
        }
        const q = (y * outW + x) * 3;
        mid[q] = clip8(r);
        mid[q + 1] = clip8(g);
        mid[q + 2] = clip8(b);
      }
    }
  }
  if (h === outH) return mid;
  // vertical pass
  const t = taps(h, outH);
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    const o = y * t.maxTaps;
    for (let x = 0; x < outW; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < t.count[y]!; k++) {
        const p = ((t.start[y]! + k) * outW + x) * 3;
        const c = t.weights[o + k]!;
        r += mid[p]! * c;
        g += mid[p + 1]! * c;
        b += mid[p + 2]! * c;
      }
      const q = (y * outW + x) * 3;
      out[q] = clip8(r);
      out[q + 1] = clip8(g);
      out[q + 2] = clip8(b);
    }
  }
  return out;
}
