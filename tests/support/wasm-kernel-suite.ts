// Every wasm kernel we add or replace, checked against the cpu backend on random inputs
// (max relative error ≤ 1e-4), forward and through gradients. Used by the test files that run
// the matMul route through OpenBLAS (native addon) and through XNNPACK.
import { beforeAll, describe, expect, it } from 'vitest';
import { nativeBlas } from '../../trainer/src/backends/native.js';
import { GELU, hasFusedKernel } from '../../trainer/src/ops/fused.js';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { simplifyTranspose } from '../../trainer/src/backends/wasm/transpose.js';
import { Rng } from '../../trainer/src/util/rng.js';
import { maxRelErr, randArray } from './compare.js';

/** Runs f on cpu and on wasm with the same inputs; returns both outputs as arrays. */
async function onBoth(
  inputs: { shape: number[]; data: Float32Array | Int32Array; dtype?: 'float32' | 'int32' }[],
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
) {
  const run = async (backend: 'cpu' | 'wasm') => {
    await selectBackend(backend);
    return tf.tidy(() => {
      const xs = inputs.map((i) => tf.tensor(i.data, i.shape, i.dtype ?? 'float32'));
      const out = f(...xs);
      return (Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array }));
    });
  };
  return { cpu: await run('cpu'), wasm: await run('wasm') };
}

function expectSame(r: Awaited<ReturnType<typeof onBoth>>) {
  expect(r.wasm.length).toBe(r.cpu.length);
  r.cpu.forEach((c, i) => {
    expect(r.wasm[i]!.shape).toEqual(c.shape);
    expect(Number.isFinite(maxRelErr(r.wasm[i]!.data, c.data))).toBe(true);
    expect(maxRelErr(r.wasm[i]!.data, c.data)).toBeLessThanOrEqual(1e-4);
  });
}

