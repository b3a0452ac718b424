// Optimiser state in host memory (trainer/src/ops/host-state.ts): on the wasm backend with the native
// camd_ops addon, AdamW's moments and the momentum copy live in Float32Arrays outside the wasm heap.
// The arithmetic must be the tensor chains' to the bit, checkpoints must carry the state across both
// layouts, and the heap must really hold less.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { nativeOps } from '../../trainer/src/backends/native.js';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { hostStateKernels } from '../../trainer/src/ops/host-state.js';
import { presetConfig, type CamdConfig } from '../../trainer/src/model/config.js';
import { CamdTrainer, type StepMetrics } from '../../trainer/src/train/step.js';
import { disposeBatch, syntheticHostBatch, toDeviceBatch, type HostBatch } from '../../trainer/src/train/synthetic.js';
import { Rng } from '../../trainer/src/util/rng.js';

const BATCH = 4;

function microConfig(): CamdConfig {
  const cfg = presetConfig('micro');
  cfg.optim.warmupEpochs = 0;
  cfg.optim.blr = 0.05;
  return cfg;
}

/** A trainer built with host state on or off (the choice is fixed when the trainer is made). */
function trainer(hostState: boolean, seed = 3): CamdTrainer {
  if (!hostState) process.env['CAMD_HOST_STATE'] = '0';
  try {
    return new CamdTrainer(microConfig(), seed, { epochs: 100, itersPerEpoch: 10, batchSize: BATCH });
  } finally {
    delete process.env['CAMD_HOST_STATE'];
  }
}

async function steps(tr: CamdTrainer, host: HostBatch, n: number): Promise<StepMetrics[]> {
  const b = toDeviceBatch(host);
  const out: StepMetrics[] = [];
  for (let i = 0; i < n; i++) out.push(await tr.trainStep(b));
  disposeBatch(b);
  return out;
}

const ops = nativeOps();
if (!ops.ops) {
  describe('host-memory optimiser state', () => {
    // CI builds the addons with CAMD_REQUIRE_NATIVE=1: there a missing addon fails instead of skipping
    if (process.env['CAMD_REQUIRE_NATIVE'] === '1')
      it('the native addon is required here (CAMD_REQUIRE_NATIVE=1)', () => expect.fail(ops.reason));
    else it.skip(`skipped: ${ops.reason}`, () => undefined);
  });
} else {
  describe('host-memory optimiser state (wasm + camd_ops)', () => {
    let host: HostBatch;
    beforeAll(async () => {
      await selectBackend('wasm');
      host = syntheticHostBatch(microConfig(), BATCH, new Rng(11));
    });

    it('is used on wasm, not on cpu, and CAMD_HOST_STATE=0 turns it off', async () => {
      expect(hostStateKernels()?.backend).toBe('wasm');
      const on = trainer(true);
      const off = trainer(false);
      expect(on.optimizer.host).not.toBeNull();
      expect(off.optimizer.host).toBeNull();
      const momentum = on.model.params.names('momentum');
      expect(momentum.length).toBeGreaterThan(0);
      expect(momentum.every((n) => on.model.params.host(n) !== undefined)).toBe(true);
      expect(momentum.every((n) => off.model.params.host(n) === undefined)).toBe(true);
      on.dispose();
      off.dispose();
      await selectBackend('cpu');
      expect(hostStateKernels()).toBeNull();
      await selectBackend('wasm');
    });

    it('the EMA into a host copy equals the tensor chain to the bit', () => {
      const r = new Rng(5);
      const n = 1000;
      const online = Float32Array.from({ length: n }, () => r.normal(0, 1));
      const mm = Float32Array.from({ length: n }, () => r.normal(0, 1));
      for (const m of [0.996, 0.9, 0.5]) {
        const chain = tf.tidy(() =>
          tf
            .tensor(mm)
            .mul(m)
            .add(tf.tensor(online).mul(1 - m))
            .dataSync()
            .slice(),
        );
        const hostCopy = mm.slice();
        const t = tf.tensor(online);
        hostStateKernels()!.ema(t, hostCopy, m);
        t.dispose();
        expect(Array.from(hostCopy)).toEqual(Array.from(chain));
      }
    });

    it('three training steps give the same losses, gradient norms and weights either way, without leaking tensors', async () => {
      const on = trainer(true);
      const off = trainer(false);
      await steps(on, host, 1);
      const tensors = tf.memory().numTensors;
      const a = await steps(on, host, 2);
      expect(tf.memory().numTensors).toBe(tensors);
      const b = await steps(off, host, 3);
      expect(a).toEqual(b.slice(1));
      const ea = await on.exportTensors();
      const eb = await off.exportTensors();
      expect(ea.map((t) => t.name)).toEqual(eb.map((t) => t.name));
      ea.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(eb[i]!.data)));
      expect(ea.some((t) => t.name.startsWith('optim.m/'))).toBe(true);
      on.dispose();
      off.dispose();
    });

    it('a checkpoint written with host state resumes in either layout and continues identically', async () => {
      const src = trainer(true);
      await steps(src, host, 2);
      const saved = new Map((await src.exportTensors()).map((t) => [t.name, { ...t, data: t.data.slice() }]));
      const next = await steps(src, host, 1);
      for (const hostState of [true, false]) {
        const dst = trainer(hostState, 99); // other initial weights: everything must come from the file
        dst.importTensors(saved, 2, 2, 'test checkpoint');
        expect(await steps(dst, host, 1)).toEqual(next);
        dst.dispose();
      }
      src.dispose();
    });

    it('keeps the moments and the momentum copy out of the backend', async () => {
      const bytesAfterStep = async (hostState: boolean) => {
        const tr = trainer(hostState);
        await steps(tr, host, 1);
        const bytes = tf.memory().numBytes;
        const online = tr.model.params.count('online');
        const momentum = tr.model.params.count('momentum');
        tr.dispose();
        return { bytes, online, momentum };
      };
      const on = await bytesAfterStep(true);
      const off = await bytesAfterStep(false);
      expect(off.bytes - on.bytes).toBe(4 * (2 * on.online + on.momentum));
    });
  });
}
