/**
 * Difference hash (dHash) of a face crop for near-duplicate detection: grey levels averaged onto a
 * 9×8 grid, one bit per horizontal neighbour pair (left brighter than right), 64 bits as 16 hex
 * digits. Burst photos and video frames of one face differ in a few bits; different faces in ~32.
 */
import type { RgbImage } from '../data/image-io.js';

export function dhash(img: RgbImage): string {
  const W = 9,
    H = 8;
  const grid = new Float64Array(W * H);
  const cnt = new Float64Array(W * H);
  for (let y = 0; y < img.height; y++) {
    const gy = Math.min(H - 1, Math.floor((y * H) / img.height));
    for (let x = 0; x < img.width; x++) {
      const gx = Math.min(W - 1, Math.floor((x * W) / img.width));
      const o = (y * img.width + x) * 3;
      const g = gy * W + gx;
      grid[g] = grid[g]! + 0.299 * img.data[o]! + 0.587 * img.data[o + 1]! + 0.114 * img.data[o + 2]!;
      cnt[g] = cnt[g]! + 1;
    }
  }
  let hex = '';
  for (let y = 0; y < H; y++) {
    let byte = 0;
    for (let x = 0; x < 8; x++) {
      const a = grid[y * W + x]! / cnt[y * W + x]!;
      const b = grid[y * W + x + 1]! / cnt[y * W + x + 1]!;
      byte = (byte << 1) | (a > b ? 1 : 0);
    }
    hex += byte.toString(16).padStart(2, '0');
  }
  return hex;
}

export function hamming(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < a.length; i += 2) {
    let x = parseInt(a.slice(i, i + 2), 16) ^ parseInt(b.slice(i, i + 2), 16);
    while (x) {
      d += x & 1;
      x >>= 1;
    }
  }
  return d;
}
