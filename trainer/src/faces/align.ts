/**
 * Face alignment: a similarity transform that puts the eyes level at fixed positions, and the
 * warp that applies it to a decoded photo.
 *
 * Framing (after FFHQ's alignment, with the rotation taken from the eyes alone so that they end
 * level): eye-to-eye vector e, eye-midpoint-to-mouth-midpoint vector m; the face size is
 * F = max(2·|e|, 1.8·|m|) (the mouth term keeps turned faces, whose eyes look close together, from
 * being enlarged); the crop is centred at eyes' midpoint + 0.1·m and its side is F·(1 + 2·margin).
 * margin 0 is a tight crop (eyes at about ¼ and ¾ of the width), 0.5 (the default) FFHQ's framing.
 *
 * Sampling: pixel i covers [i, i+1); the output pixel centre (u+½, v+½) maps to a point of the
 * photo, read with bicubic interpolation (Keys, a = −½). Beyond the photo's edges (a face that
 * fills its photo, at the default margin) the edge pixels fade into the mean colour of the photo
 * region over 8 % of the crop's side: mirroring would add ghost faces (eyes reflected at the
 * border), repeating the edge would add long streaks; a flat fill adds neither. When the crop shrinks the
 * face by more than 1.5×, the photo region is first averaged over n×n blocks (exact area
 * reduction) so that the bicubic step never skips pixels.
 */
import type { RgbImage } from '../data/image-io.js';

export type Point = [number, number];

/** The five landmarks the alignment uses, in photo pixels (subject's right/left). */
export interface FivePoints {
  rightEye: Point;
  leftEye: Point;
  nose: Point;
  rightMouth: Point;
  leftMouth: Point;
}

/** Output pixel (x, y) (continuous) → photo point: p = origin + x·ax + y·ay. */
export interface Alignment {
  origin: Point;
  ax: Point;
  ay: Point;
  /** Output side in pixels. */
  size: number;
  /** Photo pixels per output pixel. */
  scale: number;
  /** Roll of the eye line in the photo, degrees (positive: clockwise on screen). */
  rollDeg: number;
}

export const DEFAULT_MARGIN = 0.5;

export function alignmentFor(p: FivePoints, size: number, margin = DEFAULT_MARGIN): Alignment {
  if (!(size >= 8)) throw new Error(`crop size ${size} is too small (at least 8 pixels)`);
  if (!(margin >= 0 && margin <= 2)) throw new Error(`margin ${margin} is outside [0, 2]`);
  const e: Point = [p.leftEye[0] - p.rightEye[0], p.leftEye[1] - p.rightEye[1]];
  const eyeMid: Point = [(p.leftEye[0] + p.rightEye[0]) / 2, (p.leftEye[1] + p.rightEye[1]) / 2];
  const mouthMid: Point = [(p.leftMouth[0] + p.rightMouth[0]) / 2, (p.leftMouth[1] + p.rightMouth[1]) / 2];
  const m: Point = [mouthMid[0] - eyeMid[0], mouthMid[1] - eyeMid[1]];
  const eLen = Math.hypot(e[0], e[1]);
  const F = Math.max(2 * eLen, 1.8 * Math.hypot(m[0], m[1]));
  if (!(F > 0)) throw new Error('degenerate landmarks (the eyes and the mouth coincide)');
  // the subject's right eye is on the image's left in an upright face: e points to the right
  const theta = eLen > 0 ? Math.atan2(e[1], e[0]) : Math.atan2(m[1], m[0]) - Math.PI / 2;
  const side = F * (1 + 2 * margin);
  const scale = side / size;
  const ax: Point = [Math.cos(theta) * scale, Math.sin(theta) * scale];
  const ay: Point = [-Math.sin(theta) * scale, Math.cos(theta) * scale];
  const c: Point = [eyeMid[0] + 0.1 * m[0], eyeMid[1] + 0.1 * m[1]];
  const h = size / 2;
  return {
    origin: [c[0] - h * ax[0] - h * ay[0], c[1] - h * ax[1] - h * ay[1]],
    ax,
    ay,
    size,
    scale,
    rollDeg: (theta * 180) / Math.PI,
  };
}

/** Where a photo point lands in the aligned crop (output pixels). */
export function toCrop(a: Alignment, q: Point): Point {
  const dx = q[0] - a.origin[0];
  const dy = q[1] - a.origin[1];
  const s2 = a.scale * a.scale;
  return [(dx * a.ax[0] + dy * a.ax[1]) / s2, (dx * a.ay[0] + dy * a.ay[1]) / s2];
}

/** Fraction of the crop that lies outside the photo (filled as described above). */
export function outsideFraction(a: Alignment, width: number, height: number): number {
  const n = 16;
  let out = 0;
  for (let v = 0; v < n; v++) {
    for (let u = 0; u < n; u++) {
      const x = ((u + 0.5) / n) * a.size;
      const y = ((v + 0.5) / n) * a.size;
      const px = a.origin[0] + x * a.ax[0] + y * a.ay[0];
      const py = a.origin[1] + x * a.ax[1] + y * a.ay[1];
      if (px < 0 || py < 0 || px > width || py > height) out++;
    }
  }
  return out / (n * n);
}

function keys(t: number): [number, number, number, number] {
  // weights of the samples at −1, 0, 1, 2 for a fractional offset t ∈ [0, 1), a = −½
  const a = -0.5;
  const w = (x: number) => {
    x = Math.abs(x);
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
  };
  return [w(t + 1), w(t), w(1 - t), w(2 - t)];
}

