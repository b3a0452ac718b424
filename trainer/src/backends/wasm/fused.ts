/**
 * The fused kernels of ops/fused.ts for tfjs-backend-wasm, run by the native camd_ops addon on
 * the wasm heap: outputs are allocated by the backend first (which may grow the heap), then one
 * Float32Array view of the heap is taken and handed to C with element offsets.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, dataOf, sizeOf, type WasmBackendInternals } from './heap.js';
import {
  ADAMW,
  GELU,
  GELU_GRAD,
  LAYER_NORM,
  LAYER_NORM_GRAD,
  type AdamWAttrs,
  type LayerNormAttrs,
} from '../../ops/fused.js';
import type { NativeOps } from '../native.js';

const heapOf = (b: WasmBackendInternals) => new Float32Array(b.wasm.HEAPU8.buffer);
const at = (b: WasmBackendInternals, t: tf.TensorInfo) => dataOf(b, t).memoryOffset / 4;

function float32(kernel: string, inputs: tf.NamedTensorInfoMap): void {
  for (const [name, t] of Object.entries(inputs)) {
    if (t && t.dtype !== 'float32') throw new Error(`${kernel}: input ${name} must be float32, got ${t.dtype}`);
  }
}

function sameShape(kernel: string, a: tf.TensorInfo, b: tf.TensorInfo, what: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${kernel}: ${what} shapes differ: [${a.shape}] vs [${b.shape}]`);
  }
}

export function fusedWasmKernels(ops: NativeOps): tf.KernelConfig[] {
  const gelu: tf.KernelFunc = ({ inputs, backend }) => {
    const b = asWasm(backend);
    const x = inputs['x'] as tf.TensorInfo;
    float32(GELU, inputs);
    const y = b.makeOutput([...x.shape], 'float32');
    ops.geluForward(heapOf(b), at(b, x), at(b, y), sizeOf(x.shape));
    return y;
  };

  const geluGrad: tf.KernelFunc = ({ inputs, backend }) => {
    const b = asWasm(backend);
    const dy = inputs['dy'] as tf.TensorInfo;
    const x = inputs['x'] as tf.TensorInfo;
    float32(GELU_GRAD, inputs);
    sameShape(GELU_GRAD, dy, x, 'dy and x');
    const dx = b.makeOutput([...x.shape], 'float32');
    ops.geluBackward(heapOf(b), at(b, x), at(b, dy), at(b, dx), sizeOf(x.shape));
    return dx;
  };

  const layerNorm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const b = asWasm(backend);
    const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
    float32(LAYER_NORM, inputs);
    const cols = x.shape[x.shape.length - 1] ?? 1;
    if (x.shape.length === 0 || sizeOf(gamma.shape) !== cols || sizeOf(beta.shape) !== cols) {
      throw new Error(
        `${LAYER_NORM}: γ [${gamma.shape}] and β [${beta.shape}] must have the size of the last axis of x [${x.shape}]`,
      );
    }
    const rows = sizeOf(x.shape) / cols;
    const rowShape = x.shape.slice(0, -1);
    const y = b.makeOutput([...x.shape], 'float32');
    const mean = b.makeOutput(rowShape, 'float32');
    const rstd = b.makeOutput(rowShape, 'float32');
    const { eps } = attrs as unknown as LayerNormAttrs;
    ops.layerNormForward(
      heapOf(b),
      at(b, x),
      at(b, gamma),
      at(b, beta),
      at(b, y),
      at(b, mean),
      at(b, rstd),
      rows,
      cols,
      eps,
    );
    return [y, mean, rstd];
  };

  const layerNormGrad: tf.KernelFunc = ({ inputs, backend }) => {
    const b = asWasm(backend);
    const { dy, x, mean, rstd, gamma } = inputs as Record<'dy' | 'x' | 'mean' | 'rstd' | 'gamma', tf.TensorInfo>;
    float32(LAYER_NORM_GRAD, inputs);
    sameShape(LAYER_NORM_GRAD, dy, x, 'dy and x');
    const cols = x.shape[x.shape.length - 1] ?? 1;
    const rows = sizeOf(x.shape) / cols;
    if (sizeOf(mean.shape) !== rows || sizeOf(rstd.shape) !== rows || sizeOf(gamma.shape) !== cols)
      throw new Error(`${LAYER_NORM_GRAD}: statistics do not match x [${x.shape}]`);
    const dx = b.makeOutput([...x.shape], 'float32');
    const dgamma = b.makeOutput([...gamma.shape], 'float32');
    const dbeta = b.makeOutput([...gamma.shape], 'float32');
    ops.layerNormBackward(
      heapOf(b),
      at(b, dy),
      at(b, x),
      at(b, mean),
      at(b, rstd),
      at(b, gamma),
      at(b, dx),
      at(b, dgamma),
      at(b, dbeta),
      rows,
      cols,
    );
    return [dx, dgamma, dbeta];
  };

  const adamw: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const b = asWasm(backend);
    const { p, g, m, v, scale } = inputs as Record<'p' | 'g' | 'm' | 'v' | 'scale', tf.TensorInfo>;
    float32(ADAMW, inputs);
    for (const [what, t] of [
      ['g', g],
      ['m', m],
      ['v', v],
    ] as const)
      sameShape(ADAMW, p, t, `p and ${what}`);
    if (sizeOf(scale.shape) !== 1) throw new Error(`${ADAMW}: scale must hold one number`);
    const a = attrs as unknown as AdamWAttrs;
    const outs = [0, 1, 2].map(() => b.makeOutput([...p.shape], 'float32'));
    const heap = heapOf(b);
    const s = heap[at(b, scale)]!;
    ops.adamw(
      heap,
      at(b, p),
      at(b, g),
      at(b, m),
      at(b, v),
      at(b, outs[0]!),
      at(b, outs[1]!),
      at(b, outs[2]!),
      sizeOf(p.shape),
      s,
      a.lr,
      a.beta1,
      a.beta2,
      a.eps,
      a.decay,
      a.bc1,
      a.bc2,
    );
    return outs;
  };

  return [
    { kernelName: GELU, backendName: 'wasm', kernelFunc: gelu },
    { kernelName: GELU_GRAD, backendName: 'wasm', kernelFunc: geluGrad },
    { kernelName: LAYER_NORM, backendName: 'wasm', kernelFunc: layerNorm },
    { kernelName: LAYER_NORM_GRAD, backendName: 'wasm', kernelFunc: layerNormGrad },
    { kernelName: ADAMW, backendName: 'wasm', kernelFunc: adamw },
  ];
}
