/**
 * Sum and Mean for tfjs-backend-wasm with double accumulation (the native camd_ops addon's
 * `sumRows`). tfjs-wasm 4.22 accumulates a float32 reduction one element at a time in float32:
 * relative error 3e-4 at 10⁶ elements and 2e-2 at 1.6·10⁷, where the cpu backend stays under 5e-8.
 * At ViT-B sizes that bends loss means and the clipping norm (Σ g² over 10⁷ gradients). The axes are
 * moved innermost with the (patched) Transpose kernel, as tfjs does, then each row is summed in
 * double and rounded once — except a sum over the leading axes (a bias's gradient over batch and
 * tokens), summed by columns where it lies, without the transpose (ViT-Tiny/112 b16: 451 sums,
 * 10 % of the step, most of them such). Other dtypes keep the original kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, dataOf, sizeOf, type WasmBackendInternals } from './heap.js';
import type { NativeOps } from '../native.js';

const at = (b: WasmBackendInternals, t: tf.TensorInfo) => dataOf(b, t).memoryOffset / 4;

export function makeAccurateReduce(orig: tf.KernelFunc, ops: NativeOps, mean: boolean): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    if (x.dtype !== 'float32') return orig(args);
    const b = asWasm(args.backend);
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const original = tf.util.parseAxisParam(axis, x.shape);
    const perm = tf.backend_util.getAxesPermutation(original, x.shape.length);
    const leading = [...original].sort((p, q) => p - q).every((a, i) => a === i);
    if (perm && leading) {
      const kept = x.shape.slice(original.length);
      const rows = sizeOf(x.shape.slice(0, original.length));
      const cols = sizeOf(kept);
      const out = b.makeOutput(keepDims ? tf.backend_util.expandShapeToKeepDim(kept, original) : kept, 'float32');
      if (cols > 0) ops.sumCols(new Float32Array(b.wasm.HEAPU8.buffer), at(b, x), at(b, out), rows, cols, mean);
      return out;
    }
    let input = x;
    let axes = original;
    if (perm) {
      const transpose = tf.getKernel('Transpose', 'wasm')!.kernelFunc;
      input = transpose({
        inputs: { x },
        backend: args.backend,
        attrs: { perm } as unknown as tf.NamedAttrMap,
      }) as tf.TensorInfo;
      axes = tf.backend_util.getInnerMostAxes(original.length, x.shape.length);
    }
    const [outShape, reduceShape] = tf.backend_util.computeOutAndReduceShapes(input.shape, axes);
    const cols = sizeOf(reduceShape);
    const rows = sizeOf(outShape);
    const out = b.makeOutput(keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, original) : outShape, 'float32');
    if (rows > 0) ops.sumRows(new Float32Array(b.wasm.HEAPU8.buffer), at(b, input), at(b, out), rows, cols, mean);
    if (input !== x) b.disposeData(input.dataId);
    return out;
  };
}
