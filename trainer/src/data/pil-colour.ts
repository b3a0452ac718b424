/**
 * Pillow's colour operations on 8-bit RGB, computed as Pillow computes them (its C code's integer
 * and single-precision float steps), for the two places the reference runs them on PIL images:
 * timm's RandAugment in fine-tuning (§5: ImageEnhance Brightness / Contrast / Color / Sharpness,
 * ImageOps.autocontrast) and torchvision's ColorJitter / RandomGrayscale in pre-training (§1.2:
 * the same ImageEnhance classes, and adjust_hue through PIL's HSV). Pixels are HWC values 0–255 in
 * a Float32Array, changed in place; every result is an integer 0–255, as a PIL image holds.
 * Tested byte for byte against Debian's Pillow and torchvision (tests/integration/pil-parity.test.ts).
 */

const f32 = Math.fround;

/** PIL's RGB → L (ITU-R 601-2 luma in 16-bit fixed point, rounded): Convert.c's L24 >> 16. */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/**
 * Image.blend(degenerate, image, factor) as ImageEnhance's `enhance(factor)` calls it: Blend.c
 * with alpha a single-precision float, in1 + alpha·(in2 − in1) in float, truncated to 8 bits,
 * clipped when extrapolating (alpha outside [0, 1]).
 */
