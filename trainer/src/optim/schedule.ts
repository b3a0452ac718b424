/**
 * Per-iteration schedules of method.md §4 and §2.1, with t = epoch + it/iters_per_epoch.
 */

/** Warm-up then half-cosine to minLr (§4): lr·t/W for t < W, else minLr + (lr − minLr)·½(1 + cos(π(t − W)/(E − W))). */
export function learningRateAt(t: number, lr: number, warmupEpochs: number, epochs: number, minLr: number): number {
  if (t < warmupEpochs) return (lr * t) / warmupEpochs;
  if (epochs <= warmupEpochs) return lr;
  const progress = Math.min(1, (t - warmupEpochs) / (epochs - warmupEpochs));
  return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** EMA momentum (§2.1): cosine m(t) = 1 − ½(1 + cos(π·t/E))·(1 − m₀), rising from m₀ to 1; or constant. */
export function momentumAt(t: number, base: number, epochs: number, schedule: 'cosine' | 'const'): number {
  if (schedule === 'const') return base;
  const progress = Math.min(1, t / epochs);
  return 1 - 0.5 * (1 + Math.cos(Math.PI * progress)) * (1 - base);
}

/** lr = blr × batch / 256 (§4). */
export function absoluteLr(blr: number, effectiveBatch: number): number {
  return (blr * effectiveBatch) / 256;
}
