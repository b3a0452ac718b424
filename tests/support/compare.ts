// Numeric helpers shared by the kernel tests.
import type { Rng } from '../../trainer/src/util/rng.js';

export function randArray(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** max |a − b| / max |b| (the relative error used against the cpu backend, ≤ 1e-4). */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let maxAbs = 0;
  let maxRef = 1e-6;
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
    maxRef = Math.max(maxRef, Math.abs(b[i]!));
  }
  return maxAbs / maxRef;
}
