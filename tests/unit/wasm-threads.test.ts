// The multi-threaded wasm backend (threaded-simd build under Node worker_threads) must initialise
// with the requested thread count and agree with the cpu backend (max relative error ≤ 1e-4).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initWasmBackend, type WasmInitResult } from '../../trainer/src/backends/wasm-threads.js';
import { Rng } from '../../trainer/src/util/rng.js';
import { maxRelErr, randArray } from '../support/compare.js';

let init: WasmInitResult;

async function expectSameOnCpu(shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor, seed: number) {
  const rng = new Rng(seed);
  const data = shapes.map((s) =>
    randArray(
      rng,
      s.reduce((a, b) => a * b, 1),
    ),
  );
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    // no "install tfjs-node" banner in test output
    const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
    if (cpu) cpu.firstUse = false;
    return tf.tidy(() => {
      const out = f(...shapes.map((s, i) => tf.tensor(data[i]!, s)));
      return { shape: out.shape, data: out.dataSync() as Float32Array };
    });
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  expect(wasm.shape).toEqual(cpu.shape);
  const err = maxRelErr(wasm.data, cpu.data);
  expect(Number.isFinite(err)).toBe(true);
  expect(err).toBeLessThanOrEqual(1e-4);
}

beforeAll(async () => {
  init = await initWasmBackend({ threads: 2 });
});

describe('initWasmBackend', () => {
  it('selects the threaded-simd wasm build with the requested thread count', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(init.simd).toBe(true);
    expect(init.threaded, init.reason).toBe(true);
    expect(init.threads).toBe(2);
    expect(init.reason).toMatch(/threaded/);
  });

  it('is idempotent', async () => {
    const again = await initWasmBackend({ threads: 4 });
    expect(again).toEqual(init);
    expect(tf.getBackend()).toBe('wasm');
  });
});

describe('threaded wasm ops match the cpu backend', () => {
  it('matMul', () =>
    expectSameOnCpu(
      [
        [200, 96],
        [96, 150],
      ],
      (a, b) => tf.matMul(a!, b!),
      1,
    ));
  it('matMul transposed, batched', () =>
    expectSameOnCpu(
      [
        [3, 40, 64],
        [3, 48, 64],
      ],
      (a, b) => tf.matMul(a!, b!, false, true),
      2,
    ));
  it('conv2d', () =>
    expectSameOnCpu(
      [
        [2, 20, 20, 8],
        [3, 3, 8, 16],
      ],
      (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
      3,
    ));
  it('add / mul with broadcasting', () =>
    expectSameOnCpu([[300, 400], [400]], (a, b) => tf.mul(tf.add(a!, b!), a!), 4));
  it('softmax', () => expectSameOnCpu([[48, 50, 50]], (x) => tf.softmax(x!), 5));
  it('sum over last axis', () => expectSameOnCpu([[800, 768]], (x) => tf.sum(x!, -1), 6));
  it('erf', () => expectSameOnCpu([[100_000]], (x) => tf.erf(x!), 7));
  it('transpose rank 4', () => expectSameOnCpu([[16, 50, 3, 64]], (x) => tf.transpose(x!, [0, 2, 1, 3]), 8));
  it('gradient of a small dense layer', () =>
    expectSameOnCpu(
      [
        [64, 96],
        [96, 32],
      ],
      (x, w) => tf.grad((ww: tf.Tensor) => tf.sum(tf.tanh(tf.matMul(x!, ww))))(w!),
      9,
    ));
});
