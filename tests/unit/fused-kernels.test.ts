// The fused kernels (GELU, LayerNorm, AdamW of trainer/src/ops/fused.ts) on the wasm backend with the
// native camd_ops addon, checked against the cpu backend running the model's kernel chains, forward
// and through gradients, on random inputs (max relative error ≤ 1e-4 unless said otherwise).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { nativeBlas, nativeOps } from '../../trainer/src/backends/native.js';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { ADAMW, ATTENTION, GELU, hasFusedKernel, LAYER_NORM } from '../../trainer/src/ops/fused.js';
import { gelu, headsAttention, layerNorm } from '../../trainer/src/model/vit.js';
import { AdamW, momentValues } from '../../trainer/src/optim/adamw.js';
import { Rng } from '../../trainer/src/util/rng.js';
import { maxRelErr, randArray } from '../support/compare.js';

type Arr = { shape: number[]; data: Float32Array };

/** f on the cpu backend (kernel chains) and on wasm (fused kernels), same inputs. */
async function onBoth(inputs: Arr[], f: (...xs: tf.Tensor[]) => tf.Tensor[], expectFused: string) {
  const run = async (backend: 'cpu' | 'wasm') => {
    await selectBackend(backend);
    expect(hasFusedKernel(expectFused as typeof GELU)).toBe(backend === 'wasm');
    return tf.tidy(() =>
      f(...inputs.map((i) => tf.tensor(i.data, i.shape))).map((t) => ({
        shape: t.shape,
        data: t.dataSync() as Float32Array,
      })),
    );
  };
  return { cpu: await run('cpu'), wasm: await run('wasm') };
}

function expectClose(r: Awaited<ReturnType<typeof onBoth>>, tol = 1e-4) {
  expect(r.wasm.length).toBe(r.cpu.length);
  r.cpu.forEach((c, i) => {
    expect(r.wasm[i]!.shape).toEqual(c.shape);
    const err = maxRelErr(r.wasm[i]!.data, c.data);
    expect(Number.isFinite(err)).toBe(true);
    expect(err).toBeLessThanOrEqual(tol);
  });
}

