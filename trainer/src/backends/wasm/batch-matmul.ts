/**
 * BatchMatMul for tfjs-backend-wasm that always runs XNNPACK's fast 2-D path.
 *
 * Stock wasm 4.22 sends any matMul with a transposed operand or a batch > 1 to a naive
 * triple loop (~1 GFLOP/s) and only [1,M,K]×[1,K,N] to XNNPACK (~16 GFLOP/s here). This
 * kernel transposes operands explicitly (one rank-3 copy) and then issues one XNNPACK call
 * per batch item on zero-copy aliases of the operands' heap memory. When B is shared by the
 * whole batch, the batch is folded into M for a single call. Backward passes (which tfjs
 * writes as matMuls with transpose flags) take the same route.
 */
import * as tf from '@tensorflow/tfjs';
import { aliasAt, asWasm, dataOf, releaseAlias, sizeOf, type WasmBackendInternals } from './heap.js';
import { nativeBlas } from '../native.js';

type CBatchMatMul = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  ta: boolean,
  tb: boolean,
  outId: number,
) => void;

const cache = new WeakMap<object, CBatchMatMul>();

function cBatchMatMul(backend: WasmBackendInternals): CBatchMatMul {
  let f = cache.get(backend);
  if (!f) {
    f = backend.wasm.cwrap('BatchMatMul', null, [
      'number',
      'array',
      'number',
      'number',
      'array',
      'number',
      'number',
      'number',
      'number',
    ]) as CBatchMatMul;
    cache.set(backend, f);
  }
  return f;
}

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

export function makeFastBatchMatMul(original: tf.KernelFunc): tf.KernelFunc {
  const transposeKernel = () => tf.getKernel('Transpose', 'wasm')!.kernelFunc;

  return (args) => {
    const { inputs, attrs } = args;
    const backend = asWasm(args.backend);
    const a = inputs['a'] as tf.TensorInfo;
    const b = inputs['b'] as tf.TensorInfo;
    const transposeA = Boolean((attrs as { transposeA?: boolean }).transposeA);
    const transposeB = Boolean((attrs as { transposeB?: boolean }).transposeB);
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2)
      return original(args);

    const ar = a.shape.length;
    const br = b.shape.length;
    const M = transposeA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
    const K = transposeA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
    const Kb = transposeB ? b.shape[br - 1]! : b.shape[br - 2]!;
    const N = transposeB ? b.shape[br - 2]! : b.shape[br - 1]!;
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const batchA = sizeOf(outerA);
    const batchB = sizeOf(outerB);
    if (K !== Kb) {
      throw new Error(
        `Error in matMul: inner shapes (${K}) and (${Kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
      );
    }
    // Only the batch layouts we can map to 2-D calls: equal batches, or one side shared.
    const outerOut = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
    const sameOuter = batchA === batchB && outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
    if (!(sameOuter || batchA === 1 || batchB === 1) || M === 0 || N === 0 || K === 0) return original(args);

    const native = nativeBlas().blas;
    if (native) {
      // OpenBLAS straight on the heap: transposes are flags, batches one call
      const out = backend.makeOutput([...outerOut, M, N], 'float32');
      const heap = new Float32Array(backend.wasm.HEAPU8.buffer);
      const ao = dataOf(backend, a).memoryOffset / 4;
      const bo = dataOf(backend, b).memoryOffset / 4;
      const co = dataOf(backend, out).memoryOffset / 4;
      const batch = Math.max(batchA, batchB);
      native.sgemmBatched(
        heap,
        ao,
        heap,
        bo,
        heap,
        co,
        batch,
        M,
        N,
        K,
        transposeA ? 1 : 0,
        transposeB ? 1 : 0,
        batchA === 1 ? 0 : M * K,
        batchB === 1 ? 0 : K * N,
        M * N,
      );
      return out;
    }
    const temps: tf.TensorInfo[] = [];
    try {
      let a3 = a;
      if (transposeA) {
        a3 = transposeKernel()({
          inputs: { x: { dataId: a.dataId, shape: [batchA, K, M], dtype: 'float32' } },
          backend: args.backend,
          attrs: { perm: [0, 2, 1] },
        }) as tf.TensorInfo;
        temps.push(a3);
      }
      let b3 = b;
      if (transposeB) {
        b3 = transposeKernel()({
          inputs: { x: { dataId: b.dataId, shape: [batchB, N, K], dtype: 'float32' } },
          backend: args.backend,
          attrs: { perm: [0, 2, 1] },
        }) as tf.TensorInfo;
        temps.push(b3);
      }
      const batch = Math.max(batchA, batchB);
      const out = backend.makeOutput([...outerOut, M, N], 'float32');
      const mm = cBatchMatMul(backend);
      const aData = dataOf(backend, a3);
      const bData = dataOf(backend, b3);
      const oData = dataOf(backend, out);
      if (batchB === 1) {
        // B shared: fold the batch into M, one XNNPACK call.
        mm(aData.id, shapeBytes([1, batchA * M, K]), 3, bData.id, shapeBytes([1, K, N]), 3, false, false, oData.id);
      } else {
        const aShape = shapeBytes([1, M, K]);
        const bShape = shapeBytes([1, K, N]);
        for (let i = 0; i < batch; i++) {
          const ai = batchA === 1 ? aData.id : aliasAt(backend, aData.memoryOffset + 4 * i * M * K, M * K);
          const bi = aliasAt(backend, bData.memoryOffset + 4 * i * K * N, K * N);
          const oi = aliasAt(backend, oData.memoryOffset + 4 * i * M * N, M * N);
          mm(ai, aShape, 3, bi, bShape, 3, false, false, oi);
          if (batchA !== 1) releaseAlias(backend, ai);
          releaseAlias(backend, bi);
          releaseAlias(backend, oi);
        }
      }
      return out;
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
}
