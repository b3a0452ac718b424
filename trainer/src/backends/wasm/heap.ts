/**
 * Minimal typed view of the internals of tfjs-backend-wasm 4.22 that our kernels use:
 * the tensor map (dataId → heap offset) and the emscripten module.
 */
import type * as tf from '@tensorflow/tfjs';

export interface WasmModule {
  HEAPU8: Uint8Array;
  cwrap(name: string, ret: null | 'number', args: string[]): (...args: unknown[]) => unknown;
  tfjs: {
    registerTensor(id: number, size: number, memoryOffset: number): void;
    disposeData(id: number): void;
    getThreadsCount(): number;
  };
}

interface TensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: tf.DataType;
  refCount: number;
}

export interface WasmBackendInternals {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: object): TensorData | undefined };
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

export function asWasm(backend: unknown): WasmBackendInternals {
  const b = backend as Partial<WasmBackendInternals>;
  if (!b?.wasm || !b.dataIdMap || typeof b.makeOutput !== 'function') {
    throw new Error('wasm kernels: backend is not tfjs-backend-wasm (internals missing)');
  }
  return b as WasmBackendInternals;
}

export function dataOf(backend: WasmBackendInternals, t: tf.TensorInfo): TensorData {
  const d = backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error('wasm kernels: tensor data not found (disposed?)');
  return d;
}

/** Float32 view of a tensor's data on the wasm heap (valid until the heap grows). */
export function f32View(backend: WasmBackendInternals, t: tf.TensorInfo, size: number): Float32Array {
  return new Float32Array(backend.wasm.HEAPU8.buffer, dataOf(backend, t).memoryOffset, size);
}

export function i32View(backend: WasmBackendInternals, t: tf.TensorInfo, size: number): Int32Array {
  return new Int32Array(backend.wasm.HEAPU8.buffer, dataOf(backend, t).memoryOffset, size);
}

/**
 * Registers a C-side alias of `size` floats at `offset` (no copy, no allocation) and returns its id.
 * Must be released with `releaseAlias`; the memory itself stays owned by its tensor.
 */
export function aliasAt(backend: WasmBackendInternals, offset: number, size: number): number {
  const id = backend.dataIdNextNumber++;
  backend.wasm.tfjs.registerTensor(id, size, offset);
  return id;
}

export function releaseAlias(backend: WasmBackendInternals, id: number): void {
  // C-side dispose only: erases the id and any XNNPACK operator cached on it; frees nothing.
  backend.wasm.tfjs.disposeData(id);
}

export function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}