const ops = nativeOps();
if (!ops.ops) {
  describe('fused kernels', () => {
    // CI builds the addons with CAMD_REQUIRE_NATIVE=1: there a missing addon fails instead of skipping
    if (process.env['CAMD_REQUIRE_NATIVE'] === '1')
      it('the native addon is required here (CAMD_REQUIRE_NATIVE=1)', () => expect.fail(ops.reason));
    else it.skip(`skipped: ${ops.reason}`, () => undefined);
  });
} else {
  describe('fused kernels on wasm vs kernel chains on cpu', () => {
    const rng = new Rng(7);
    const scaled = (n: number, s: number, o = 0) => randArray(rng, n).map((v) => v * s + o);

    it('GELU forward and gradient, including |x| up to 12 and exact zeros', async () => {
      const x = scaled(4 * 33 * 65, 3);
      x[0] = 0;
      x[1] = 12;
      x[2] = -12;
      x[3] = -1e-8;
      const dy = randArray(rng, x.length);
      const r = await onBoth(
        [
          { shape: [4, 33, 65], data: x },
          { shape: [4, 33, 65], data: dy },
        ],
        (t, d) => {
          const y = gelu(t!);
          const g = tf.grad((u: tf.Tensor) => gelu(u).mul(d!).sum())(t!);
          return [y, g];
        },
        GELU,
      );
      expectClose(r, 2e-6);
    });

    it('GELU gives what the chain gives on NaN and ±Infinity', async () => {
      const special = [NaN, Infinity, -Infinity, 1];
      const out: Record<string, number[]> = {};
      for (const backend of ['cpu', 'wasm'] as const) {
        await selectBackend(backend);
        out[backend] = tf.tidy(() => gelu(tf.tensor1d(special)).arraySync() as number[]);
      }
      expect(out['wasm']).toEqual(out['cpu']);
      expect(Number.isNaN(out['wasm']![0]!)).toBe(true); // a NaN in training stays visible
      expect(out['wasm']![3]).toBeCloseTo(0.8413447, 6);
    });

    for (const [shape, eps] of [
      [[3, 17, 48], 1e-6],
      [[5, 192], 1e-5],
      [[2, 3]] as unknown as [number[], number],
      [[1, 7, 3], 1e-6],
    ] as [number[], number | undefined][]) {
      it(`LayerNorm ${JSON.stringify(shape)} forward and gradients of x, γ, β`, async () => {
        const n = shape.reduce((a, b) => a * b);
        const c = shape[shape.length - 1]!;
        const x = scaled(n, 2.5, 1.5); // off-centre rows, as residual streams are
        const g = scaled(c, 0.5, 1);
        const b = scaled(c, 0.3);
        const dy = randArray(rng, n);
        const e = eps ?? 1e-6;
        const r = await onBoth(
          [
            { shape, data: x },
            { shape: [c], data: g },
            { shape: [c], data: b },
            { shape, data: dy },
          ],
          (xt, gt, bt, d) => {
            const y = layerNorm(xt!, e, gt, bt);
            const grads = tf.grads((u: tf.Tensor, v: tf.Tensor, w: tf.Tensor) => layerNorm(u, e, v, w).mul(d!).sum())([
              xt!,
              gt!,
              bt!,
            ]);
            return [y, ...grads];
          },
          LAYER_NORM,
        );
        expectClose(r);
      });
    }

    for (const [shape, heads, spread] of [
      [[2, 17, 24], 3, 1],
      [[1, 50, 192], 3, 3], // ViT-Tiny's width and heads; peaked rows
      [[3, 5, 8], 1, 0.5],
      [[2, 1, 12], 4, 1], // one token: every softmax row is [1]
    ] as [[number, number, number], number, number][]) {
      it.skipIf(!nativeBlas().blas)(
        `attention ${JSON.stringify(shape)} × ${heads} heads: forward and gradients of q, k, v`,
        async () => {
          const n = shape[0] * shape[1] * shape[2];
          const scale = 1 / Math.sqrt(shape[2] / heads);
          const r = await onBoth(
            [0, 1, 2, 3].map((i) => ({ shape, data: scaled(n, i < 2 ? spread : 1) })),
            (q, k, v, d) => {
              const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => headsAttention(a, b, c, heads, scale);
              return [
                f(q!, k!, v!),
                ...tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => f(a, b, c).mul(d!).sum())([q!, k!, v!]),
              ];
            },
            ATTENTION,
          );
          expectClose(r, 2e-4);
        },
      );
    }

    it.skipIf(!nativeBlas().blas)(
      'attention: its gradient leaves no tensor behind; a head count that does not divide C is refused',
      async () => {
        await selectBackend('wasm');
        const [q, k, v] = [0, 1, 2].map(() => tf.randomNormal([2, 9, 16]));
        const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => headsAttention(a, b, c, 4, 0.5).square().sum();
        const before = tf.memory().numTensors;
        const grads = tf.grads(f)([q!, k!, v!]);
        expect(tf.memory().numTensors).toBe(before + 3);
        tf.dispose(grads);
        expect(() => headsAttention(q!, k!, v!, 3, 0.5)).toThrow(/16 channels do not split into 3 heads/);
        expect(() => headsAttention(q!, k!, tf.zeros([2, 9, 8]), 4, 0.5)).toThrow(/must have q's shape/);
        tf.dispose([q!, k!, v!]);
      },
    );

    it('LayerNorm gradient leaves no tensor behind', async () => {
      await selectBackend('wasm');
      const x = tf.randomNormal([4, 8, 16]);
      const g = tf.ones([16]);
      const b = tf.zeros([16]);
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        tf.grads((u: tf.Tensor, v: tf.Tensor, w: tf.Tensor) => layerNorm(u, 1e-6, v, w).square().sum())([x, g, b]);
      });
      const dx = tf.grads((u: tf.Tensor, v: tf.Tensor, w: tf.Tensor) => layerNorm(u, 1e-6, v, w).square().sum())([
        x,
        g,
        b,
      ]);
      expect(tf.memory().numTensors).toBe(before + 3);
      tf.dispose([...dx, x, g, b]);
    });

    it('AdamW: three steps with weight decay, clipping scale and per-parameter lr equal the chain', async () => {
      const names = ['w.weight', 'w.bias', 'cls_token'];
      const shapes = [[6, 5], [5], [1, 1, 5]];
      const init = shapes.map((s) =>
        scaled(
          s.reduce((a, b) => a * b),
          1,
        ),
      );
      const grads = [0, 1, 2].map(() =>
        shapes.map((s) =>
          scaled(
            s.reduce((a, b) => a * b),
            0.1,
          ),
        ),
      );
      // wasm: the fused kernel with tensor moments (CAMD_HOST_STATE=0), then with host moments
      const run = async (backend: 'cpu' | 'wasm', hostMoments = false) => {
        await selectBackend(backend);
        expect(hasFusedKernel(ADAMW)).toBe(backend === 'wasm');
        if (!hostMoments) process.env['CAMD_HOST_STATE'] = '0';
        const opt = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.05 });
        delete process.env['CAMD_HOST_STATE'];
        expect(opt.host !== null).toBe(hostMoments);
        const params = new Map(
          names.map((n, i) => [n, tf.variable(tf.tensor(init[i]!, shapes[i]!), true, `${backend}.${n}`)]),
        );
        const lrScale = new Map([['w.bias', 0.5]]);
        grads.forEach((gs, step) => {
          const g = new Map(names.map((n, i) => [n, tf.tensor(gs[i]!, shapes[i]!)]));
          const scale = tf.scalar(step === 1 ? 0.25 : 1);
          opt.apply(params, g, 1e-2, lrScale, scale);
          tf.dispose([...g.values(), scale]);
        });
        const out = [...params.values()].map((v) => v.dataSync().slice() as Float32Array);
        for (const s of [...opt.m.values(), ...opt.v.values()]) out.push((await momentValues(s)).slice());
        opt.dispose();
        tf.dispose([...params.values()]);
        return out;
      };
      const cpu = await run('cpu');
      const wasm = await run('wasm');
      const host = await run('wasm', true);
      expect(wasm.length).toBe(3 * names.length);
      cpu.forEach((c, i) => expect(maxRelErr(wasm[i]!, c)).toBeLessThanOrEqual(1e-5));
      // the same C arithmetic with the moments elsewhere: equal to the bit
      wasm.forEach((w, i) => expect(Array.from(host[i]!)).toEqual(Array.from(w)));
    });
  });

  describe('the native kernels split across threads (OpenMP) give what one thread gives', () => {
    const rng = new Rng(11);
    const o = ops.ops!;
    /** f's outputs (copies) at each thread count, the count restored after. */
    const atThreads = <T>(set: (n: number) => void, get: () => number, counts: number[], f: () => T): T[] => {
      const before = get();
      try {
        return counts.map((n) => {
          set(n);
          return f();
        });
      } finally {
        set(before);
      }
    };
    const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

    it('GELU, AdamW (heap and host moments), the EMA, row and column sums to the bit; LayerNorm forward and dx to the bit, dγ and dβ within 1e-6', () => {
      const rows = 301;
      const cols = 257; // 77,357 elements: above the threshold for threads, blocks that do not divide evenly
      const n = rows * cols;
      const heap = new Float32Array(17 * n);
      heap.set(randArray(rng, 8 * n).map((v) => v * 2));
      const slot = (k: number) => k * n;
      const hostM = randArray(rng, n).map((v) => Math.abs(v) * 0.1);
      const hostV = randArray(rng, n).map((v) => v * v * 0.01);
      const run = () => {
        const h = heap.slice();
        const m = new Float32Array(hostM);
        const v = new Float32Array(hostV);
        const mm = new Float32Array(hostM);
        o.geluForward(h, slot(0), slot(8), n);
        o.geluBackward(h, slot(0), slot(1), slot(9), n);
        // AdamW's moments must be non-negative for v: slots 2, 3 hold m, |v|
        for (let i = 0; i < n; i++) h[slot(3) + i] = Math.abs(h[slot(3) + i]!);
        o.adamw(
          h,
          slot(4),
          slot(5),
          slot(2),
          slot(3),
          slot(10),
          slot(11),
          slot(12),
          n,
          0.5,
          1e-3,
          0.9,
          0.95,
          1e-8,
          0.99,
          0.1,
          0.2,
        );
        o.adamwHost(h, slot(4), slot(5), slot(13), n, m, v, 0.5, 1e-3, 0.9, 0.95, 1e-8, 0.99, 0.1, 0.2);
        o.emaHost(h, slot(4), n, mm, 0.996, 0.004);
        o.sumRows(h, slot(6), slot(14), rows, cols, true);
        o.sumCols(h, slot(6), slot(16), rows, cols, false);
        // LayerNorm: x slot 6, γ, β from slot 7; y slot 15; mean, rstd after the row sums
        const stats = slot(14) + rows;
        o.layerNormForward(h, slot(6), slot(7), slot(7) + cols, slot(15), stats, stats + rows, rows, cols, 1e-6);
        o.layerNormBackward(
          h,
          slot(1),
          slot(6),
          stats,
          stats + rows,
          slot(7),
          slot(9),
          slot(7) + 2 * cols,
          slot(7) + 3 * cols,
          rows,
          cols,
        );
        return { h, m, v, mm };
      };
      const [one, two, three] = atThreads(
        (t) => o.setThreads(t),
        () => o.threads(),
        [1, 2, 3],
        run,
      );
      for (const other of [two!, three!]) {
        const dgdb = (r: typeof one) => r!.h.subarray(slot(7) + 2 * cols, slot(7) + 4 * cols);
        const rest = (r: typeof one) => [
          r!.h.subarray(0, slot(7) + 2 * cols),
          r!.h.subarray(slot(7) + 4 * cols),
          r!.m,
          r!.v,
          r!.mm,
        ];
        rest(other).forEach((a, i) => expect(bits(a)).toEqual(bits(rest(one)[i]!)));
        expect(maxRelErr(dgdb(other), dgdb(one))).toBeLessThanOrEqual(1e-6);
      }
    });

    const blas = nativeBlas().blas;
    it.skipIf(!blas)('attention forward and backward, a (batch, head) pair per thread: to the bit', () => {
      const b = blas!;
      const [B, L, C, H] = [3, 37, 48, 4]; // 12 pairs, L = 37: products with odd sides
      const act = B * L * C;
      const pr = B * H * L * L;
      // heap: q k v dy | out dq dk dv | probs
      const heap = new Float32Array(8 * act + pr);
      heap.set(randArray(rng, 4 * act).map((v) => v * 2));
      const run = () => {
        const h = heap.slice();
        b.attentionForward(h, 0, act, 2 * act, 4 * act, 8 * act, B, L, C, H, 0.35);
        b.attentionBackward(h, 3 * act, 0, act, 2 * act, 8 * act, 5 * act, 6 * act, 7 * act, B, L, C, H, 0.35);
        return h;
      };
      const [one, two, three] = atThreads(
        (t) => b.setThreads(t),
        () => b.threads(),
        [1, 2, 3],
        run,
      );
      expect(one!.subarray(4 * act).some((x) => x !== 0)).toBe(true);
      expect(bits(two!)).toEqual(bits(one!));
      expect(bits(three!)).toEqual(bits(one!));
      // out of bounds and a bad head count are refused before anything runs
      expect(() => b.attentionForward(heap, 0, act, 2 * act, 4 * act, 8 * act + 1, B, L, C, H, 0.35)).toThrow(
        /out of bounds/,
      );
      expect(() => b.attentionForward(heap, 0, act, 2 * act, 4 * act, 8 * act, B, L, C, 5, 0.35)).toThrow(/divisible/);
    });

    it.skipIf(!blas)(
      'matMul: one product in bands of rows or of columns, and a batch a product per thread, transposed or not, within 1e-6',
      () => {
        const b = blas!;
        for (const [batch, M, N, K] of [
          [1, 97, 33, 70],
          [1, 31, 120, 64],
          [5, 50, 64, 50],
        ] as const)
          for (const ta of [0, 1])
            for (const tb of [0, 1]) {
              const A = new Float32Array(randArray(rng, batch * M * K));
              const B = new Float32Array(randArray(rng, batch * K * N));
              const run = () => {
                const C = new Float32Array(batch * M * N);
                b.sgemmBatched(A, 0, B, 0, C, 0, batch, M, N, K, ta, tb, M * K, K * N, M * N);
                return C;
              };
              const [one, two, three] = atThreads(
                (t) => b.setThreads(t),
                () => b.threads(),
                [1, 2, 3],
                run,
              );
              // OpenBLAS's edge tiles add in another order: equal within float32 rounding, not to the bit
              expect(maxRelErr(two!, one!)).toBeLessThanOrEqual(1e-6);
              expect(maxRelErr(three!, one!)).toBeLessThanOrEqual(1e-6);
              // and a product, checked once against the plain sum
              const i = M - 1;
              const j = N - 1;
              let ref = 0;
              for (let k = 0; k < K; k++) ref += A[ta ? k * M + i : i * K + k]! * B[tb ? j * K + k : k * N + j]!;
              expect(Math.abs(one![i * N + j]! - ref)).toBeLessThan(1e-4);
            }
      },
    );
  });
}
