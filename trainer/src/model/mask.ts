/**
 * Block-wise mask generator (BEiT style) on view 1 only, method.md §1.5.
 * Output: Uint8Array of G·G cells, row-major, 1 = masked, with exactly `count` ones.
 */
import type { Rng } from '../util/rng.js';

export interface BlockMaskOptions {
  grid: number;
  /** Number of masked cells, round(ratio · N) (Our decisions). */
  count: number;
  /** Minimum block area: 16 at 14×14, scaled with N, at least 4 (Our decisions). */
  minPatches?: number;
  /** Aspect ratio range, log-uniform in [minAspect, 1/minAspect] (0.3 in §1.5). */
  minAspect?: number;
}

/** Python's round(): half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function defaultMinPatches(tokens: number): number {
  return Math.max(4, Math.round((16 * tokens) / 196));
}

/** One BEiT `_mask` call: up to 10 attempts to mark a new block (§1.5 step 1). Returns cells marked. */
function markOneBlock(
  mask: Uint8Array,
  grid: number,
  budget: number,
  minPatches: number,
  logAspect: [number, number],
  rng: Rng,
): number {
  let delta = 0;
  for (let attempt = 0; attempt < 10; attempt++) {
    const area = rng.uniform(minPatches, budget); // area ~ U(16, budget); also valid when budget < 16
    const aspect = Math.exp(rng.uniform(logAspect[0], logAspect[1]));
    const h = roundHalfEven(Math.sqrt(area * aspect));
    const w = roundHalfEven(Math.sqrt(area / aspect));
    if (w < grid && h < grid) {
      // strict: h < G and w < G
      const top = rng.int(0, grid - h);
      const left = rng.int(0, grid - w);
      let already = 0;
      for (let i = top; i < top + h; i++) for (let j = left; j < left + w; j++) already += mask[i * grid + j]!;
      const fresh = h * w - already;
      if (fresh > 0 && fresh <= budget) {
        for (let i = top; i < top + h; i++) {
          for (let j = left; j < left + w; j++) {
            if (mask[i * grid + j] === 0) {
              mask[i * grid + j] = 1;
              delta++;
            }
          }
        }
      }
      if (delta > 0) break;
    }
  }
  return delta;
}

export function blockMask(opts: BlockMaskOptions, rng: Rng): Uint8Array {
  const { grid, count } = opts;
  const N = grid * grid;
  if (!Number.isInteger(count) || count < 0 || count > N)
    throw new Error(`block mask: count ${count} outside [0, ${N}]`);
  const minPatches = opts.minPatches ?? defaultMinPatches(N);
  const a = opts.minAspect ?? 0.3;
  const logAspect: [number, number] = [Math.log(a), Math.log(1 / a)];
  const mask = new Uint8Array(N);
  let masked = 0;
  while (masked < count) {
    const delta = markOneBlock(mask, grid, count - masked, minPatches, logAspect, rng);
    if (delta === 0) break;
    masked += delta;
  }
  // §1.5 step 2: top up with random unmasked cells until exactly `count`.
  if (masked < count) {
    const free: number[] = [];
    for (let i = 0; i < N; i++) if (mask[i] === 0) free.push(i);
    rng.shuffle(free);
    for (let i = 0; i < count - masked; i++) mask[free[i]!] = 1;
  }
  return mask;
}

/** Row-major indices of visible (0) and masked (1) cells, ascending. */
export function splitMask(mask: Uint8Array): { visible: number[]; masked: number[] } {
  const visible: number[] = [];
  const masked: number[] = [];
  mask.forEach((m, i) => (m ? masked : visible).push(i));
  return { visible, masked };
}
