/**
 * SplitV for tfjs-backend-wasm as contiguous block copies: stock wasm copies element by element
 * through its generic strided slice (≈ 4 ms to split a 192×576 qkv weight; this takes well
 * under 0.1 ms).
 */
import type * as tf from '@tensorflow/tfjs';
import { asWasm, dataOf, sizeOf } from './heap.js';

export function makeFastSplitV(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number | number[] };
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return original(args);
    const rank = x.shape.length;
    const ax =
      (Array.isArray(axis) ? axis[0]! : axis) < 0
        ? (Array.isArray(axis) ? axis[0]! : axis) + rank
        : Array.isArray(axis)
          ? axis[0]!
          : axis;
    const dim = x.shape[ax]!;
    let sizes: number[];
    if (typeof numOrSizeSplits === 'number') {
      if (dim % numOrSizeSplits !== 0) return original(args);
      sizes = new Array<number>(numOrSizeSplits).fill(dim / numOrSizeSplits);
    } else {
      sizes = [...numOrSizeSplits];
      const neg = sizes.indexOf(-1);
      if (neg >= 0) sizes[neg] = dim - sizes.reduce((a, b) => a + (b === -1 ? 0 : b), 0);
    }
    if (sizes.reduce((a, b) => a + b, 0) !== dim || sizes.some((s) => s < 0)) return original(args);
    const backend = asWasm(args.backend);
    const outer = sizeOf(x.shape.slice(0, ax));
    const inner = sizeOf(x.shape.slice(ax + 1));
    const outs = sizes.map((s) => backend.makeOutput([...x.shape.slice(0, ax), s, ...x.shape.slice(ax + 1)], x.dtype));
    // views after all allocations (allocation may grow the heap)
    const buf = backend.wasm.HEAPU8.buffer;
    const view = (offset: number, n: number): Float32Array | Int32Array =>
      x.dtype === 'float32' ? new Float32Array(buf, offset, n) : new Int32Array(buf, offset, n);
    const src = view(dataOf(backend, x).memoryOffset, sizeOf(x.shape));
    let start = 0;
    sizes.forEach((s, i) => {
      const dst = view(dataOf(backend, outs[i]!).memoryOffset, outer * s * inner);
      const len = s * inner;
      for (let o = 0; o < outer; o++)
        (dst as Float32Array).set(
          (src as Float32Array).subarray(o * dim * inner + start * inner, o * dim * inner + start * inner + len),
          o * len,
        );
      start += s;
    });
    return outs;
  };
}
