// The parity checks of method.md §7 plus the pure pieces of §1.4 / §1.5 / §3.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { IDENTITY_GEOMETRY, relativeEmbedding, sincosTable2d } from '../../trainer/src/model/posembed.js';
import { blockMask, roundHalfEven, splitMask } from '../../trainer/src/model/mask.js';
import { maskedCount, DEFAULT_MASK_RATIO, defaultDistillLayers, presetConfig } from '../../trainer/src/model/config.js';
import {
  agmdWeight,
  denseLoss,
  topkAttentionByGather,
  topkMask,
  unigrad,
  unigradNegDiagForm,
} from '../../trainer/src/model/losses.js';
import { defaultLossConfig } from '../../trainer/src/model/config.js';
import { relativeGeometry, sampleResizedCrop, VIEW1_SCALE, VIEW2_SCALE } from '../../trainer/src/data/crop.js';
import { Rng } from '../../trainer/src/util/rng.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

function components(mask: Uint8Array, grid: number): number {
  const seen = new Uint8Array(mask.length);
  let comps = 0;
  for (let s = 0; s < mask.length; s++) {
    if (!mask[s] || seen[s]) continue;
    comps++;
    const stack = [s];
    seen[s] = 1;
    while (stack.length) {
      const c = stack.pop()!;
      const r = Math.floor(c / grid);
      const col = c % grid;
      for (const [dr, dc] of [
        [1, 0],
        [-1, 0],
        [0, 1],
        [0, -1],
      ] as const) {
        const rr = r + dr;
        const cc = col + dc;
        if (rr < 0 || cc < 0 || rr >= grid || cc >= grid) continue;
        const n = rr * grid + cc;
        if (mask[n] && !seen[n]) {
          seen[n] = 1;
          stack.push(n);
        }
      }
    }
  }
  return comps;
}

describe('§1.4 relative sin-cos embedding', () => {
  for (const [D, G] of [
    [768, 14],
    [32, 4],
    [192, 7],
  ] as const) {
    it(`equals the absolute table at identity geometry (D=${D}, G=${G})`, () => {
      const abs = sincosTable2d(D, G);
      const rel = relativeEmbedding([IDENTITY_GEOMETRY], D, G);
      const E = 2 * D;
      let maxErr = 0;
      for (let n = 0; n < G * G; n++) {
        for (let k = 0; k < D; k++) maxErr = Math.max(maxErr, Math.abs(rel[n * E + k]! - abs[(n + 1) * D + k]!));
        // scale terms are sin 0 / cos 0
        for (let k = D; k < E; k++) expect(rel[n * E + k]).toBe(k % (D / 2) < D / 4 ? 0 : 1);
      }
      expect(maxErr).toBeLessThan(1e-4);
      // cls row is all zeros
      expect(Array.from(abs.slice(0, D)).every((v) => v === 0)).toBe(true);
    });
  }
  it('a flip of the same full crop maps column c to G−1−c', () => {
    const D = 64;
    const G = 14;
    const flipped = relativeEmbedding([{ ...IDENTITY_GEOMETRY, flip: true, fdj: 1 }], D, G);
    const plain = relativeEmbedding([IDENTITY_GEOMETRY], D, G);
    const E = 2 * D;
    let maxErr = 0;
    for (let r = 0; r < G; r++) {
      for (let c = 0; c < G; c++) {
        const a = (r * G + c) * E;
        const b = (r * G + (G - 1 - c)) * E;
        for (let k = 0; k < E; k++) maxErr = Math.max(maxErr, Math.abs(flipped[a + k]! - plain[b + k]!));
      }
    }
    expect(maxErr).toBeLessThan(1e-4);
    // and it is not the identity (the test can fail)
    expect(Math.abs(flipped[D / 2]! - plain[D / 2]!)).toBeGreaterThan(1e-3);
  });
  it('geometry of a full-image view 2 matches §1.3 reduced form', () => {
    const rng = new Rng(5);
    for (let t = 0; t < 100; t++) {
      const c1 = sampleResizedCrop(250, 300, VIEW1_SCALE, rng);
      const c2 = { i: 0, j: 0, h: 300, w: 250 };
      const g = relativeGeometry(c1, c2, 250, false, true);
      expect(g.di).toBeCloseTo(-c1.i / c1.h, 12);
      expect(g.dh).toBeCloseTo(300 / c1.h, 12);
      expect(g.fdj).toBeCloseTo((250 - c1.j) / c1.w, 12);
      expect(g.flip).toBe(true);
      expect(c1.h * c1.w).toBeLessThanOrEqual(0.6 * 250 * 300 * 1.05);
      expect(g.dh).toBeGreaterThanOrEqual(1);
    }
    const whole = sampleResizedCrop(224, 224, VIEW2_SCALE, rng);
    expect(whole.h * whole.w).toBeGreaterThan(0.98 * 224 * 224);
  });
});

