// The webgpu rung end to end: Dawn (the `webgpu` package) + tfjs-backend-webgpu, one CAMD step against
// the cpu backend (±1e-3 relative), the device-side top-k mask, no tensor leak. On machines without a
// GPU it runs on a software adapter (Mesa llvmpipe through Dawn's OpenGL backend: Debian libegl1,
// libegl-mesa0, libgl1-mesa-dri); where not even that exists, it is skipped with Dawn's reason.
import '../support/webgpu-software.js';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { loadWebGpu } from '../../trainer/src/backends/webgpu.js';
import { presetConfig } from '../../trainer/src/model/config.js';
import { CamdTrainer } from '../../trainer/src/train/step.js';
import { disposeBatch, syntheticHostBatch, toDeviceBatch } from '../../trainer/src/train/synthetic.js';
import { topkMask } from '../../trainer/src/model/losses.js';
import { stepRows } from '../support/steps.js';
import { Rng } from '../../trainer/src/util/rng.js';

const load = await loadWebGpu();
const why = load.ok ? null : load.reason;
if (why) console.log(`[webgpu] skipped: ${why}`);

async function twoSteps(backend: 'cpu' | 'webgpu'): Promise<number[][]> {
  await selectBackend(backend);
  const cfg = presetConfig('micro');
  const tr = new CamdTrainer(cfg, 5, { epochs: 100, itersPerEpoch: 10, batchSize: 4 });
  cfg.optim.warmupEpochs = 0;
  const b = toDeviceBatch(syntheticHostBatch(cfg, 4, new Rng(1)));
  const out = await stepRows(tr, b, 2);
  disposeBatch(b);
  tr.dispose();
  return out;
}

describe.skipIf(why !== null)(`webgpu backend${why ? ` (skipped: ${why})` : ''}`, () => {
  it('reports the adapter it runs on', () => {
    expect(load.ok && load.adapter.description.length + load.adapter.vendor.length).toBeGreaterThan(0);
  });

  it('two CAMD steps give the cpu backend’s losses and gradient norm (±1e-3 relative)', async () => {
    const cpu = await twoSteps('cpu');
    const gpu = await twoSteps('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    cpu.forEach((row, i) =>
      row.forEach((v, j) => {
        expect(Number.isFinite(gpu[i]![j]!)).toBe(true);
        expect(Math.abs(gpu[i]![j]! - v) / Math.max(Math.abs(v), 1e-3)).toBeLessThan(1e-3);
      }),
    );
    expect(cpu[1]![0]).not.toBe(cpu[0]![0]); // the first update changed the weights
  }, 120_000);

  it('top-k mask on the device equals the cpu one, and a step leaks no tensor', async () => {
    await selectBackend('webgpu');
    const S = tf.tensor3d(
      Array.from({ length: 2 * 5 * 9 }, (_, i) => Math.sin(i * 1.7) * 3),
      [2, 5, 9],
    );
    const m = await topkMask(S, 3).array();
    await selectBackend('cpu');
    const ref = topkMask(
      tf.tensor3d(
        Array.from({ length: 2 * 5 * 9 }, (_, i) => Math.sin(i * 1.7) * 3),
        [2, 5, 9],
      ),
      3,
    ).arraySync();
    expect(m).toEqual(ref);
    await selectBackend('webgpu');
    const cfg = presetConfig('micro');
    const tr = new CamdTrainer(cfg, 6, { epochs: 100, itersPerEpoch: 10, batchSize: 4 });
    const b = toDeviceBatch(syntheticHostBatch(cfg, 4, new Rng(2)));
    await tr.trainStep(b);
    const n0 = tf.memory().numTensors;
    await tr.trainStep(b);
    expect(tf.memory().numTensors).toBe(n0);
    disposeBatch(b);
    tr.dispose();
  }, 120_000);
});
