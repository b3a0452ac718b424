/**
 * Identity for tfjs-backend-wasm that shares the input's data (reference counted, as the cpu
 * backend does) instead of copying it: tfjs's gradient plumbing runs ~2000 of these per CAMD step.
 * Tensors are immutable, so sharing is safe; XNNPACK's caches key on the shared id and stay valid.
 */
import type * as tf from '@tensorflow/tfjs';

interface RefCounting {
  incRef(dataId: object): void;
}

export const shareIdentity: tf.KernelFunc = (args) => {
  const x = args.inputs['x'] as tf.TensorInfo;
  (args.backend as unknown as RefCounting).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};
