// Training-step behaviour on a micro configuration (width 32, depth 2, 32 px, batch 4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, probeAll } from '../../trainer/src/backends/ladder.js';
import { presetConfig, type CamdConfig } from '../../trainer/src/model/config.js';
import { CamdTrainer } from '../../trainer/src/train/step.js';
import { hasMomentumCopy } from '../../trainer/src/model/camd.js';
import { disposeBatch, syntheticHostBatch, toDeviceBatch, type HostBatch } from '../../trainer/src/train/synthetic.js';
import { AdamW, clipCoefficient, decays } from '../../trainer/src/optim/adamw.js';
import { learningRateAt, momentumAt } from '../../trainer/src/optim/schedule.js';
import { stepRows } from '../support/steps.js';
import { Rng } from '../../trainer/src/util/rng.js';

const BATCH = 4;

function microConfig(): CamdConfig {
  const cfg = presetConfig('micro');
  cfg.optim.warmupEpochs = 0; // so that the first steps already update
  cfg.optim.blr = 0.05; // lr = 0.05·4/256 ≈ 7.8e-4
  return cfg;
}

function snapshot(tr: CamdTrainer, names: string[]): Map<string, Float32Array> {
  return new Map(names.map((n) => [n, tr.model.params.valuesSync(n)]));
}

function changed(a: Float32Array, b: Float32Array): boolean {
  return a.some((v, i) => v !== b[i]);
}

let host: HostBatch;

beforeAll(async () => {
  await selectBackend('wasm');
  host = syntheticHostBatch(microConfig(), BATCH, new Rng(7));
});

describe('EMA and frozen parameters', () => {
  it('EMA moves exactly the momentum copies of the listed modules (§2.1), nothing else', () => {
    const tr = new CamdTrainer(microConfig(), 1, { epochs: 10, itersPerEpoch: 5, batchSize: BATCH });
    // perturb every online parameter so that the EMA has something to move towards
    tf.tidy(() => {
      for (const n of tr.model.params.names()) {
        if (tr.model.params.roles.get(n) === 'momentum') continue;
        const v = tr.model.params.get(n);
        v.assign(v.add(0.1));
      }
    });
    const all = tr.model.params.names();
    const before = snapshot(tr, all);
    tr.model.emaUpdate(0.9);
    const after = snapshot(tr, all);
    const moved = all.filter((n) => changed(before.get(n)!, after.get(n)!));
    const expected = tr.model.params.names('momentum');
    expect(moved.sort()).toEqual(expected.sort());
    // the listed modules, and only those, have momentum copies
    expect(expected.some((n) => n.startsWith('mm_predictor'))).toBe(false);
    expect(
      expected.some(
        (n) => n.startsWith('mm_decoder_pred') || n.startsWith('mm_decoder_pos_mlp') || n.startsWith('mm_multihead'),
      ),
    ).toBe(false);
    for (const p of [
      'mm_patch_embed.proj.weight',
      'mm_cls_token',
      'mm_blocks.0.attn.qkv.weight',
      'mm_decoder_embed.weight',
      'mm_projector_decoder_blocks.1.norm1.weight',
      'mm_mask_token',
    ]) {
      expect(expected).toContain(p);
    }
    // value check: θ_mm ← 0.9·θ_mm + 0.1·θ_online
    const mm = before.get('mm_cls_token')!;
    const on = before.get('cls_token')!;
    const got = after.get('mm_cls_token')!;
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(0.9 * mm[i]! + 0.1 * on[i]!, 5);
    tr.dispose();
  });

  it('the frozen patch embedding gets no update; trainable parameters do', async () => {
    const tr = new CamdTrainer(microConfig(), 2, { epochs: 10, itersPerEpoch: 5, batchSize: BATCH });
    const names = [
      'patch_embed.proj.weight',
      'patch_embed.proj.bias',
      'blocks.0.attn.qkv.weight',
      'predictor_decoder_blocks.0.mlp.fc1.weight',
      'multihead_attention_topk.k_proj.weight',
      'decoder_pos_mlp.weight',
      'mask_token',
      'cls_token',
    ];
    const before = snapshot(tr, names);
    const b = toDeviceBatch(host);
    await tr.trainStep(b);
    await tr.trainStep(b);
    disposeBatch(b);
    const after = snapshot(tr, names);
    expect(changed(before.get('patch_embed.proj.weight')!, after.get('patch_embed.proj.weight')!)).toBe(false);
    expect(changed(before.get('patch_embed.proj.bias')!, after.get('patch_embed.proj.bias')!)).toBe(false);
    for (const n of names.slice(2)) expect(changed(before.get(n)!, after.get(n)!), n).toBe(true);
    expect(tr.model.trainableVariables().length).toBe(tr.model.params.names('online').length);
    expect(tr.model.params.names('online')).not.toContain('patch_embed.proj.weight');
    tr.dispose();
  });

  it('hasMomentumCopy follows the list of §2.1', () => {
    expect(hasMomentumCopy('blocks.3.mlp.fc2.bias')).toBe(true);
    expect(hasMomentumCopy('predictor_decoder_blocks.0.norm1.weight')).toBe(false);
    expect(hasMomentumCopy('decoder_pred.weight')).toBe(false);
    expect(hasMomentumCopy('mask_token')).toBe(true);
  });
});

