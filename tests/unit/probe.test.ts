// The probe's k-NN and linear probe on tiny features whose answers are worked out by hand, and the
// sanity of the probe itself: features without the label score at chance, features with it high.
import { describe, expect, it } from 'vitest';
import { knnAccuracy } from '../../trainer/src/probe/knn.js';
import { crossValidated, scoreFeatures, type ProbeSet } from '../../trainer/src/probe/evaluate.js';
import { probeAccuracy } from '../../trainer/src/labels/curve.js';
import { Rng } from '../../trainer/src/util/rng.js';
import { pca2 } from '../../trainer/src/see/projection.js';

const f = (...v: number[]) => Float32Array.from(v);

describe('k-NN (cosine, temperature-weighted votes)', () => {
  it('one class per face: the weighted vote, worked out by hand', () => {
    // training features at angles 0°, 10°, 80°, 90° (unit circle), classes 0, 0, 1, 1; lengths do not matter (cosine)
    const deg = (a: number, r = 1) => f(r * Math.cos((a * Math.PI) / 180), r * Math.sin((a * Math.PI) / 180));
    const train = { x: [deg(0), deg(10, 5), deg(80), deg(90, 0.1)], y: [[0], [0], [1], [1]] };
    // a query at 40°: cosines 0.766 (0°), 0.866 (10°), 0.643 (80°), 0.5 (90°)
    // k = 3, T = 0.1: class 0 gets e^7.66 + e^8.66 = 2 121 + 5 768; class 1 gets e^6.43 = 620 → 0
    expect(knnAccuracy('fer', 2, train, { x: [deg(40)], y: [[0]] }, 3, 0.1)).toBe(1);
    // a query at 60°: cosines 0.5, 0.643, 0.985, 0.866; k = 2 → the two nearest are 80° and 90° → 1
    expect(knnAccuracy('fer', 2, train, { x: [deg(60)], y: [[1]] }, 2, 0.1)).toBe(1);
    // k = 4, T = 1 at 50°: class 0: e^0.643 + e^0.766 = 1.902 + 2.151 = 4.053; class 1: e^0.940 + e^0.766 = 2.560 + 2.151 = 4.711 → 1
    expect(knnAccuracy('fer', 2, train, { x: [deg(50)], y: [[1]] }, 4, 1)).toBe(1);
    // the temperature weighs nearness: three far neighbours of class 0 against one near of class 1, query at 80°
    const lopsided = { x: [deg(0), deg(10), deg(20), deg(85)], y: [[0], [0], [0], [1]] };
    // T huge: equal weights, 3 against 1 → class 0
    expect(knnAccuracy('fer', 2, lopsided, { x: [deg(80)], y: [[0]] }, 4, 1e9)).toBe(1);
    // T = 0.05: class 1 gets e^(0.996/0.05) = e^19.9 ≈ 4.6e8; class 0 e^(0.174/0.05) + e^(0.342/0.05) + e^(0.5/0.05) ≈ 2.3e4 → class 1
    expect(knnAccuracy('fer', 2, lopsided, { x: [deg(80)], y: [[1]] }, 4, 0.05)).toBe(1);
  });

  it('attributes: per attribute the weighted mean of the neighbours decides; accuracy over faces × attributes', () => {
    const train = {
      x: [f(1, 0), f(0.9, 0.1), f(0, 1)],
      y: [
        [1, 0],
        [1, 1],
        [0, 1],
      ],
    };
    // query (1, 0), k = 2, T huge (equal weights): neighbours 0 and 1 → attribute 0: mean 1 → 1; attribute 1: mean 0.5 → not > ½ → 0
    expect(knnAccuracy('far', 2, train, { x: [f(1, 0)], y: [[1, 0]] }, 2, 1e9)).toBe(1);
    expect(knnAccuracy('far', 2, train, { x: [f(1, 0)], y: [[1, 1]] }, 2, 1e9)).toBe(0.5);
    // a small T: the nearest (identical) neighbour dominates attribute 1 → 0
    expect(knnAccuracy('far', 2, train, { x: [f(1, 0)], y: [[1, 0]] }, 3, 0.01)).toBe(1);
  });
});

