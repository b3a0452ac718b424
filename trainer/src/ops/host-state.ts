/**
 * Training state kept outside the tensor backend's memory. The wasm backend's heap is a wasm32
 * memory of at most 4 GiB that never shrinks (model/memory.ts); AdamW's two moments and the
 * teacher's momentum copy (§2.1, §4) are read and written once a step, element by element, and
 * never take part in a matrix product, so they need not live there. Where the backend provides
 * these kernels (the wasm backend with the native camd_ops addon, backends/wasm/host-state.ts),
 * they are plain Float32Arrays owned by JavaScript and updated in place by native code:
 *  - AdamW with host moments: the parameter and its gradient are tensors, m and v host arrays;
 *  - the EMA of an online parameter into its host momentum copy;
 * and the teacher uploads each block's momentum weights for the duration of that block only.
 * Elsewhere (cpu, webgpu, tensorflow; CAMD_HOST_STATE=0) everything stays in tensors.
 * The arithmetic is the same as the tensor chains: the tests compare both on the same inputs.
 */
import * as tf from '@tensorflow/tfjs';
import type { AdamWAttrs } from './fused.js';

export interface HostStateKernels {
  /** The backend these kernels work with. */
  readonly backend: string;
  /** p ← AdamW(p, g·scale) with the moments m, v (host arrays of p's size) updated in place; `scale` is a one-element tensor. */
  adamw(p: tf.Variable, g: tf.Tensor, m: Float32Array, v: Float32Array, scale: tf.Tensor, attrs: AdamWAttrs): void;
  /** mm ← mm·m + online·(1 − m), mm a host array of online's size (§2.1). */
  ema(online: tf.Tensor, mm: Float32Array, m: number): void;
}

let registered: HostStateKernels | null = null;

export function registerHostStateKernels(k: HostStateKernels): void {
  registered = k;
}

/** The host-state kernels of the active backend, or null (state stays in tensors). */
export function hostStateKernels(): HostStateKernels | null {
  if (process.env['CAMD_HOST_STATE'] === '0') return null;
  return registered && registered.backend === tf.getBackend() ? registered : null;
}
