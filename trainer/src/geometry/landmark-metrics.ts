/**
 * The face-alignment metrics of the literature: the normalised mean error of a face (NME), and over
 * a test set the mean NME, the failure rate and the area under the cumulative error distribution
 * (CED) up to a threshold. The normaliser is the scheme's (landmark-schemes.ts): the distance
 * between the ground truth's outer eye corners for 300W and WFLW, the face size sqrt(w·h) of the
 * annotated box for AFLW-19 — as HRNet-Facial-Landmark-Detection's lib/core/evaluation.py does.
 */
import type { Box } from './landmark-sample.js';
import { type LandmarkScheme, SCHEMES } from './landmark-schemes.js';

/** The threshold of the failure rate and of the AUC reported by `summarise`. */
export const NME_THRESHOLD = 0.1;

function checkPoints(points: ArrayLike<number>, scheme: LandmarkScheme, what: string): void {
  const k = SCHEMES[scheme].points;
  if (points.length !== 2 * k)
    throw new RangeError(`${what}: ${scheme} has ${k} points (${2 * k} numbers), got ${points.length} numbers`);
  for (let i = 0; i < points.length; i++)
    if (!Number.isFinite(points[i]!)) throw new RangeError(`${what}: point ${i >> 1} is not finite`);
}

/** What the errors of a face are divided by: the inter-ocular distance of `truth`, or the box's sqrt(w·h). */
export function normaliserOf(truth: ArrayLike<number>, scheme: LandmarkScheme, box?: Box | null): number {
  const info = SCHEMES[scheme];
  let d: number;
  if (info.normaliser === 'inter-ocular') {
    const [a, b] = info.eyeCorners;
    d = Math.hypot(truth[2 * a]! - truth[2 * b]!, truth[2 * a + 1]! - truth[2 * b + 1]!);
    if (!(d > 0))
      throw new RangeError(`${scheme}: the outer eye corners (points ${a} and ${b}) coincide; the NME is undefined`);
  } else {
    if (!box) throw new RangeError(`${scheme}: the NME is normalised by the face box, and no box was given`);
    d = Math.sqrt(box[2] * box[3]);
    if (!(d > 0 && Number.isFinite(d)))
      throw new RangeError(`${scheme}: the face box ${box[2]}×${box[3]} has no size; the NME is undefined`);
  }
  return d;
}

/** The NME of one face: the mean over points of the Euclidean error, divided by the normaliser. */
export function nme(
  pred: ArrayLike<number>,
  truth: ArrayLike<number>,
  scheme: LandmarkScheme,
  box?: Box | null,
): number {
  checkPoints(pred, scheme, 'prediction');
  checkPoints(truth, scheme, 'ground truth');
  const d = normaliserOf(truth, scheme, box);
  const k = SCHEMES[scheme].points;
  let sum = 0;
  for (let i = 0; i < k; i++) sum += Math.hypot(pred[2 * i]! - truth[2 * i]!, pred[2 * i + 1]! - truth[2 * i + 1]!);
  return sum / k / d;
}

function checkNmes(nmes: readonly number[]): void {
  if (nmes.length === 0) throw new RangeError('no NMEs to summarise');
  nmes.forEach((e, i) => {
    if (!(Number.isFinite(e) && e >= 0)) throw new RangeError(`NME ${i} is ${e}: NMEs are finite and not negative`);
  });
}

/** The fraction of faces whose NME is above `threshold`. */
export function failureRate(nmes: readonly number[], threshold = NME_THRESHOLD): number {
  checkNmes(nmes);
  return nmes.filter((e) => e > threshold).length / nmes.length;
}

/**
 * The area under the CED from 0 to `threshold`, divided by `threshold` (1: every error 0). Exact:
 * the CED is a step function rising by 1/N at each error, so its integral up to T is
 * (1/N)·Σ max(0, T − eᵢ) — the area each face adds from its own error on. No thresholds are
 * sampled: a curve sampled every T/n is off by up to 1/n.
 */
export function aucAt(nmes: readonly number[], threshold = NME_THRESHOLD): number {
  checkNmes(nmes);
  if (!(threshold > 0)) throw new RangeError(`the AUC threshold must be positive, got ${threshold}`);
  let area = 0; // in units of the threshold: an error of 0 adds exactly 1
  for (const e of nmes) area += Math.max(0, 1 - e / threshold);
  return area / nmes.length;
}

/** The CED at `points` thresholds evenly spaced from 0 to `threshold`: [t, fraction of NMEs ≤ t]. */
export function cedCurve(nmes: readonly number[], threshold = NME_THRESHOLD, points = 101): [number, number][] {
  checkNmes(nmes);
  if (!(Number.isInteger(points) && points >= 2)) throw new RangeError(`a CED needs 2 points or more, got ${points}`);
  const sorted = Float64Array.from(nmes).sort();
  const out: [number, number][] = [];
  let below = 0;
  for (let j = 0; j < points; j++) {
    const t = (j * threshold) / (points - 1);
    while (below < sorted.length && sorted[below]! <= t) below++;
    out.push([t, below / sorted.length]);
  }
  return out;
}

export interface NmeSummary {
  /** How many faces. */
  count: number;
  /** The mean NME. */
  nme: number;
  /** The fraction of faces with NME > 0.10. */
  failureRate10: number;
  /** The area under the CED from 0 to 0.10, normalised to [0, 1]. */
  auc10: number;
  /** The CED at 101 thresholds 0, 0.001 … 0.10: [threshold, fraction of faces at or below it]. */
  ced: [number, number][];
}

/** The test-set figures of the literature from the faces' NMEs. */
export function summarise(nmes: readonly number[]): NmeSummary {
  checkNmes(nmes);
  return {
    count: nmes.length,
    nme: nmes.reduce((a, b) => a + b, 0) / nmes.length,
    failureRate10: failureRate(nmes, NME_THRESHOLD),
    auc10: aucAt(nmes, NME_THRESHOLD),
    ced: cedCurve(nmes, NME_THRESHOLD, 101),
  };
}
