/**
 * "Labels needed": a learning curve of quick linear probes as the labels grow, and what it says.
 * No TensorFlow.js here — plain arithmetic on feature vectors (label-curve.ts extracts them).
 *
 * Probe: L2-regularised logistic regression on standardised features (the training subset's mean
 * and deviation), softmax over classes or one sigmoid per attribute, full-batch gradient descent
 * from zero weights (deterministic: no random draw), a fixed number of steps. Metric: top-1 for
 * classes, mean accuracy over attributes.
 *
 * Curve: training subsets of 8, 16, 32, … labels and all of them (8, 11, 16 for 16 labels: three
 * sizes from 16 labels on, as the hint promises), each drawn three times from the
 * seed (classes kept in proportion: a round-robin over per-class shuffles), evaluated on the
 * validation and test faces, averaged. Fit: value(n) = a − b·n^(−c), the usual power law of
 * learning curves, by least squares — c on a grid over [0.05, 2], a and b in closed form for each c
 * (b ≥ 0). The hint compares the fit at the current count N and at 2N.
 */
import { Rng } from '../util/rng.js';

export interface CurvePoint {
  labels: number;
  value: number;
}

export interface CurveFit {
  a: number;
  b: number;
  c: number;
  /** The fit's value at n. */
  at: (n: number) => number;
}

/** Least-squares fit of a − b·n^(−c); null with fewer than 3 points. */
export function fitCurve(points: readonly CurvePoint[]): CurveFit | null {
  if (points.length < 3) return null;
  let best: { a: number; b: number; c: number; sse: number } | null = null;
  for (let c = 0.05; c <= 2.0001; c += 0.01) {
    // value = a + β·x with x = n^(−c), β = −b
    const xs = points.map((p) => Math.pow(p.labels, -c));
    const ys = points.map((p) => p.value);
    const n = xs.length;
    const mx = xs.reduce((s, x) => s + x, 0) / n;
    const my = ys.reduce((s, y) => s + y, 0) / n;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < n; i++) {
      sxy += (xs[i]! - mx) * (ys[i]! - my);
      sxx += (xs[i]! - mx) ** 2;
    }
    let beta = sxx > 0 ? sxy / sxx : 0;
    if (beta > 0) beta = 0; // b ≥ 0: the value does not fall with more labels
    const a = my - beta * mx;
    let sse = 0;
    for (let i = 0; i < n; i++) sse += (ys[i]! - (a + beta * xs[i]!)) ** 2;
    if (!best || sse < best.sse - 1e-15) best = { a, b: beta === 0 ? 0 : -beta, c, sse };
  }
  const { a, b, c } = best!;
  return { a, b, c, at: (n) => a - b * Math.pow(n, -c) };
}

const f2 = (v: number) => v.toFixed(2);

/** What the curve says, in words; never more than the fit supports. */
export function curveHint(points: readonly CurvePoint[], metric: string): string {
  const N = points.length ? points[points.length - 1]!.labels : 0;
  const fit = fitCurve(points);
  if (!fit)
    return `${N} training label${N === 1 ? '' : 's'} so far: a curve needs at least three sizes (16 or more training labels, with validation or test faces to measure on). Label more, then estimate again.`;
  const now = fit.at(N);
  const gain = fit.at(2 * N) - now;
  const prev = points[points.length - 2]!;
  const last = points[points.length - 1]!;
  const seen = `${metric} went from ${f2(prev.value)} to ${f2(last.value)} between ${prev.labels} and ${last.labels} training labels`;
  const rough = `(a power-law fit of ${points.length} points: a rough guide, not a promise)`;
  if (gain < 0.01)
    return `The curve has flattened: ${seen}, and doubling the labels to ${2 * N} is expected to add less than 0.01 ${rough}. More labels of this kind add little: label the faces the model gets wrong or is unsure of, add other kinds of faces, or pre-train longer.`;
  return `Still rising: ${seen}. Doubling the training labels to ${2 * N} (about ${N} more) is expected to add about ${f2(gain)} ${rough}.`;
}

