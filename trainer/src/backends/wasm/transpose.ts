/**
 * Transpose for tfjs-backend-wasm without the slow rank ≥ 5 path.
 *
 * Any permutation is first simplified: size-1 axes are dropped and runs of input axes that
 * stay adjacent and in order are merged. Most rank-5/6 transposes (e.g. patchify, head
 * splitting) become rank ≤ 4 and go to the stock XNNPACK-backed kernel; what remains is done
 * by a strided copy on the heap.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, f32View, i32View, sizeOf } from './heap.js';

/** Drops size-1 axes and merges adjacent in-order axes. Returns the equivalent (shape, perm). */
export function simplifyTranspose(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } {
  // 1. drop size-1 axes
  const keep = shape.map((d) => d !== 1);
  const remap = new Map<number, number>();
  const s1: number[] = [];
  shape.forEach((d, i) => {
    if (keep[i]) {
      remap.set(i, s1.length);
      s1.push(d);
    }
  });
  const p1 = perm.filter((ax) => keep[ax]).map((ax) => remap.get(ax)!);
  if (p1.length === 0) return { shape: [], perm: [] };
  // 2. merge runs where perm[k+1] === perm[k] + 1
  const groups: number[][] = [];
  for (const ax of p1) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1]! + 1 === ax) last.push(ax);
    else groups.push([ax]);
  }
  // groups are in output order; new input axis order is by each group's first input axis
  const order = groups.map((g, i) => ({ first: g[0]!, i })).sort((x, y) => x.first - y.first);
  const newShape = order.map(({ i }) => groups[i]!.reduce((acc, ax) => acc * s1[ax]!, 1));
  const inputPos = new Map<number, number>();
  order.forEach(({ i }, pos) => inputPos.set(i, pos));
  const newPerm = groups.map((_, i) => inputPos.get(i)!);
  return { shape: newShape, perm: newPerm };
}

/** out[...] = x transposed by perm, generic strided copy (used only for rank ≥ 5 after simplification). */
function stridedTranspose(
  src: Float32Array | Int32Array,
  dst: Float32Array | Int32Array,
  shape: number[],
  perm: number[],
): void {
  const rank = shape.length;
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i]!;
  }
  const outShape = perm.map((p) => shape[p]!);
  const stepIn = perm.map((p) => inStrides[p]!);
  const idx = new Array<number>(rank).fill(0);
  const inner = outShape[rank - 1]!;
  const innerStep = stepIn[rank - 1]!;
  let off = 0;
  let o = 0;
  const total = dst.length;
  while (o < total) {
    for (let k = 0, p = off; k < inner; k++, p += innerStep) dst[o++] = src[p]!;
    // advance the odometer over the outer output axes
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]!++;
      off += stepIn[ax]!;
      if (idx[ax]! < outShape[ax]!) break;
      off -= stepIn[ax]! * outShape[ax]!;
      idx[ax] = 0;
    }
  }
}

export function makeFastTranspose(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const perm = (args.attrs as { perm: number[] }).perm;
    if (x.dtype === 'string' || x.dtype === 'complex64') return original(args);
    const simple = simplifyTranspose(x.shape, perm);
    const outShape = perm.map((p) => x.shape[p]!);
    if (simple.shape.length <= 4) {
      const out = original({
        ...args,
        inputs: { x: { dataId: x.dataId, shape: simple.shape.length ? simple.shape : [1], dtype: x.dtype } },
        attrs: { perm: simple.perm.length ? simple.perm : [0] },
      }) as tf.TensorInfo;
      out.shape = outShape;
      return out;
    }
    const backend = asWasm(args.backend);
    const size = sizeOf(x.shape);
    const out = backend.makeOutput(outShape, x.dtype);
    if (x.dtype === 'float32')
      stridedTranspose(f32View(backend, x, size), f32View(backend, out, size), simple.shape, simple.perm);
    else if (x.dtype === 'int32')
      stridedTranspose(i32View(backend, x, size), i32View(backend, out, size), simple.shape, simple.perm);
    else {
      const heap = backend.wasm.HEAPU8;
      const src = new Int32Array(
        Array.from(
          heap.subarray(
            backend.dataIdMap.get(x.dataId)!.memoryOffset,
            backend.dataIdMap.get(x.dataId)!.memoryOffset + size,
          ),
        ),
      );
      const dst = new Int32Array(size);
      stridedTranspose(src, dst, simple.shape, simple.perm);
      heap.set(Uint8Array.from(dst), backend.dataIdMap.get(out.dataId)!.memoryOffset);
    }
    return out;
  };
}