describe('optimiser and schedules (§4, §2.1)', () => {
  it('weight-decay grouping: no decay for ndim ≤ 1 or .bias; tokens are decayed', () => {
    expect(decays('cls_token', [1, 1, 192])).toBe(true);
    expect(decays('mask_token', [1, 1, 192])).toBe(true);
    expect(decays('blocks.0.attn.qkv.weight', [192, 576])).toBe(true);
    expect(decays('blocks.0.attn.qkv.bias', [576])).toBe(false);
    expect(decays('blocks.0.norm1.weight', [192])).toBe(false);
    expect(decays('multihead_attention_topk.q_proj.weight', [192, 192])).toBe(true);
  });

  it('AdamW matches PyTorch’s update rule over 3 steps', () => {
    const opt = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.05 });
    const p = tf.variable(
      tf.tensor2d([
        [1, -2],
        [3, 0.5],
      ]),
    );
    const params = new Map([['w.weight', p]]);
    const gs = [
      [0.1, -0.2, 0.3, 0.0],
      [-0.5, 0.1, 0.2, 0.4],
      [0.05, 0.05, -0.1, 0.2],
    ];
    // reference, written out from torch.optim.AdamW
    const ref = [1, -2, 3, 0.5];
    const m = [0, 0, 0, 0];
    const v = [0, 0, 0, 0];
    const lr = 0.01;
    gs.forEach((g, t) => {
      opt.apply(params, new Map([['w.weight', tf.tensor2d(g, [2, 2])]]), lr);
      const step = t + 1;
      for (let i = 0; i < 4; i++) {
        ref[i]! *= 1 - lr * 0.05;
        m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
        v[i] = 0.95 * v[i]! + 0.05 * g[i]! * g[i]!;
        const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - 0.95 ** step) + 1e-8;
        ref[i]! -= (lr / (1 - 0.9 ** step)) * (m[i]! / denom);
      }
    });
    const got = p.dataSync();
    ref.forEach((r, i) => expect(got[i]).toBeCloseTo(r, 5));
    opt.dispose();
    p.dispose();
  });

  it('global-norm clipping scales to max norm 1 and leaves small gradients alone', () => {
    const big = new Map([
      ['a', tf.tensor1d([3, 0])],
      ['b', tf.tensor1d([0, 4])],
    ]);
    const { norm, coef } = clipCoefficient(big, 1);
    expect(norm.dataSync()[0]).toBeCloseTo(5, 5);
    expect(coef!.dataSync()[0]).toBeCloseTo(0.2, 5);
    const small = new Map([['a', tf.tensor1d([0.3, 0])]]);
    expect(clipCoefficient(small, 1).coef!.dataSync()[0]).toBe(1);
    expect(clipCoefficient(small, 0).coef).toBeNull();
  });

  it('warm-up + cosine lr and cosine momentum', () => {
    expect(learningRateAt(0, 1, 5, 400, 0)).toBe(0);
    expect(learningRateAt(2.5, 1, 5, 400, 0)).toBeCloseTo(0.5, 12);
    expect(learningRateAt(5, 1, 5, 400, 0)).toBeCloseTo(1, 12);
    expect(learningRateAt(202.5, 1, 5, 400, 0)).toBeCloseTo(0.5, 12);
    expect(learningRateAt(400, 1, 5, 400, 1e-6)).toBeCloseTo(1e-6, 12);
    expect(momentumAt(0, 0.995, 400, 'cosine')).toBeCloseTo(0.995, 12);
    expect(momentumAt(200, 0.995, 400, 'cosine')).toBeCloseTo(0.9975, 12);
    expect(momentumAt(400, 0.995, 400, 'cosine')).toBeCloseTo(1, 12);
    expect(momentumAt(123, 0.995, 400, 'const')).toBe(0.995);
  });
});

