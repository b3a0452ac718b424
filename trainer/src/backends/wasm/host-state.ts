/**
 * The host-state kernels of ops/host-state.ts for tfjs-backend-wasm, run by the native camd_ops
 * addon: tensors are read (and the new parameter written) on the wasm heap by element offset, the
 * host arrays are handed over as Float32Arrays and updated in place.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, dataOf, sizeOf, type WasmBackendInternals } from './heap.js';
import type { NativeOps } from '../native.js';
import type { HostStateKernels } from '../../ops/host-state.js';

const heapOf = (b: WasmBackendInternals) => new Float32Array(b.wasm.HEAPU8.buffer);
const at = (b: WasmBackendInternals, t: tf.TensorInfo) => dataOf(b, t).memoryOffset / 4;

function check(what: string, t: tf.TensorInfo, host: Float32Array): number {
  if (t.dtype !== 'float32') throw new Error(`${what}: tensor must be float32, got ${t.dtype}`);
  const n = sizeOf(t.shape);
  if (host.length !== n) throw new Error(`${what}: host state has ${host.length} values for a tensor of ${n}`);
  return n;
}

export function wasmHostStateKernels(ops: NativeOps): HostStateKernels {
  return {
    backend: 'wasm',
    adamw(p, g, m, v, scale, a) {
      const b = asWasm(tf.backend());
      const n = check('host AdamW', p, m);
      check('host AdamW', g, v);
      if (sizeOf(scale.shape) !== 1) throw new Error('host AdamW: scale must hold one number');
      const out = b.makeOutput([...p.shape], 'float32'); // may grow the heap: views are taken after
      const heap = heapOf(b);
      ops.adamwHost(
        heap,
        at(b, p),
        at(b, g),
        at(b, out),
        n,
        m,
        v,
        heap[at(b, scale)]!,
        a.lr,
        a.beta1,
        a.beta2,
        a.eps,
        a.decay,
        a.bc1,
        a.bc2,
      );
      const p2 = tf.engine().makeTensorFromTensorInfo(out);
      p.assign(p2);
      p2.dispose();
    },
    ema(online, mm, m) {
      const b = asWasm(tf.backend());
      const n = check('host EMA', online, mm);
      // float32 factors, as the tensor chain's scalars: m and 1 − m (computed in double, then rounded)
      ops.emaHost(heapOf(b), at(b, online), n, mm, Math.fround(m), Math.fround(1 - m));
    },
  };
}
