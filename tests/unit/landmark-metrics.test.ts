// NME and its test-set summary (mean, failure rate, AUC of the CED), against values worked by hand.
import { describe, expect, it } from 'vitest';
import {
  aucAt,
  cedCurve,
  failureRate,
  nme,
  normaliserOf,
  summarise,
} from '../../trainer/src/geometry/landmark-metrics.js';
import { type LandmarkScheme, SCHEMES } from '../../trainer/src/geometry/landmark-schemes.js';

/** A face of `scheme` with every point distinct, and the outer eye corners 80 px apart (on y = 50). */
function face(scheme: LandmarkScheme): Float32Array {
  const k = SCHEMES[scheme].points;
  const pts = new Float32Array(2 * k);
  for (let i = 0; i < k; i++) {
    pts[2 * i] = 20 + (i % 10) * 7;
    pts[2 * i + 1] = 100 + Math.floor(i / 10) * 9;
  }
  const info = SCHEMES[scheme];
  if (info.normaliser === 'inter-ocular') {
    const [a, b] = info.eyeCorners;
    pts.set([60, 50], 2 * a);
    pts.set([140, 50], 2 * b);
  }
  return pts;
}

const shifted = (pts: Float32Array, dx: number, dy: number) => pts.map((v, i) => v + (i % 2 ? dy : dx));

describe('nme', () => {
  it('300W: every point 5 px off over an inter-ocular distance of 80 → 5/80', () => {
    const truth = face('300w-68');
    expect(normaliserOf(truth, '300w-68')).toBe(80);
    expect(nme(shifted(truth, 3, 4), truth, '300w-68')).toBeCloseTo(5 / 80, 12);
  });

  it('WFLW: every point 10 px off over 80 → 0.125; one point 98 px off → 1/80', () => {
    const truth = face('wflw-98');
    expect(nme(shifted(truth, 6, 8), truth, 'wflw-98')).toBeCloseTo(0.125, 12);
    const one = truth.slice();
    one[2 * 5] = one[2 * 5]! + 98;
    expect(nme(one, truth, 'wflw-98')).toBeCloseTo(1 / 80, 12);
  });

  it("normalises by the ground truth's eye corners, not the prediction's", () => {
    const truth = face('300w-68');
    const pred = truth.map((v) => v * 2); // twice the size: its own eye corners 160 px apart
    let sum = 0;
    for (let i = 0; i < 68; i++) sum += Math.hypot(truth[2 * i]!, truth[2 * i + 1]!);
    expect(nme(pred, truth, '300w-68')).toBeCloseTo(sum / 68 / 80, 10);
  });

  it('AFLW-19: normalised by sqrt(w·h) of the box (50 × 200 → 100)', () => {
    const truth = face('aflw-19');
    expect(normaliserOf(truth, 'aflw-19', [10, 20, 50, 200])).toBe(100);
    expect(nme(shifted(truth, 3, 4), truth, 'aflw-19', [10, 20, 50, 200])).toBeCloseTo(0.05, 12);
    // HRNet's square box of side box_size
    expect(nme(shifted(truth, 3, 4), truth, 'aflw-19', [0, 0, 25, 25])).toBeCloseTo(0.2, 12);
  });

  it('a perfect prediction scores 0', () => {
    const truth = face('wflw-98');
    expect(nme(truth, truth, 'wflw-98')).toBe(0);
  });

  it('refuses what has no NME', () => {
    const truth = face('300w-68');
    expect(() => nme(truth, truth, 'aflw-19', [0, 0, 10, 10])).toThrow(/aflw-19 has 19 points \(38 numbers\), got 136/);
    expect(() => nme(face('aflw-19'), face('aflw-19'), 'aflw-19')).toThrow(/no box was given/);
    expect(() => nme(face('aflw-19'), face('aflw-19'), 'aflw-19', [0, 0, 0, 10])).toThrow(/has no size/);
    const blind = truth.slice();
    blind.set([140, 50], 2 * 36); // both outer corners at one place
    expect(() => nme(truth, blind, '300w-68')).toThrow(/outer eye corners \(points 36 and 45\) coincide/);
    const nan = truth.slice();
    nan[7] = Number.NaN;
    expect(() => nme(nan, truth, '300w-68')).toThrow(/prediction: point 3 is not finite/);
  });
});