/** Logistic-regression probe: trains on (X, y) and returns the metric on (Xt, yt). */
export function probeAccuracy(
  task: 'far' | 'fer',
  D: number,
  K: number,
  train: { x: Float32Array[]; y: number[][] },
  test: { x: Float32Array[]; y: number[][] },
  o: { steps?: number; lr?: number; l2?: number } = {},
): number {
  const steps = o.steps ?? 300;
  const lr = o.lr ?? 0.5;
  const l2 = o.l2 ?? 1e-3;
  const n = train.x.length;
  // standardise with the training subset's statistics
  const mean = new Float64Array(D);
  const sd = new Float64Array(D);
  for (const x of train.x) for (let d = 0; d < D; d++) mean[d]! += x[d]! / n;
  for (const x of train.x) for (let d = 0; d < D; d++) sd[d]! += (x[d]! - mean[d]!) ** 2 / n;
  for (let d = 0; d < D; d++) sd[d] = Math.sqrt(sd[d]!) || 1;
  const norm = (x: Float32Array) => Float64Array.from(x, (v, d) => (v - mean[d]!) / sd[d]!);
  const X = train.x.map(norm);
  const W = new Float64Array(K * D);
  const bias = new Float64Array(K);
  const G = new Float64Array(K * D);
  const gb = new Float64Array(K);
  const z = new Float64Array(K);
  for (let s = 0; s < steps; s++) {
    G.fill(0);
    gb.fill(0);
    for (let i = 0; i < n; i++) {
      const x = X[i]!;
      for (let k = 0; k < K; k++) {
        let v = bias[k]!;
        for (let d = 0; d < D; d++) v += W[k * D + d]! * x[d]!;
        z[k] = v;
      }
      if (task === 'fer') {
        const m = Math.max(...z);
        let sum = 0;
        for (let k = 0; k < K; k++) sum += z[k] = Math.exp(z[k]! - m);
        for (let k = 0; k < K; k++) z[k] = z[k]! / sum - (train.y[i]![0] === k ? 1 : 0);
      } else for (let k = 0; k < K; k++) z[k] = 1 / (1 + Math.exp(-z[k]!)) - train.y[i]![k]!;
      for (let k = 0; k < K; k++) {
        const e = z[k]! / n;
        gb[k]! += e;
        for (let d = 0; d < D; d++) G[k * D + d]! += e * x[d]!;
      }
    }
    for (let j = 0; j < K * D; j++) W[j]! -= lr * (G[j]! + l2 * W[j]!);
    for (let k = 0; k < K; k++) bias[k]! -= lr * gb[k]!;
  }
  let correct = 0;
  let total = 0;
  for (let i = 0; i < test.x.length; i++) {
    const x = norm(test.x[i]!);
    for (let k = 0; k < K; k++) {
      let v = bias[k]!;
      for (let d = 0; d < D; d++) v += W[k * D + d]! * x[d]!;
      z[k] = v;
    }
    if (task === 'fer') {
      let best = 0;
      for (let k = 1; k < K; k++) if (z[k]! > z[best]!) best = k;
      correct += best === test.y[i]![0] ? 1 : 0;
      total++;
    } else
      for (let k = 0; k < K; k++) {
        correct += (z[k]! > 0 ? 1 : 0) === test.y[i]![k] ? 1 : 0;
        total++;
      }
  }
  return total ? correct / total : 0;
}

/** Training-subset sizes: 8, 16, 32, … below N, then N; three (8, 11, 16) for 16 labels. */
export function curveSizes(N: number): number[] {
  const out: number[] = [];
  for (let n = 8; n < N; n *= 2) out.push(n);
  if (N > 0) out.push(N);
  // 16 labels give only 8 and 16: their geometric middle is the third size a fit needs
  if (N >= 16 && out.length < 3) out.splice(1, 0, Math.round(Math.sqrt(out[0]! * N)));
  return out;
}

/** The training order of a seeded draw: classes round-robin (each class shuffled), attributes shuffled. */
export function drawOrder(task: 'far' | 'fer', y: readonly number[][], seed: number): number[] {
  const rng = new Rng(seed).fork('label-curve');
  const shuffle = (a: number[]) => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };
  const idx = y.map((_, i) => i);
  if (task === 'far') return shuffle(idx);
  const byClass = new Map<number, number[]>();
  for (const i of idx) byClass.set(y[i]![0]!, [...(byClass.get(y[i]![0]!) ?? []), i]);
  const lists = [...byClass.keys()].sort((a, b) => a - b).map((k) => shuffle(byClass.get(k)!));
  const out: number[] = [];
  for (let r = 0; out.length < idx.length; r++) for (const l of lists) if (r < l.length) out.push(l[r]!);
  return out;
}

/** The curve: each size drawn `draws` times from the seed and averaged. */
export function learningCurve(
  task: 'far' | 'fer',
  D: number,
  K: number,
  train: { x: Float32Array[]; y: number[][] },
  test: { x: Float32Array[]; y: number[][] },
  seed: number,
  draws = 3,
  onProbe?: (done: number, total: number) => void,
): CurvePoint[] {
  if (test.x.length === 0 || train.x.length === 0) return [];
  const sizes = curveSizes(train.x.length);
  const reps = (size: number) => (size === train.x.length ? 1 : draws);
  const total = sizes.reduce((t, s) => t + reps(s), 0);
  let done = 0;
  return sizes.map((size) => {
    let sum = 0;
    for (let r = 0; r < reps(size); r++) {
      const order = drawOrder(task, train.y, seed + r).slice(0, size);
      sum += probeAccuracy(task, D, K, { x: order.map((i) => train.x[i]!), y: order.map((i) => train.y[i]!) }, test);
      onProbe?.(++done, total);
    }
    return { labels: size, value: sum / reps(size) };
  });
}
