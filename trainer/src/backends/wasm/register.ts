/**
 * Installs our wasm kernel fixes (see README "Backend ladder"): fast BatchMatMul routing,
 * rank-reducing Transpose, and the missing UnsortedSegmentSum. Idempotent.
 */
import * as tf from '@tensorflow/tfjs';
import { makeFastBatchMatMul } from './batch-matmul.js';
import { makeFastTranspose } from './transpose.js';
import { unsortedSegmentSum } from './unsorted-segment-sum.js';
import { makeFastSplitV } from './split.js';
import { shareIdentity } from './identity.js';

let installed = false;

export const PATCHED_WASM_KERNELS = ['BatchMatMul', 'Transpose', 'SplitV', 'Identity', 'UnsortedSegmentSum'] as const;

function replace(kernelName: string, make: (orig: tf.KernelFunc) => tf.KernelFunc): void {
  const orig = tf.getKernel(kernelName, 'wasm');
  if (!orig) throw new Error(`wasm kernel ${kernelName} is not registered; import @tensorflow/tfjs-backend-wasm first`);
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...orig, kernelFunc: make(orig.kernelFunc) });
}

export function installWasmKernelFixes(): void {
  if (installed) return;
  replace('BatchMatMul', makeFastBatchMatMul);
  replace('Transpose', makeFastTranspose);
  replace('SplitV', makeFastSplitV);
  replace('Identity', () => shareIdentity);
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum });
  }
  installed = true;
}