describe('the probe itself', () => {
  /** A balanced two-class probe set whose features are noise, plus `signal` × the label on one dimension. */
  function synthetic(signal: number, n = 120, D = 16): { set: ProbeSet; feats: Map<string, Float32Array> } {
    const rng = new Rng(7);
    const items = Array.from({ length: n }, (_, i) => ({
      path: `${i}.png`,
      sha256: String(i).padStart(64, '0'),
      labels: [i % 2],
      split: (i < n * 0.7 ? 'train' : 'test') as 'train' | 'test',
    }));
    const feats = new Map(
      items.map((it) => [
        it.sha256,
        Float32Array.from({ length: D }, (_, d) => rng.normal() + (d === 3 ? signal * (it.labels[0]! * 2 - 1) : 0)),
      ]),
    );
    return {
      set: {
        root: '/',
        task: 'fer',
        names: ['a', 'b'],
        train: items.filter((i) => i.split === 'train'),
        test: items.filter((i) => i.split === 'test'),
        splitNote: '',
      },
      feats,
    };
  }

  it('features without the label score near chance; features that carry it score high', () => {
    const noise = synthetic(0);
    const s0 = scoreFeatures(noise.set, noise.feats);
    expect(s0.metric).toBe('top1');
    expect(s0.test).toBe(36);
    expect(Math.abs(s0.knn - 0.5)).toBeLessThan(0.2);
    expect(Math.abs(s0.linear - 0.5)).toBeLessThan(0.2);
    const clear = synthetic(4);
    const s1 = scoreFeatures(clear.set, clear.feats);
    expect(s1.knn).toBeGreaterThan(0.9);
    expect(s1.linear).toBeGreaterThan(0.95);
  });

  it('cross-validation measures every face once, by probes that never saw it', () => {
    const clear = synthetic(4, 50);
    const cv = crossValidated(clear.set, clear.feats, 5);
    expect(cv.test).toBe(50);
    expect(cv.train).toBe(40);
    expect(cv.knn).toBeGreaterThan(0.9);
    // a face whose feature is unique but whose label is noise: 1-NN on itself would be perfect, held out it is chance
    const rng = new Rng(11);
    const items = Array.from({ length: 60 }, (_, i) => ({
      path: `${i}`,
      sha256: String(i).padStart(64, '0'),
      labels: [rng.next() < 0.5 ? 1 : 0],
      split: 'train' as const,
    }));
    const feats = new Map(items.map((it) => [it.sha256, Float32Array.from({ length: 8 }, () => rng.normal())]));
    const noise = crossValidated(
      { root: '/', task: 'fer', names: ['a', 'b'], train: items, test: [], splitNote: '' },
      feats,
      6,
    );
    expect(Math.abs(noise.knn - 0.5)).toBeLessThan(0.2);
    expect(() => crossValidated(clear.set, clear.feats, 1)).toThrow(/--folds must be between 2/);
  });

  it('the linear probe separates what a line separates, and only that', () => {
    const train = { x: [f(-2, 0), f(-1, 1), f(1, -1), f(2, 0)], y: [[0], [0], [1], [1]] };
    expect(probeAccuracy('fer', 2, 2, train, { x: [f(-3, 2), f(3, -2)], y: [[0], [1]] })).toBe(1);
    // XOR: no line does it; the probe cannot reach 100 %
    const xor = { x: [f(1, 1), f(-1, -1), f(1, -1), f(-1, 1)], y: [[0], [0], [1], [1]] };
    expect(probeAccuracy('fer', 2, 2, xor, xor)).toBeLessThanOrEqual(0.75);
  });
});

describe('the 2-D map', () => {
  it('PCA: points on a line project onto it (first component (1, 2)/√5, all the variance); an axis-aligned cloud gives its axes', () => {
    const line = pca2([f(-1, -2), f(0, 0), f(1, 2), f(2, 4)].map((x) => Float32Array.from(x, (v) => v + 1))); // shifted: PCA centres
    expect(line.explained[0]).toBeCloseTo(1, 9);
    expect(line.explained[1]).toBeCloseTo(0, 9);
    const s5 = Math.sqrt(5);
    // centred points t·(1, 2) with t = −1.5, −0.5, 0.5, 1.5: coordinates t·√5 (sign: the larger entry, 2, positive)
    expect(line.coords.map((c) => c[0])).toEqual(
      [-1.5 * s5, -0.5 * s5, 0.5 * s5, 1.5 * s5].map((v) => expect.closeTo(v, 6)),
    );
    // variance 4 along x, 1 along y: components x then y, shares 0.8 and 0.2
    const cloud = pca2([f(2, 0), f(-2, 0), f(0, 1), f(0, -1)]);
    expect(cloud.explained[0]).toBeCloseTo(8 / 10, 9);
    expect(cloud.explained[1]).toBeCloseTo(2 / 10, 9);
    expect(cloud.coords.map((c) => c.map((v) => Math.round(v * 1e6) / 1e6 + 0))).toEqual([
      [2, 0],
      [-2, 0],
      [0, 1],
      [0, -1],
    ]);
  });
});