/** The photo region (with a 3-pixel border for the kernel) that the crop reads, clipped. */
function regionOf(a: Alignment, width: number, height: number): { x0: number; y0: number; x1: number; y1: number } {
  const s = a.size;
  const corners: Point[] = [
    [0, 0],
    [s, 0],
    [0, s],
    [s, s],
  ].map(([x, y]) => [a.origin[0] + x! * a.ax[0] + y! * a.ay[0], a.origin[1] + x! * a.ax[1] + y! * a.ay[1]]);
  const xs = corners.map((c) => c[0]);
  const ys = corners.map((c) => c[1]);
  const clip = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  return {
    x0: clip(Math.floor(Math.min(...xs)) - 3, width),
    y0: clip(Math.floor(Math.min(...ys)) - 3, height),
    x1: clip(Math.ceil(Math.max(...xs)) + 3, width),
    y1: clip(Math.ceil(Math.max(...ys)) + 3, height),
  };
}

/** Averages n×n blocks of a region of the photo: the returned image's pixel j covers photo [x0 + n·j, x0 + n·j + n). */
export function blockAverage(
  img: RgbImage,
  r: { x0: number; y0: number; x1: number; y1: number },
  n: number,
): RgbImage {
  const w = Math.max(1, Math.floor((r.x1 - r.x0) / n));
  const h = Math.max(1, Math.floor((r.y1 - r.y0) / n));
  const out = new Uint8Array(w * h * 3);
  const W = img.width;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        k = 0;
      for (let dy = 0; dy < n; dy++) {
        const sy = Math.min(img.height - 1, r.y0 + y * n + dy);
        for (let dx = 0; dx < n; dx++) {
          const sx = Math.min(W - 1, r.x0 + x * n + dx);
          const o = (sy * W + sx) * 3;
          s0 += img.data[o]!;
          s1 += img.data[o + 1]!;
          s2 += img.data[o + 2]!;
          k++;
        }
      }
      const o = (y * w + x) * 3;
      out[o] = Math.round(s0 / k);
      out[o + 1] = Math.round(s1 / k);
      out[o + 2] = Math.round(s2 / k);
    }
  }
  return { width: w, height: h, data: out };
}

/** Mean colour of a region of an image (the whole image when the region is empty). */
function meanColour(img: RgbImage, reg: { x0: number; y0: number; x1: number; y1: number }): [number, number, number] {
  const [x0, y0, x1, y1] =
    reg.x1 > reg.x0 && reg.y1 > reg.y0 ? [reg.x0, reg.y0, reg.x1, reg.y1] : [0, 0, img.width, img.height];
  let r = 0,
    g = 0,
    b = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const o = (y * img.width + x) * 3;
      r += img.data[o]!;
      g += img.data[o + 1]!;
      b += img.data[o + 2]!;
    }
  }
  const n = (x1 - x0) * (y1 - y0);
  return [r / n, g / n, b / n];
}

/** The aligned crop, size×size RGB. */
export function warpAligned(img: RgbImage, a: Alignment): RgbImage {
  let src = img;
  let origin = a.origin;
  let ax = a.ax;
  let ay = a.ay;
  const n = a.scale > 1.5 ? Math.floor(a.scale) : 1;
  if (n > 1) {
    const r = regionOf(a, img.width, img.height);
    if (r.x1 > r.x0 && r.y1 > r.y0) {
      src = blockAverage(img, r, n);
      origin = [(a.origin[0] - r.x0) / n, (a.origin[1] - r.y0) / n];
      ax = [a.ax[0] / n, a.ax[1] / n];
      ay = [a.ay[0] / n, a.ay[1] / n];
    }
  }
  const S = a.size;
  const W = src.width;
  const H = src.height;
  const out = new Uint8Array(S * S * 3);
  const d = src.data;
  const ramp = 0.08 * S * Math.hypot(ax[0], ax[1]);
  const mean = meanColour(src, regionOf({ ...a, origin, ax, ay }, W, H));
  for (let v = 0; v < S; v++) {
    for (let u = 0; u < S; u++) {
      const x = u + 0.5;
      const y = v + 0.5;
      // continuous photo coordinates → sample grid (pixel centres at i + ½)
      const px = origin[0] + x * ax[0] + y * ay[0] - 0.5;
      const py = origin[1] + x * ax[1] + y * ay[1] - 0.5;
      const ix = Math.floor(px);
      const iy = Math.floor(py);
      const wx = keys(px - ix);
      const wy = keys(py - iy);
      let r = 0,
        g = 0,
        b = 0;
      for (let j = 0; j < 4; j++) {
        const sy = Math.min(H - 1, Math.max(0, iy - 1 + j));
        let rr = 0,
          gg = 0,
          bb = 0;
        for (let i = 0; i < 4; i++) {
          const sx = Math.min(W - 1, Math.max(0, ix - 1 + i));
          const o = (sy * W + sx) * 3;
          rr += wx[i]! * d[o]!;
          gg += wx[i]! * d[o + 1]!;
          bb += wx[i]! * d[o + 2]!;
        }
        r += wy[j]! * rr;
        g += wy[j]! * gg;
        b += wy[j]! * bb;
      }
      // outside the photo: fade to the mean colour (distance in photo pixels, from the edge)
      const dx = Math.max(0, -(px + 0.5), px + 0.5 - W);
      const dy = Math.max(0, -(py + 0.5), py + 0.5 - H);
      if (dx > 0 || dy > 0) {
        const w = Math.min(1, Math.hypot(dx, dy) / ramp);
        r += (mean[0] - r) * w;
        g += (mean[1] - g) * w;
        b += (mean[2] - b) * w;
      }
      const o = (v * S + u) * 3;
      out[o] = Math.min(255, Math.max(0, Math.round(r)));
      out[o + 1] = Math.min(255, Math.max(0, Math.round(g)));
      out[o + 2] = Math.min(255, Math.max(0, Math.round(b)));
    }
  }
  return { width: S, height: S, data: out };
}