describe('§1.5 block-wise mask', () => {
  it('has exactly round(ratio·N) masked cells and is block-structured', () => {
    const rng = new Rng(11);
    expect(maskedCount(DEFAULT_MASK_RATIO, 196)).toBe(118);
    let comps = 0;
    let randomComps = 0;
    const M = 300;
    for (let t = 0; t < M; t++) {
      const m = blockMask({ grid: 14, count: 118 }, rng);
      expect(m.reduce((s, v) => s + v, 0)).toBe(118);
      comps += components(m, 14);
      // random scatter of the same count, for contrast
      const idx = rng.shuffle([...Array(196).keys()]).slice(0, 118);
      const r = new Uint8Array(196);
      idx.forEach((i) => (r[i] = 1));
      randomComps += components(r, 14);
    }
    // blocks merge into few regions; a random scatter of the same count does not
    expect(comps / M).toBeLessThan(4);
    expect(randomComps / M).toBeGreaterThan(2 * (comps / M));
  });
  it('works at the small grids of tiny/112 and micro, with the count from the ratio', () => {
    const rng = new Rng(12);
    for (const [grid, ratio] of [
      [7, DEFAULT_MASK_RATIO],
      [4, DEFAULT_MASK_RATIO],
      [7, 0.75],
      [14, 0.4],
    ] as const) {
      const count = maskedCount(ratio, grid * grid);
      for (let t = 0; t < 100; t++) {
        const m = blockMask({ grid, count }, rng);
        const { visible, masked } = splitMask(m);
        expect(masked.length).toBe(count);
        expect(visible.length).toBe(grid * grid - count);
      }
    }
  });
  it('rounds half to even like Python', () => {
    expect([0.5, 1.5, 2.5, -0.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, 2, 3]);
  });
});

describe('§3 losses', () => {
  it('diag form of the dense neg term equals the row-sum form', () => {
    const rng = new Rng(21);
    const n = 37;
    const D = 24;
    const P = tf.tensor2d(
      Float32Array.from({ length: n * D }, () => rng.normal()),
      [n, D],
    );
    const T = tf.tensor2d(
      Float32Array.from({ length: n * D }, () => rng.normal()),
      [n, D],
    );
    const diag = unigradNegDiagForm(P, T).dataSync()[0]!;
    // neg = (unigrad(λ=1) − unigrad(λ=0))·D
    const rowSum = (unigrad(P, T, 1).dataSync()[0]! - unigrad(P, T, 0).dataSync()[0]!) * D;
    expect(Math.abs(diag - rowSum) / Math.abs(diag)).toBeLessThan(1e-4);
    tf.dispose([P, T]);
  });
  it('dense loss is zero-pos when pred equals the normalised target and grows otherwise', () => {
    const rng = new Rng(22);
    const t = tf.tensor3d(
      Float32Array.from({ length: 2 * 5 * 8 }, () => rng.normal()),
      [2, 5, 8],
    );
    const { mean, variance } = tf.moments(t, -1, true);
    const normed = t.sub(mean).div(variance.add(1e-5).sqrt()) as tf.Tensor3D;
    const atTarget = denseLoss(normed, t, 0).dataSync()[0]!;
    const off = denseLoss(normed.add(0.5) as tf.Tensor3D, t, 0).dataSync()[0]!;
    expect(atTarget).toBeLessThan(1e-6);
    expect(off).toBeCloseTo(0.25, 3);
  });
  it('masked-softmax top-k equals gather-based top-k', () => {
    const rng = new Rng(23);
    const [B, H, L, N, d] = [2, 3, 5, 11, 4];
    const S = tf.tensor4d(
      Float32Array.from({ length: B * H * L * N }, () => rng.normal() * 3),
      [B, H, L, N],
    );
    const V = tf.tensor4d(
      Float32Array.from({ length: B * H * N * d }, () => rng.normal()),
      [B, H, N, d],
    );
    for (const k of [1, 2, 4]) {
      const masked = tf.matMul(tf.softmax(S.add(topkMask(S, k, -Infinity, 0))), V);
      const gathered = topkAttentionByGather(S, V, k);
      const a = masked.dataSync();
      const b = gathered.dataSync();
      let err = 0;
      for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i]! - b[i]!));
      expect(err).toBeLessThan(1e-5);
    }
    // the 0/1 mask keeps exactly k per row
    const m = topkMask(S, 2).sum(-1).dataSync();
    expect(Array.from(m).every((v) => v === 2)).toBe(true);
  });
  it('top-k mask: exactly k with ties (lower index wins), no gradient through the selection', () => {
    const ties = tf.tensor2d([
      [1, 3, 3, 3, 0],
      [2, 2, 2, 2, 2],
      [5, 4, 3, 2, 1],
    ]);
    expect(topkMask(ties, 2).arraySync()).toEqual([
      [0, 1, 1, 0, 0],
      [1, 1, 0, 0, 0],
      [1, 1, 0, 0, 0],
    ]);
    expect(topkMask(ties, 4, -1, 7).arraySync()).toEqual([
      [7, 7, 7, 7, -1],
      [7, 7, 7, 7, -1],
      [7, 7, 7, 7, -1],
    ]);
    // d/dS Σ mask(S)·S = mask(S): the mask itself contributes nothing
    const S = tf.tensor2d([
      [0.3, -1, 2, 0.5],
      [1, 0, -2, 4],
    ]);
    const g = tf.grad((x: tf.Tensor) => topkMask(x, 2).mul(x).sum())(S);
    expect(g.arraySync()).toEqual(topkMask(S, 2).arraySync());
  });
  it('w_d switches on the value of L_AGMD (§3.4)', () => {
    const cfg = defaultLossConfig();
    expect(agmdWeight(tf.scalar(1.5), cfg).dataSync()[0]).toBeCloseTo(0.01, 7);
    expect(agmdWeight(tf.scalar(0.5), cfg).dataSync()[0]).toBeCloseTo(0.1, 7);
    expect(agmdWeight(tf.scalar(1), cfg).dataSync()[0]).toBe(0);
  });
  it('AGMD layers default to {2,5,8,11} at depth 12', () => {
    expect(defaultDistillLayers(12)).toEqual([2, 5, 8, 11]);
    expect(defaultDistillLayers(24)).toEqual([5, 11, 17, 23]);
    expect(presetConfig('huge').model.distillLayers).toEqual([7, 15, 23, 31]);
  });
});