describe('training', () => {
  it('loss decreases over 20 steps on a fixed small batch', async () => {
    const tr = new CamdTrainer(microConfig(), 3, { epochs: 100, itersPerEpoch: 10, batchSize: BATCH });
    const b = toDeviceBatch(host);
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) losses.push((await tr.trainStep(b)).loss);
    disposeBatch(b);
    tr.dispose();
    expect(losses.every(Number.isFinite)).toBe(true);
    const first = losses.slice(0, 3).reduce((s, v) => s + v) / 3;
    const last = losses.slice(-3).reduce((s, v) => s + v) / 3;
    expect(last).toBeLessThan(first * 0.9);
  });

  it('no tensor leaks across steps', async () => {
    const tr = new CamdTrainer(microConfig(), 4, { epochs: 100, itersPerEpoch: 10, batchSize: BATCH });
    const b = toDeviceBatch(host);
    await tr.trainStep(b); // creates the AdamW slots
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await tr.trainStep(b);
    await tr.evaluate(b);
    expect(tf.memory().numTensors).toBe(n0);
    disposeBatch(b);
    const before = tf.memory().numTensors;
    tr.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
  });
});

describe('one training step on every available backend gives the same losses', () => {
  const results = new Map<string, number[][]>();
  afterAll(async () => {
    await selectBackend('wasm');
  });
  it('runs on each backend from the same seed and weights', async () => {
    const { reports } = await probeAll();
    const available = [...new Set(reports.filter((r) => r.loaded).map((r) => r.backend))];
    expect(available).toContain('wasm');
    expect(available).toContain('cpu');
    for (const backend of available) {
      await selectBackend(backend);
      const tr = new CamdTrainer(microConfig(), 5, { epochs: 100, itersPerEpoch: 10, batchSize: BATCH });
      const b = toDeviceBatch(host);
      const steps = await stepRows(tr, b, 2);
      disposeBatch(b);
      tr.dispose();
      results.set(backend, steps);
    }
    const ref = results.get('cpu')!;
    for (const [backend, steps] of results) {
      steps.forEach((s, i) =>
        s.forEach((v, j) => {
          const r = ref[i]![j]!;
          expect(Math.abs(v - r) / Math.max(Math.abs(r), 1e-6), `${backend} step ${i} value ${j}`).toBeLessThanOrEqual(
            1e-3,
          );
        }),
      );
    }
    // the second step saw an update: its loss differs from the first
    expect(ref[1]![0]).not.toBe(ref[0]![0]);
  });
});

describe('parameter counts', () => {
  it('the analytic count equals the built model for micro and tiny', async () => {
    const { parameterCounts } = await import('../../trainer/src/model/config.js');
    for (const preset of ['micro', 'tiny'] as const) {
      const cfg = presetConfig(preset);
      const tr = new CamdTrainer(cfg, 0, { epochs: 1, itersPerEpoch: 1, batchSize: 1 });
      const c = parameterCounts(cfg.model);
      expect(c.online).toBe(tr.model.params.count('online'));
      expect(c.frozen).toBe(tr.model.params.count('frozen'));
      expect(c.momentum).toBe(tr.model.params.count('momentum'));
      tr.dispose();
    }
  });
});
