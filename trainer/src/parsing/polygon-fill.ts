/**
 * Filling a polygon into a label map: every pixel whose centre (x + ½, y + ½) lies inside the
 * polygon (even-odd rule) takes the class, by scanlines. Crisp by construction: no antialiasing,
 * so every pixel holds exactly one class index.
 */
import type { LabelMap } from './label-png.js';

export type Vertex = readonly [number, number];

export function fillPolygon(m: LabelMap, poly: readonly Vertex[], cls: number): void {
  const n = poly.length;
  if (n < 3) return;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const [, y] of poly) {
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  const first = Math.max(0, Math.ceil(y0 - 0.5));
  const last = Math.min(m.height - 1, Math.floor(y1 - 0.5));
  const xs: number[] = [];
  for (let row = first; row <= last; row++) {
    const yc = row + 0.5;
    xs.length = 0;
    for (let i = 0; i < n; i++) {
      const [ax, ay] = poly[i]!;
      const [bx, by] = poly[(i + 1) % n]!;
      // the edge crosses the scanline (half-open in y, so a shared vertex counts once)
      if (ay <= yc !== by <= yc) xs.push(ax + ((yc - ay) / (by - ay)) * (bx - ax));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = Math.max(0, Math.ceil(xs[k]! - 0.5));
      const to = Math.min(m.width - 1, Math.floor(xs[k + 1]! - 0.5));
      for (let x = from; x <= to; x++) m.data[row * m.width + x] = cls;
    }
  }
}
