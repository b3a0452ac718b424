/**
 * Optional native GEMM for the wasm backend: a Node-API addon (trainer/native) over the
 * system's OpenBLAS, called on views of the WebAssembly heap. Built by `npm run setup` where
 * OpenBLAS's headers exist (Debian: libopenblas-dev); absent or disabled (CAMD_NATIVE_BLAS=0),
 * the wasm kernels use XNNPACK. Node-API is ABI-stable across Node and Electron.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface NativeBlas {
  sgemmBatched(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, c: Float32Array, cOffset: number, batch: number, M: number, N: number, K: number, transA: number, transB: number, strideA: number, strideB: number, strideC: number): void;
  threads(): number;
}

const ADDON = fileURLToPath(new URL('../../native/build/Release/camd_blas.node', import.meta.url));

let cached: { blas: NativeBlas | null; reason: string } | null = null;

export function nativeBlas(): { blas: NativeBlas | null; reason: string } {
  if (cached) return cached;
  if (process.env['CAMD_NATIVE_BLAS'] === '0') cached = { blas: null, reason: 'disabled by CAMD_NATIVE_BLAS=0' };
  else if (!existsSync(ADDON)) cached = { blas: null, reason: 'native OpenBLAS addon not built (needs OpenBLAS headers, e.g. Debian libopenblas-dev, at npm run setup)' };
  else {
    try {
      const blas = createRequire(import.meta.url)(ADDON) as NativeBlas;
      cached = { blas, reason: `OpenBLAS through Node-API (${blas.threads()} threads)` };
    } catch (e) {
      cached = { blas: null, reason: `native OpenBLAS addon failed to load: ${(e as Error).message.split('\n')[0]}` };
    }
  }
  return cached;
}
