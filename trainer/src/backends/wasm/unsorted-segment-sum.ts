/**
 * UnsortedSegmentSum for tfjs-backend-wasm (missing in 4.22). It is the gradient of `gather`:
 * without it any model that gathers (visible-patch selection with a trainable patch
 * embedding, embedding lookups) cannot train on wasm.
 */
import type * as tf from '@tensorflow/tfjs';
import { asWasm, f32View, i32View, sizeOf } from './heap.js';

export const unsortedSegmentSum: tf.KernelFunc = (args) => {
  const backend = asWasm(args.backend);
  const x = args.inputs['x'] as tf.TensorInfo;
  const ids = args.inputs['segmentIds'] as tf.TensorInfo;
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  if (x.dtype !== 'float32' && x.dtype !== 'int32')
    throw new Error(`UnsortedSegmentSum: dtype ${x.dtype} is not supported on wasm`);
  if (ids.dtype !== 'int32') throw new Error('UnsortedSegmentSum: segmentIds must be int32');
  const idRank = ids.shape.length;
  for (let i = 0; i < idRank; i++) {
    if (ids.shape[i] !== x.shape[i])
      throw new Error(`UnsortedSegmentSum: segmentIds shape ${ids.shape} is not a prefix of x shape ${x.shape}`);
  }
  const inner = sizeOf(x.shape.slice(idRank));
  const n = sizeOf(ids.shape);
  const out = backend.makeOutput([numSegments, ...x.shape.slice(idRank)], x.dtype);
  // views are taken after makeOutput: allocation may grow (and detach) the heap
  const seg = i32View(backend, ids, n);
  const src = x.dtype === 'float32' ? f32View(backend, x, n * inner) : i32View(backend, x, n * inner);
  const dst =
    x.dtype === 'float32' ? f32View(backend, out, numSegments * inner) : i32View(backend, out, numSegments * inner);
  dst.fill(0);
  for (let i = 0; i < n; i++) {
    const s = seg[i]!;
    if (s < 0 || s >= numSegments) continue; // TF semantics: out-of-range ids are dropped
    const o = s * inner;
    const p = i * inner;
    for (let k = 0; k < inner; k++) dst[o + k]! += src[p + k]!;
  }
  return out;
};
