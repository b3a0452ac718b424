// wasm kernels with matMul through the native OpenBLAS addon (built by npm run setup where OpenBLAS exists).
import { describe, expect, it } from 'vitest';
import { nativeBlas, openblasCoreType } from '../../trainer/src/backends/native.js';
import { wasmKernelSuite } from '../support/wasm-kernel-suite.js';

const native = nativeBlas();
if (native.blas) wasmKernelSuite('native');
else
  describe('wasm kernels with native OpenBLAS', () => {
    it.skip(`skipped: ${native.reason}`, () => undefined);
  });

describe('OpenBLAS kernels from the CPU flags (backends/native.ts)', () => {
  it('AVX-512 → SkylakeX, AVX2 + FMA → Haswell, older or foreign → none', () => {
    const info = (flags: string) => `processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu sse sse2 ${flags}\n`;
    expect(openblasCoreType(info('avx avx2 fma avx512f avx512dq avx512bw avx512vl'))).toBe('SkylakeX');
    expect(openblasCoreType(info('avx avx2 fma avx512f'))).toBe('Haswell'); // Knights Landing-like: no BW/VL
    expect(openblasCoreType(info('avx avx2 fma'))).toBe('Haswell');
    expect(openblasCoreType(info('avx avx2'))).toBeNull();
    expect(openblasCoreType(info('sse4_2 avx'))).toBeNull();
    expect(openblasCoreType('processor\t: 0\nFeatures\t: fp asimd\n')).toBeNull(); // arm64
    expect(openblasCoreType('')).toBeNull();
  });
});