export function wasmKernelSuite(matmul: 'native' | 'xnnpack'): void {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  describe('wasm BatchMatMul (fast 2-D routing)', () => {
    const rng = new Rng(1);
    const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
      { a: [37, 19], b: [19, 23], ta: false, tb: false },
      { a: [19, 37], b: [19, 23], ta: true, tb: false },
      { a: [37, 19], b: [23, 19], ta: false, tb: true },
      { a: [19, 37], b: [23, 19], ta: true, tb: true },
      { a: [5, 11, 7], b: [5, 7, 13], ta: false, tb: false },
      { a: [2, 3, 11, 8], b: [2, 3, 9, 8], ta: false, tb: true }, // attention scores QKᵀ
      { a: [2, 3, 8, 11], b: [2, 3, 8, 9], ta: true, tb: false },
      { a: [4, 6, 5], b: [5, 3], ta: false, tb: false }, // shared B folded into M
      { a: [6, 5], b: [4, 5, 3], ta: false, tb: false }, // shared A
      { a: [1, 1], b: [1, 1], ta: false, tb: false },
    ];
    for (const c of cases) {
      it(`a=${c.a} b=${c.b} ta=${c.ta} tb=${c.tb}`, async () => {
        const r = await onBoth(
          [
            {
              shape: c.a,
              data: randArray(
                rng,
                c.a.reduce((x, y) => x * y),
              ),
            },
            {
              shape: c.b,
              data: randArray(
                rng,
                c.b.reduce((x, y) => x * y),
              ),
            },
          ],
          (a, b) => tf.matMul(a!, b!, c.ta, c.tb),
        );
        expectSame(r);
      });
    }
    it('gradients of a batched, transposed matMul', async () => {
      const r = await onBoth(
        [
          { shape: [3, 7, 5], data: randArray(rng, 105) },
          { shape: [3, 6, 5], data: randArray(rng, 90) },
        ],
        (a, b) => {
          const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, false, true).square().sum());
          return g([a!, b!]);
        },
      );
      expectSame(r);
    });
  });

  describe('wasm Transpose (rank reduction, rank ≥ 5)', () => {
    const rng = new Rng(2);
    it('simplifies permutations', () => {
      expect(simplifyTranspose([2, 3, 4, 5, 6], [0, 1, 2, 3, 4])).toEqual({ shape: [720], perm: [0] });
      expect(simplifyTranspose([2, 3, 4, 5], [0, 2, 3, 1])).toEqual({ shape: [2, 3, 20], perm: [0, 2, 1] });
      expect(simplifyTranspose([2, 1, 4], [2, 1, 0])).toEqual({ shape: [2, 4], perm: [1, 0] });
    });
    const cases: { shape: number[]; perm: number[] }[] = [
      { shape: [2, 3, 4, 5, 6], perm: [0, 2, 1, 3, 4] }, // reducible to rank 4
      { shape: [2, 3, 4, 5, 6], perm: [4, 2, 0, 3, 1] }, // irreducible rank 5
      { shape: [2, 3, 2, 3, 2, 3], perm: [0, 2, 4, 1, 3, 5] }, // patchify-like rank 6
      { shape: [3, 1, 4, 1, 5], perm: [4, 3, 2, 1, 0] },
      { shape: [4, 5, 6], perm: [2, 0, 1] },
    ];
    for (const c of cases) {
      it(`shape ${c.shape} perm ${c.perm}`, async () => {
        const n = c.shape.reduce((x, y) => x * y);
        const r = await onBoth([{ shape: c.shape, data: randArray(rng, n) }], (x) => tf.transpose(x!, c.perm));
        expectSame(r);
      });
    }
    it('int32 rank 5', async () => {
      const data = Int32Array.from({ length: 120 }, (_, i) => i * 7 - 300);
      const r = await onBoth([{ shape: [2, 3, 2, 5, 2], data, dtype: 'int32' }], (x) =>
        tf.transpose(x!, [3, 1, 4, 0, 2]),
      );
      expectSame(r);
    });
  });

  describe('wasm SplitV (block copies)', () => {
    const rng = new Rng(4);
    const cases: { shape: number[]; sizes: number | number[]; axis: number }[] = [
      { shape: [7, 12], sizes: 3, axis: 1 },
      { shape: [7, 12], sizes: [2, -1, 5], axis: 1 },
      { shape: [4, 5, 6], sizes: [1, 4], axis: 1 },
      { shape: [6, 2, 3], sizes: 2, axis: 0 },
      { shape: [3, 4, 10], sizes: [3, 3, 4], axis: -1 },
    ];
    for (const c of cases) {
      it(`shape ${c.shape} sizes ${c.sizes} axis ${c.axis}`, async () => {
        const n = c.shape.reduce((x, y) => x * y);
        const r = await onBoth([{ shape: c.shape, data: randArray(rng, n) }], (x) => tf.split(x!, c.sizes, c.axis));
        expectSame(r);
      });
    }
    it('gradient of a split', async () => {
      const r = await onBoth([{ shape: [5, 9], data: randArray(rng, 45) }], (x) =>
        tf.grad((t: tf.Tensor) =>
          tf
            .split(t, 3, 1)
            .map((p, i) =>
              p
                .mul(i + 1)
                .square()
                .sum(),
            )
            .reduce((a, b) => a.add(b)),
        )(x!),
      );
      expectSame(r);
    });
  });

  describe('wasm UnsortedSegmentSum (gather gradient)', () => {
    const rng = new Rng(3);
    it('matches cpu, forward', async () => {
      const ids = Int32Array.from({ length: 12 }, () => rng.int(0, 4));
      const r = await onBoth(
        [
          { shape: [12, 3, 2], data: randArray(rng, 72) },
          { shape: [12], data: ids, dtype: 'int32' },
        ],
        (x, s) => tf.unsortedSegmentSum(x!, s! as tf.Tensor1D, 5),
      );
      expectSame(r);
    });
    it('makes gather differentiable and matches cpu', async () => {
      const idx = Int32Array.from([3, 0, 3, 7, 1, 1, 5]);
      const r = await onBoth(
        [
          { shape: [8, 4], data: randArray(rng, 32) },
          { shape: [7], data: idx, dtype: 'int32' },
        ],
        (x, i) => tf.grad((t: tf.Tensor) => tf.gather(t, i!).square().sum())(x!),
      );
      expectSame(r);
    });
  });

  it(`matMul runs through ${matmul}`, () => {
    expect(nativeBlas().blas !== null).toBe(matmul === 'native');
    if (matmul === 'xnnpack') expect(hasFusedKernel(GELU)).toBe(false); // and the model's kernel chains
  });
}