export function blendInto(x: Float32Array, degenerate: Float32Array | number, factor: number): void {
  const alpha = f32(factor);
  if (alpha === 1) return;
  const interpolate = alpha >= 0 && alpha <= 1;
  for (let k = 0; k < x.length; k++) {
    const in1 = typeof degenerate === 'number' ? degenerate : degenerate[k]!;
    if (alpha === 0) {
      x[k] = in1;
      continue;
    }
    const v = f32(in1 + f32(alpha * (x[k]! - in1)));
    x[k] = interpolate ? Math.trunc(v) : v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
}

/** ImageEnhance.Brightness: blend with black. */
export function enhanceBrightness(x: Float32Array, factor: number): void {
  blendInto(x, 0, factor);
}

/** ImageEnhance.Contrast: blend with the grey of the image's mean luma, int(mean + 0.5). */
export function enhanceContrast(x: Float32Array, factor: number): void {
  let sum = 0;
  for (let k = 0; k < x.length; k += 3) sum += luma(x[k]!, x[k + 1]!, x[k + 2]!);
  blendInto(x, Math.trunc(sum / (x.length / 3) + 0.5), factor);
}

/** The image as PIL's convert('L') then back to RGB: each pixel's luma in all three channels (RandomGrayscale too). */
export function greyOf(x: Float32Array): Float32Array {
  const g = new Float32Array(x.length);
  for (let k = 0; k < x.length; k += 3) g[k] = g[k + 1] = g[k + 2] = luma(x[k]!, x[k + 1]!, x[k + 2]!);
  return g;
}

/** ImageEnhance.Color (torchvision's adjust_saturation on PIL): blend with the image's luma. */
export function enhanceColor(x: Float32Array, factor: number): void {
  blendInto(x, greyOf(x), factor);
}

/**
 * ImageFilter.SMOOTH — the 3×3 kernel (1 1 1 / 1 5 1 / 1 1 1) / 13 — as Filter.c applies it to RGB:
 * weights divided in float, each row's three products summed in float from the row below up,
 * +0.5 and truncated; the outermost rows and columns copied unchanged.
 */
export function smooth(x: Float32Array, width: number, height: number): Float32Array {
  const out = x.slice();
  const k1 = f32(1 / 13);
  const k5 = f32(5 / 13);
  const row = (y: number, xx: number, ch: number, centre: number) => {
    const o = y * width;
    return f32(
      f32(f32(x[(o + xx - 1) * 3 + ch]! * k1) + f32(x[(o + xx) * 3 + ch]! * centre)) +
        f32(x[(o + xx + 1) * 3 + ch]! * k1),
    );
  };
  for (let y = 1; y < height - 1; y++) {
    for (let xx = 1; xx < width - 1; xx++) {
      for (let ch = 0; ch < 3; ch++) {
        let ss = 0.5;
        ss = f32(ss + row(y + 1, xx, ch, k1));
        ss = f32(ss + row(y, xx, ch, k5));
        ss = f32(ss + row(y - 1, xx, ch, k1));
        out[(y * width + xx) * 3 + ch] = ss <= 0 ? 0 : ss >= 255 ? 255 : Math.trunc(ss);
      }
    }
  }
  return out;
}

/** ImageEnhance.Sharpness: blend with the SMOOTH-filtered image. */
export function enhanceSharpness(x: Float32Array, width: number, height: number, factor: number): void {
  blendInto(x, smooth(x, width, height), factor);
}

/** ImageOps.autocontrast (no cutoff): per channel, [lo, hi] → [0, 255] through int(i·scale + offset), clipped. */
export function autocontrast(x: Float32Array): void {
  for (let ch = 0; ch < 3; ch++) {
    let lo = 255;
    let hi = 0;
    for (let k = ch; k < x.length; k += 3) {
      if (x[k]! < lo) lo = x[k]!;
      if (x[k]! > hi) hi = x[k]!;
    }
    if (hi <= lo) continue;
    const scale = 255 / (hi - lo);
    const offset = -lo * scale;
    const lut = new Uint8Array(256);
    for (let i = 0; i < 256; i++) {
      const v = Math.trunc(i * scale + offset);
      lut[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    for (let k = ch; k < x.length; k += 3) x[k] = lut[x[k]!]!;
  }
}

/** PIL's RGB → HSV of one pixel (Convert.c rgb2hsv_row: float ratios, double hue arithmetic, truncated to 8 bits). */
function toHsv(r: number, g: number, b: number): [number, number, number] {
  const maxc = Math.max(r, g, b);
  const minc = Math.min(r, g, b);
  if (minc === maxc) return [0, 0, maxc];
  const cr = maxc - minc;
  const s = f32(cr / maxc);
  const rc = f32((maxc - r) / cr);
  const gc = f32((maxc - g) / cr);
  const bc = f32((maxc - b) / cr);
  let h = r === maxc ? f32(bc - gc) : g === maxc ? f32(2 + rc - bc) : f32(4 + gc - rc);
  h = f32((h / 6 + 1) % 1);
  const clip = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  return [clip(Math.trunc(h * 255)), clip(Math.trunc(s * 255)), maxc];
}

/** C's round(): halves away from zero. */
const cRound = (v: number) => (v < 0 ? -Math.round(-v) : Math.round(v));

/** PIL's HSV → RGB of one pixel (Convert.c hsv2rgb, following colorsys). */
function toRgb(h: number, s: number, v: number): [number, number, number] {
  if (s === 0) return [v, v, v];
  const i = Math.floor((h * 6) / 255);
  const f = f32((h * 6) / 255 - i);
  const fs = f32(s / 255);
  const clip = (n: number) => (n < 0 ? 0 : n > 255 ? 255 : n);
  const p = clip(cRound(v * (1 - fs)));
  const q = clip(cRound(v * (1 - fs * f)));
  const t = clip(cRound(v * (1 - fs * (1 - f))));
  switch (i % 6) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

/**
 * torchvision's adjust_hue on a PIL image: to PIL's 8-bit HSV, the hue channel shifted by
 * np.uint8(factor · 255) with uint8 wrap-around (a negative shift wraps through its truncation),
 * back to RGB.
 */
export function adjustHue(x: Float32Array, factor: number): void {
  const shift = ((Math.trunc(factor * 255) % 256) + 256) % 256;
  for (let k = 0; k < x.length; k += 3) {
    const [h, s, v] = toHsv(x[k]!, x[k + 1]!, x[k + 2]!);
    const [r, g, b] = toRgb((h + shift) & 255, s, v);
    x[k] = r;
    x[k + 1] = g;
    x[k + 2] = b;
  }
}
