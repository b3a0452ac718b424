// wasm kernels with matMul through the native OpenBLAS addon (built by npm run setup where OpenBLAS exists).
import { describe, expect, it } from 'vitest';
import { nativeBlas, openblasCoreType, userCoreHint } from '../../trainer/src/backends/native.js';
import { Rng } from '../../trainer/src/util/rng.js';
import { wasmKernelSuite } from '../support/wasm-kernel-suite.js';

const native = nativeBlas();
if (native.blas) wasmKernelSuite('native');
else
  describe('wasm kernels with native OpenBLAS', () => {
    // CI builds the addons with CAMD_REQUIRE_NATIVE=1: there a missing addon fails instead of skipping
    if (process.env['CAMD_REQUIRE_NATIVE'] === '1')
      it('the native addon is required here (CAMD_REQUIRE_NATIVE=1)', () => expect.fail(native.reason));
    else it.skip(`skipped: ${native.reason}`, () => undefined);
  });

describe('OpenBLAS kernels from the CPU flags (backends/native.ts)', () => {
  it('AVX-512 → SkylakeX, AVX2 + FMA → Haswell, older or foreign → none', () => {
    const info = (flags: string) =>
      `processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu sse sse2 ${flags}\n`;
    expect(openblasCoreType(info('avx avx2 fma avx512f avx512dq avx512bw avx512vl'))).toBe('SkylakeX');
    expect(openblasCoreType(info('avx avx2 fma avx512f'))).toBe('Haswell'); // Knights Landing-like: no BW/VL
    expect(openblasCoreType(info('avx avx2 fma'))).toBe('Haswell');
    expect(openblasCoreType(info('avx avx2'))).toBeNull();
    expect(openblasCoreType(info('sse4_2 avx'))).toBeNull();
    expect(openblasCoreType('processor\t: 0\nFeatures\t: fp asimd\n')).toBeNull(); // arm64
    expect(openblasCoreType('')).toBeNull();
  });

  it("a user's OPENBLAS_CORETYPE is kept; AVX2 kernels on an AVX-512 CPU get a hint, nothing else does", () => {
    expect(userCoreHint('Haswell', 'SkylakeX')).toMatch(/AVX-512 allows SkylakeX/);
    expect(userCoreHint('zen', 'SkylakeX')).toMatch(/unset it/);
    expect(userCoreHint('Prescott', 'SkylakeX')).toMatch(/SkylakeX/);
    expect(userCoreHint('Haswell', 'Haswell')).toBe('');
    expect(userCoreHint('SkylakeX', 'SkylakeX')).toBe('');
    expect(userCoreHint('Cooperlake', 'SkylakeX')).toBe('');
    expect(userCoreHint('Haswell', null)).toBe('');
  });
});

describe('accurate Sum and Mean on wasm (backends/wasm/reduce.ts)', () => {
  it('1.6·10⁷ float32 values sum to within 1e-6 of the exact (double) sum; axes, keepDims and Mean agree with the cpu backend', async () => {
    const { selectBackend } = await import('../../trainer/src/backends/ladder.js');
    const tf = await import('@tensorflow/tfjs');
    const { nativeOps } = await import('../../trainer/src/backends/native.js');
    if (!nativeOps().ops) {
      expect(process.env['CAMD_REQUIRE_NATIVE'], 'camd_ops is required here').not.toBe('1');
      return; // without the addon wasm keeps tfjs's own Sum
    }
    await selectBackend('wasm');
    const n = 16_000_000;
    const v = new Float32Array(n);
    let exact = 0;
    for (let i = 0; i < n; i++) {
      v[i] = 0.1 + ((i * 7919) % 1000) / 997; // positive: the naive float32 sum drifts by ~1e-2
      exact += v[i]!;
    }
    const t = tf.tensor1d(v);
    const s = tf.sum(t);
    expect(Math.abs(s.dataSync()[0]! - exact) / exact).toBeLessThanOrEqual(1e-6);
    const m = tf.mean(t);
    expect(Math.abs(m.dataSync()[0]! - exact / n) / (exact / n)).toBeLessThanOrEqual(1e-6);
    tf.dispose([t, s, m]);
    // small shapes, every axis combination, against the cpu backend
    const r = new Rng(4);
    const data = Float32Array.from({ length: 2 * 3 * 4 * 5 }, () => r.normal(0, 1));
    const cases: [number | number[], boolean][] = [
      [0, false],
      [1, true],
      [3, false],
      [[0, 2], false],
      [[1, 3], true],
      [[0, 1, 2, 3], false],
      [-1, true],
    ];
    const run = async (backend: 'cpu' | 'wasm') => {
      await selectBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(data, [2, 3, 4, 5]);
        return cases.flatMap(([axis, keep]) =>
          [tf.sum(x, axis, keep), tf.mean(x, axis, keep)].map((y) => ({
            shape: y.shape,
            data: Array.from(y.dataSync()),
          })),
        );
      });
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    wasm.forEach((w, i) => {
      expect(w.shape).toEqual(cpu[i]!.shape);
      w.data.forEach((x, j) =>
        expect(Math.abs(x - cpu[i]!.data[j]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(cpu[i]!.data[j]!))),
      );
    });
    // int32 keeps tfjs's own kernel
    await selectBackend('wasm');
    const ints = tf.sum(tf.tensor1d([1, 2, 3], 'int32'));
    expect(ints.dtype).toBe('int32');
    expect(ints.dataSync()[0]).toBe(6);
    ints.dispose();
  }, 60_000);
});