describe('summarise', () => {
  it('all errors 0 → NME 0, no failures, AUC 1, the CED at 1 everywhere', () => {
    const s = summarise([0, 0, 0]);
    expect(s).toMatchObject({ count: 3, nme: 0, failureRate10: 0, auc10: 1 });
    expect(s.ced).toHaveLength(101);
    expect(s.ced.every(([, f]) => f === 1)).toBe(true);
  });

  it('all errors 0.05 → AUC 0.5; the CED steps from 0 to 1 at 0.05', () => {
    const s = summarise([0.05, 0.05]);
    expect(s.auc10).toBeCloseTo(0.5, 12);
    expect(s.failureRate10).toBe(0);
    expect(s.ced[49]![1]).toBe(0);
    expect(s.ced[50]).toEqual([0.05, 1]);
    expect(s.ced[100]![0]).toBeCloseTo(0.1, 15);
  });

  it('0.02, 0.05, 0.08, 0.12 → by hand: mean 0.0675, failures 1/4, AUC 0.375', () => {
    // CED: 1/4 on [0.02, 0.05), 2/4 on [0.05, 0.08), 3/4 on [0.08, 0.10]
    // area = 0.25·0.03 + 0.5·0.03 + 0.75·0.02 = 0.0375; / 0.10 = 0.375
    const s = summarise([0.12, 0.05, 0.02, 0.08]);
    expect(s.nme).toBeCloseTo(0.0675, 12);
    expect(s.failureRate10).toBe(0.25);
    expect(s.auc10).toBeCloseTo(0.375, 12);
    expect(s.ced[10]![1]).toBe(0); // 0.01
    expect(s.ced[30]![1]).toBe(0.25); // 0.03
    expect(s.ced[60]![1]).toBe(0.5); // 0.06
    expect(s.ced[90]![1]).toBe(0.75); // 0.09
    expect(s.ced[100]![1]).toBe(0.75);
  });

  it('the AUC is exact, not sampled: one error of 0.0001 → 0.999', () => {
    // a CED sampled every 0.01 and integrated by trapezoids would say 0.95
    expect(aucAt([0.0001])).toBeCloseTo(0.999, 12);
    expect(aucAt([0.0995])).toBeCloseTo(0.005, 12);
  });

  it('agrees with a fine numerical integral of the CED on scattered errors', () => {
    const errors = Array.from({ length: 200 }, (_, i) => ((i * 7919) % 1000) / 7000); // 0 … 0.1427
    const n = 200_000;
    const sorted = [...errors].sort((a, b) => a - b);
    let area = 0;
    let below = 0;
    for (let j = 0; j < n; j++) {
      const t = ((j + 0.5) / n) * 0.1; // midpoints
      while (below < sorted.length && sorted[below]! <= t) below++;
      area += below / sorted.length;
    }
    expect(aucAt(errors)).toBeCloseTo(area / n, 5);
  });

  it('a face at exactly the threshold is not a failure; other thresholds work', () => {
    expect(failureRate([0.1, 0.1000001])).toBe(0.5);
    expect(failureRate([0.05, 0.07, 0.09], 0.08)).toBeCloseTo(1 / 3, 12);
    expect(aucAt([0.04], 0.08)).toBeCloseTo(0.5, 12);
    expect(cedCurve([0.5], 1, 3)).toEqual([
      [0, 0],
      [0.5, 1],
      [1, 1],
    ]);
  });

  it('refuses an empty list and errors that are not errors', () => {
    expect(() => summarise([])).toThrow(/no NMEs/);
    expect(() => summarise([0.1, Number.NaN])).toThrow(/NME 1 is NaN/);
    expect(() => summarise([-0.01])).toThrow(/NME 0 is -0.01/);
    expect(() => aucAt([0.1], 0)).toThrow(/threshold must be positive/);
    expect(() => cedCurve([0.1], 0.1, 1)).toThrow(/2 points or more/);
  });
});
