// Activation recomputation (trainer/src/ops/recompute.ts, CamdModel.recompute): the student's blocks
// keep only their inputs for the backward pass and run again there. The loss and every gradient must
// be those of the plain model, the live memory at the end of the forward pass must be much smaller,
// and nothing may leak (the nested tape of the recomputation is tfjs's trickiest corner).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { presetConfig } from '../../trainer/src/model/config.js';
import { CamdModel } from '../../trainer/src/model/camd.js';
import { CamdTrainer } from '../../trainer/src/train/step.js';
import { block, maybeRecomputedBlock, addBlock } from '../../trainer/src/model/vit.js';
import { ParamStore } from '../../trainer/src/model/params.js';
import { disposeBatch, syntheticHostBatch, toDeviceBatch } from '../../trainer/src/train/synthetic.js';
import { Rng } from '../../trainer/src/util/rng.js';
import { maxRelErr } from '../support/compare.js';

const BATCH = 4;

/** Loss, gradients and the bytes alive when the loss is computed, for one batch. */
function lossAndGrads(model: CamdModel, recompute: boolean, batch: ReturnType<typeof toDeviceBatch>) {
  model.recompute = recompute;
  let bytesAtLoss = 0;
  const out = tf.tidy(() => {
    const teacher = model.teacher(batch.x2);
    const vars = model.trainableVariables();
    const { value, grads } = tf.variableGrads(() => {
      const l = model.losses(batch, teacher).total;
      bytesAtLoss = tf.memory().numBytes;
      return l;
    }, vars);
    return { loss: value.dataSync()[0]!, grads: vars.map((v) => grads[v.name]!.dataSync().slice() as Float32Array) };
  });
  return { ...out, bytesAtLoss };
}

describe.each(['cpu', 'wasm'] as const)('recomputed activations on %s', (backend) => {
  it('give the plain model’s loss and gradients, in far less memory at the end of the forward pass, without leaks', async () => {
    await selectBackend(backend);
    const cfg = presetConfig('micro');
    const model = new CamdModel(cfg, 2);
    const b = toDeviceBatch(syntheticHostBatch(cfg, BATCH, new Rng(3)));
    const plain = lossAndGrads(model, false, b);
    const before = tf.memory().numTensors;
    const re = lossAndGrads(model, true, b);
    expect(tf.memory().numTensors).toBe(before);
    expect(re.loss).toBe(plain.loss);
    expect(re.grads.length).toBe(plain.grads.length);
    let worst = 0;
    re.grads.forEach((g, i) => (worst = Math.max(worst, maxRelErr(g, plain.grads[i]!))));
    expect(worst).toBeLessThanOrEqual(1e-6);
    // the blocks' intermediate activations are gone; what is left is inputs, weights and loss terms
    expect(re.bytesAtLoss).toBeLessThan(0.6 * plain.bytesAtLoss);
    disposeBatch(b);
    model.dispose();
  });

  it('a block with a drop-path mask has the same output and gradients recomputed (fine-tuning)', async () => {
    await selectBackend(backend);
    const store = new ParamStore();
    addBlock(store, new Rng(1), 'b', 16, 4, 'online');
    const p = (n: string) => store.get(n);
    const x = tf.randomNormal([3, 5, 16], 0, 1, 'float32', 4);
    const mask: [tf.Tensor, tf.Tensor] = [
      tf.tensor([1 / 0.9, 0, 1 / 0.9]).reshape([3, 1, 1]),
      tf.tensor([0, 1 / 0.9, 1 / 0.9]).reshape([3, 1, 1]),
    ];
    const vars = store.names().map(p);
    const run = (recompute: boolean) =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => maybeRecomputedBlock(recompute, x, p, 'b', 2, 'ln', mask).square().mean() as tf.Scalar,
          vars,
        );
        return { y: value.dataSync()[0]!, g: vars.map((v) => grads[v.name]!.dataSync().slice() as Float32Array) };
      });
    const a = run(false);
    const r = run(true);
    expect(r.y).toBe(a.y);
    r.g.forEach((g, i) => expect(maxRelErr(g, a.g[i]!)).toBeLessThanOrEqual(1e-6));
    // outside a gradient it is the plain block
    const direct = tf.tidy(() => maybeRecomputedBlock(true, x, p, 'b', 2, 'ln', mask).dataSync().slice());
    const plain = tf.tidy(() => block(x, p, 'b', 2, 'ln', mask).dataSync().slice());
    expect(Array.from(direct)).toEqual(Array.from(plain));
    tf.dispose([x, ...mask]);
    store.dispose();
  });

  it('training steps with recomputation follow the same trajectory', async () => {
    await selectBackend(backend);
    const cfg = presetConfig('micro');
    cfg.optim.warmupEpochs = 0;
    const host = syntheticHostBatch(cfg, BATCH, new Rng(9));
    const losses = async (recompute: boolean) => {
      const tr = new CamdTrainer(cfg, 6, { epochs: 100, itersPerEpoch: 10, batchSize: BATCH }, { recompute });
      const b = toDeviceBatch(host);
      const out: number[] = [];
      for (let i = 0; i < 3; i++) out.push((await tr.trainStep(b)).loss);
      disposeBatch(b);
      tr.dispose();
      return out;
    };
    const plain = await losses(false);
    const re = await losses(true);
    re.forEach((l, i) => expect(Math.abs(l - plain[i]!) / Math.abs(plain[i]!)).toBeLessThanOrEqual(1e-6));
  });
});
