/**
 * Installs our wasm kernel fixes (see docs/backends.md): fast BatchMatMul routing,
 * rank-reducing Transpose, the missing UnsortedSegmentSum, and, with the native camd_ops addon,
 * the fused GELU / LayerNorm / AdamW kernels of ops/fused.ts and the host-state kernels of
 * ops/host-state.ts, and with the native camd_blas addon the fused attention. Idempotent.
 */
import * as tf from '@tensorflow/tfjs';
import { makeFastBatchMatMul } from './batch-matmul.js';
import { makeFastTranspose } from './transpose.js';
import { unsortedSegmentSum } from './unsorted-segment-sum.js';
import { makeFastSplitV } from './split.js';
import { shareIdentity } from './identity.js';
import { fusedWasmKernels } from './fused.js';
import { nativeBlas, nativeOps } from '../native.js';
import { attentionWasmKernels } from './attention.js';
import { registerFusedGradients } from '../../ops/fused.js';
import { registerHostStateKernels } from '../../ops/host-state.js';
import { wasmHostStateKernels } from './host-state.js';
import { makeAccurateReduce } from './reduce.js';

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
  registerFusedGradients();
  const ops = nativeOps().ops;
  if (ops) for (const k of fusedWasmKernels(ops)) if (!tf.getKernel(k.kernelName, 'wasm')) tf.registerKernel(k);
  if (ops) registerHostStateKernels(wasmHostStateKernels(ops));
  const blas = nativeBlas().blas;
  if (blas) for (const k of attentionWasmKernels(blas)) if (!tf.getKernel(k.kernelName, 'wasm')) tf.registerKernel(k);
  if (ops) {
    replace('Sum', (orig) => makeAccurateReduce(orig, ops, false));
    replace('Mean', (orig) => makeAccurateReduce(orig, ops, true));
  }
  installed = true;
}
