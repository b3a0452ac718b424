// The "labels needed" maths: the power-law fit, the hint it gives, the logistic probe.
import { describe, expect, it } from 'vitest';
import {
  curveHint,
  curveSizes,
  drawOrder,
  fitCurve,
  learningCurve,
  probeAccuracy,
} from '../../trainer/src/labels/curve.js';
import { Rng } from '../../trainer/src/util/rng.js';

describe('the learning-curve fit', () => {
  it('recovers a power law from its points', () => {
    const pts = [8, 16, 32, 64, 128].map((n) => ({ labels: n, value: 0.9 - 0.8 * Math.pow(n, -0.5) }));
    const f = fitCurve(pts)!;
    expect(f.a).toBeCloseTo(0.9, 2);
    expect(f.b).toBeCloseTo(0.8, 1);
    expect(f.c).toBeCloseTo(0.5, 1);
    expect(f.at(256)).toBeCloseTo(0.9 - 0.8 / 16, 2);
    expect(curveHint(pts, 'top-1 accuracy')).toMatch(
      /^Still rising: top-1 accuracy went from 0\.80 to 0\.83 between 64 and 128 training labels\. Doubling the training labels to 256 \(about 128 more\) is expected to add about 0\.02/,
    );
  });

  it('a flat curve says more labels of this kind add little; never a falling fit', () => {
    const flat = [8, 16, 32, 64].map((n) => ({ labels: n, value: 0.7 + (n === 16 ? 0.002 : 0) }));
    expect(curveHint(flat, 'top-1 accuracy')).toMatch(/^The curve has flattened/);
    const falling = [8, 16, 32].map((n, k) => ({ labels: n, value: 0.8 - 0.1 * k }));
    expect(fitCurve(falling)!.b).toBe(0);
  });

  it('too few sizes: says so instead of guessing', () => {
    expect(
      fitCurve([
        { labels: 8, value: 0.5 },
        { labels: 12, value: 0.6 },
      ]),
    ).toBeNull();
    expect(
      curveHint(
        [
          { labels: 8, value: 0.5 },
          { labels: 12, value: 0.6 },
        ],
        'top-1',
      ),
    ).toMatch(/^12 training labels so far: a curve needs at least three sizes/);
    expect(curveSizes(12)).toEqual([8, 12]);
    expect(curveSizes(100)).toEqual([8, 16, 32, 64, 100]);
    // the hint says a curve needs 16 training labels: 16 must give three sizes, and a fit
    expect(curveSizes(16)).toEqual([8, 11, 16]);
    expect(curveSizes(17)).toEqual([8, 16, 17]);
    for (let N = 16; N <= 300; N++) expect(curveSizes(N).length, `N = ${N}`).toBeGreaterThanOrEqual(3);
    const at16 = curveSizes(16).map((n) => ({ labels: n, value: 0.9 - 0.8 * Math.pow(n, -0.5) }));
    expect(curveHint(at16, 'top-1 accuracy')).not.toMatch(/a curve needs/);
  });
});

describe('the linear probe', () => {
  const blobs = (n: number, seed: number) => {
    const rng = new Rng(seed);
    const x: Float32Array[] = [];
    const y: number[][] = [];
    for (let i = 0; i < n; i++) {
      const k = i % 3;
      x.push(Float32Array.from({ length: 4 }, (_, d) => (d === k ? 3 : 0) + rng.uniform(-1, 1)));
      y.push([k]);
    }
    return { x, y };
  };

  it('separable classes: all right on held-out points; the same answer every time', () => {
    const a = probeAccuracy('fer', 4, 3, blobs(60, 1), blobs(30, 2));
    expect(a).toBe(1);
    expect(probeAccuracy('fer', 4, 3, blobs(60, 1), blobs(30, 3))).toBe(
      probeAccuracy('fer', 4, 3, blobs(60, 1), blobs(30, 3)),
    );
  });

  it('attributes: one sigmoid each, mean accuracy; chance-level labels stay near chance', () => {
    const rng = new Rng(5);
    const mk = (n: number, random: boolean) => {
      const x: Float32Array[] = [];
      const y: number[][] = [];
      for (let i = 0; i < n; i++) {
        const v = Float32Array.from({ length: 3 }, () => rng.uniform(-1, 1));
        x.push(v);
        y.push(random ? [rng.next() < 0.5 ? 1 : 0, rng.next() < 0.5 ? 1 : 0] : [v[0]! > 0 ? 1 : 0, v[1]! > 0 ? 1 : 0]);
      }
      return { x, y };
    };
    expect(probeAccuracy('far', 3, 2, mk(200, false), mk(100, false))).toBeGreaterThan(0.95);
    expect(probeAccuracy('far', 3, 2, mk(200, true), mk(200, true))).toBeLessThan(0.65);
  });

  it('draws keep classes in proportion; the curve grows with the labels on learnable data', () => {
    const y = Array.from({ length: 30 }, (_, i) => [i % 3]);
    const first9 = drawOrder('fer', y, 0)
      .slice(0, 9)
      .map((i) => y[i]![0]);
    expect([0, 1, 2].map((k) => first9.filter((c) => c === k).length)).toEqual([3, 3, 3]);
    const seen: string[] = [];
    const pts = learningCurve('fer', 4, 3, blobs(64, 7), blobs(60, 8), 0, 3, (d, t) => seen.push(`${d}/${t}`));
    expect(pts.map((p) => p.labels)).toEqual([8, 16, 32, 64]);
    expect(seen).toEqual(Array.from({ length: 10 }, (_, k) => `${k + 1}/10`)); // three draws of 8, 16, 32; one of all
    expect(pts.at(-1)!.value).toBeGreaterThanOrEqual(pts[0]!.value);
  });
});
