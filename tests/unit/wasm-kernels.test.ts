// wasm kernels with matMul through the native OpenBLAS addon (built by npm run setup where OpenBLAS exists).
import { describe, it } from 'vitest';
import { nativeBlas } from '../../trainer/src/backends/native.js';
import { wasmKernelSuite } from '../support/wasm-kernel-suite.js';

const native = nativeBlas();
if (native.blas) wasmKernelSuite('native');
else
  describe('wasm kernels with native OpenBLAS', () => {
    it.skip(`skipped: ${native.reason}`, () => undefined);
  });
