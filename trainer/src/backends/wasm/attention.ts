/**
 * The fused attention kernels of ops/fused.ts for tfjs-backend-wasm, run by the native camd_blas
 * addon on the wasm heap: each (batch, head) pair's QKᵀ, softmax and ·V (and their gradients) are
 * OpenBLAS products on the heads in place, one pair per thread, so no head is transposed out.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, dataOf, sizeOf, type WasmBackendInternals } from './heap.js';
import { ATTENTION, ATTENTION_GRAD, type AttentionAttrs } from '../../ops/fused.js';
import type { NativeBlas } from '../native.js';

const heapOf = (b: WasmBackendInternals) => new Float32Array(b.wasm.HEAPU8.buffer);
const at = (b: WasmBackendInternals, t: tf.TensorInfo) => dataOf(b, t).memoryOffset / 4;

/** (B, L, C) of q, checked against k, v (and dy), the dtype and the head count. */
function activationShape(
  kernel: string,
  attrs: AttentionAttrs,
  ts: Record<string, tf.TensorInfo>,
): [number, number, number] {
  const q = ts['q']!;
  if (q.shape.length !== 3) throw new Error(`${kernel}: q must be (B, L, C), got [${q.shape}]`);
  for (const [name, t] of Object.entries(ts)) {
    if (t.dtype !== 'float32') throw new Error(`${kernel}: ${name} must be float32, got ${t.dtype}`);
    if (t.shape.length !== 3 || t.shape.some((d, i) => d !== q.shape[i]))
      throw new Error(`${kernel}: ${name} [${t.shape}] must have q's shape [${q.shape}]`);
  }
  const [B, L, C] = q.shape as [number, number, number];
  const { heads, scale } = attrs;
  if (!Number.isInteger(heads) || heads < 1 || C % heads !== 0)
    throw new Error(`${kernel}: ${C} channels do not split into ${heads} heads`);
  if (!Number.isFinite(scale)) throw new Error(`${kernel}: scale must be finite, got ${scale}`);
  return [B, L, C];
}

export function attentionWasmKernels(blas: NativeBlas): tf.KernelConfig[] {
  const forward: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const b = asWasm(backend);
    const a = attrs as unknown as AttentionAttrs;
    const { q, k, v } = inputs as Record<'q' | 'k' | 'v', tf.TensorInfo>;
    const [B, L, C] = activationShape(ATTENTION, a, { q, k, v });
    const out = b.makeOutput([B, L, C], 'float32');
    const probs = b.makeOutput([B, a.heads, L, L], 'float32');
    if (sizeOf(q.shape) > 0)
      blas.attentionForward(
        heapOf(b),
        at(b, q),
        at(b, k),
        at(b, v),
        at(b, out),
        at(b, probs),
        B,
        L,
        C,
        a.heads,
        a.scale,
      );
    return [out, probs];
  };

  const backward: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const b = asWasm(backend);
    const a = attrs as unknown as AttentionAttrs;
    const { dy, q, k, v, probs } = inputs as Record<'dy' | 'q' | 'k' | 'v' | 'probs', tf.TensorInfo>;
    const [B, L, C] = activationShape(ATTENTION_GRAD, a, { q, k, v, dy });
    const want = [B, a.heads, L, L];
    if (probs.dtype !== 'float32' || probs.shape.length !== 4 || probs.shape.some((d, i) => d !== want[i]))
      throw new Error(`${ATTENTION_GRAD}: probs [${probs.shape}] must be [${want}]`);
    const grads = [0, 1, 2].map(() => b.makeOutput([B, L, C], 'float32'));
    if (sizeOf(q.shape) > 0) {
      const [dq, dk, dv] = grads as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
      blas.attentionBackward(
        heapOf(b),
        at(b, dy),
        at(b, q),
        at(b, k),
        at(b, v),
        at(b, probs),
        at(b, dq),
        at(b, dk),
        at(b, dv),
        B,
        L,
        C,
        a.heads,
        a.scale,
      );
    }
    return grads;
  };

  return [
    { kernelName: ATTENTION, backendName: 'wasm', kernelFunc: forward },
    { kernelName: ATTENTION_GRAD, backendName: 'wasm', kernelFunc: backward },
  ];
}
