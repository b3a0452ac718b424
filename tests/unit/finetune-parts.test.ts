// Pieces of fine-tuning (§5): RandAugment ops, pos_embed adaptation, layer-wise lr decay ids, drop path, metrics.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { applyRandOp, drawTrain, RAND_OPS, DEFAULT_AUG } from '../../trainer/src/finetune/transforms.js';
import { adaptPosEmbed, Classifier, truncNormal } from '../../trainer/src/finetune/classifier.js';
import { baselineFields, baselineWords, farMetrics, ferMetrics } from '../../trainer/src/finetune/metrics.js';
import { sincosTable2d } from '../../trainer/src/model/posembed.js';
import { presetConfig } from '../../trainer/src/model/config.js';
import { Rng } from '../../trainer/src/util/rng.js';
import { maxRelErr } from '../support/compare.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('RandAugment rand-m9-mstd0.5-inc1', () => {
  const S = 16;
  const img = () => Float32Array.from({ length: S * S * 3 }, (_, k) => (k * 37) % 256);
  it('draws 2 ops, each applied with p 0.5, magnitude ~ N(9, 0.5) within [0, 10]', () => {
    const rng = new Rng(4);
    let applied = 0;
    const mags: number[] = [];
    for (let t = 0; t < 2000; t++) {
      const d = drawTrain(100, 100, S, rng);
      expect(d.ops).toHaveLength(2);
      for (const o of d.ops) {
        applied += o.apply ? 1 : 0;
        mags.push(o.magnitude);
        expect(RAND_OPS).toContain(o.op);
      }
    }
    expect(applied / 4000).toBeGreaterThan(0.45);
    expect(applied / 4000).toBeLessThan(0.55);
    const mean = mags.reduce((a, b) => a + b) / mags.length;
    expect(mean).toBeGreaterThan(8.9);
    expect(mean).toBeLessThan(9.1);
    expect(Math.max(...mags)).toBeLessThanOrEqual(10);
    expect(drawTrain(100, 100, S, new Rng(1), { ...DEFAULT_AUG, randAugment: 'none' }).ops).toHaveLength(0);
  });
  it('every op keeps uint8 values and the image size; Invert twice is the identity; full magnitude changes pixels', () => {
    for (const op of RAND_OPS) {
      const x = img();
      applyRandOp(x, S, { op, apply: true, magnitude: 10, sign: 1 });
      expect(
        x.every((v) => Number.isInteger(v) && v >= 0 && v <= 255),
        op,
      ).toBe(true);
      if (op !== 'PosterizeIncreasing' && op !== 'Equalize' && op !== 'AutoContrast') expect(x, op).not.toEqual(img());
    }
    const y = img();
    applyRandOp(y, S, { op: 'Invert', apply: true, magnitude: 9, sign: 1 });
    applyRandOp(y, S, { op: 'Invert', apply: true, magnitude: 9, sign: 1 });
    expect(y).toEqual(img());
    const t = img();
    applyRandOp(t, S, { op: 'TranslateXRel', apply: true, magnitude: 10, sign: 1 });
    // a shift of 0.45·S to the left leaves the right part filled with the ImageNet mean colour
    expect([t[(0 * S + S - 1) * 3], t[(0 * S + S - 1) * 3 + 1], t[(0 * S + S - 1) * 3 + 2]]).toEqual([124, 116, 104]);
  });
});

describe('classifier', () => {
  it('pos_embed: same grid as loaded; sin-cos recomputed exactly; other tables interpolated', () => {
    const C = 16;
    const t4 = sincosTable2d(C, 4);
    expect(adaptPosEmbed(t4, C, 4).how).toBe('as loaded');
    const r = adaptPosEmbed(t4, C, 6);
    expect(r.how).toMatch(/recomputed/);
    expect([...r.table]).toEqual([...sincosTable2d(C, 6)]);
    const learned = t4.map((v, i) => v + (i % 5) * 0.01);
    const i = adaptPosEmbed(learned, C, 8);
    expect(i.how).toMatch(/bilinear interpolation from 4×4 to 8×8/);
    expect(i.table.length).toBe((1 + 64) * C);
    expect([...i.table.subarray(0, C)]).toEqual([...learned.subarray(0, C)]); // cls row kept
  });
  it("the head's init is timm's trunc_normal_(std=2e-5): cut at the absolute bounds ±2, so a plain normal — not cut at ±2 std", async () => {
    const stats = (v: Float32Array, std: number) => {
      const sd = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
      return {
        sd: sd / std,
        beyond2sd: v.filter((x) => Math.abs(x) > 2 * std).length / v.length,
        max: Math.max(...Array.from(v, Math.abs)),
      };
    };
    const head = stats(truncNormal(new Rng(5), 40_000, 2e-5), 2e-5);
    expect(head.sd).toBeGreaterThan(0.98); // cut at ±2 std it was 0.88
    expect(head.sd).toBeLessThan(1.02);
    expect(head.beyond2sd).toBeGreaterThan(0.04); // a normal has 4.55 % beyond 2 std
    expect(head.beyond2sd).toBeLessThan(0.051);
    // the bounds are absolute: at std 1 they cut at ±2 (torch.nn.init.trunc_normal_'s 0.88 std)
    const unit = stats(truncNormal(new Rng(6), 40_000, 1), 1);
    expect(unit.max).toBeLessThanOrEqual(2);
    expect(unit.sd).toBeGreaterThan(0.86);
    expect(unit.sd).toBeLessThan(0.9);
    // and it is what a classifier's head starts from
    const clf = new Classifier({ model: presetConfig('micro').model, outputs: 500, dropPath: 0 }, 3);
    const w = (await clf.exportTensors()).find((t) => t.name === 'head.weight')!.data;
    clf.dispose();
    const h = stats(w, 2e-5);
    expect(h.sd).toBeGreaterThan(0.96);
    expect(h.beyond2sd).toBeGreaterThan(0.035);
  });
  it('layer ids for layer-wise lr decay, drop-path masks rising over depth, logits shape', () => {
    const model = presetConfig('micro').model;
    const clf = new Classifier({ model, outputs: 5, dropPath: 0.5 }, 0);
    expect(clf.layerId('patch_embed.proj.weight')).toBe(0);
    expect(clf.layerId('cls_token')).toBe(0);
    expect(clf.layerId('blocks.1.mlp.fc1.weight')).toBe(2);
    expect(clf.layerId('head.weight')).toBe(3);
    const n = 4000;
    const masks = clf.dropPathMasks(n, new Rng(2))!;
    expect(masks.length).toBe(model.depth);
    const zero = (m: tf.Tensor) => Array.from(m.dataSync(), (v) => v === 0);
    expect(masks[0]!.every((m) => zero(m).every((z) => !z))).toBe(true); // rate 0 at the first block
    // block 1 (rate 0.5): each branch dropped for about half the samples, independently (timm's
    // DropPath twice): both at once about a quarter of the time, not half as with one shared mask
    const [attn, mlp] = masks[1]!.map(zero) as [boolean[], boolean[]];
    const frac = (f: (i: number) => boolean) => Array.from({ length: n }, (_, i) => f(i)).filter(Boolean).length / n;
    expect(frac((i) => attn[i]!)).toBeGreaterThan(0.46);
    expect(frac((i) => attn[i]!)).toBeLessThan(0.54);
    expect(frac((i) => mlp[i]!)).toBeGreaterThan(0.46);
    expect(frac((i) => mlp[i]!)).toBeLessThan(0.54);
    expect(frac((i) => attn[i]! && mlp[i]!)).toBeGreaterThan(0.22);
    expect(frac((i) => attn[i]! && mlp[i]!)).toBeLessThan(0.28);
    expect(masks[1]![0].dataSync().find((v) => v > 0)).toBeCloseTo(2, 6); // 1 / keep
    const n0 = tf.memory().numTensors;
    const logits = tf.tidy(() => clf.logits(tf.randomNormal([3, 32, 32, 3])));
    expect(logits.shape).toEqual([3, 5]);
    logits.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose(masks.flat());
    clf.dispose();
  });
});

describe('drop path per branch', () => {
  it('each residual branch is scaled by its own mask: the attention branch dropped alone leaves x + MLP(norm2 x)', async () => {
    const { block, linear, gelu, layerNorm, addBlock } = await import('../../trainer/src/model/vit.js');
    const { ParamStore } = await import('../../trainer/src/model/params.js');
    const store = new ParamStore();
    addBlock(store, new Rng(3), 'b', 8, 4, 'online');
    const p = (n: string) => store.get(n);
    const x = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 5);
    const zeros = tf.zeros([2, 1, 1]);
    const ones = tf.ones([2, 1, 1]);
    const both = tf.tidy(() => block(x, p, 'b', 2, 'ln', [zeros, zeros]).dataSync().slice());
    expect(Array.from(both)).toEqual(Array.from(x.dataSync())); // both dropped: the identity
    const onlyMlp = tf.tidy(() => block(x, p, 'b', 2, 'ln', [zeros, ones]).dataSync().slice());
    const expected = tf.tidy(() => {
      const h = layerNorm(x, 1e-6, p('b.norm2.weight'), p('b.norm2.bias'));
      return x
        .add(
          linear(
            gelu(linear(h, p('b.mlp.fc1.weight'), p('b.mlp.fc1.bias'))),
            p('b.mlp.fc2.weight'),
            p('b.mlp.fc2.bias'),
          ),
        )
        .dataSync()
        .slice();
    });
    expect(maxRelErr(onlyMlp, expected)).toBeLessThan(1e-6);
    expect(Array.from(onlyMlp)).not.toEqual(Array.from(both));
    tf.dispose([x, zeros, ones]);
    store.dispose();
  });
});

describe('metrics', () => {
  it('FAR mean accuracy over attributes (logit > 0 ⇔ sigmoid > 0.5)', () => {
    const m = farMetrics(
      Float32Array.from([1, -1, -2, 3]),
      [
        [1, 1],
        [0, 1],
      ],
      ['A', 'B'],
    );
    expect(m.per_attribute).toEqual({ A: 1, B: 0.5 });
    expect(m.value).toBe(0.75);
  });
  it('FER top-1, per-class accuracy and confusion', () => {
    const m = ferMetrics(Float32Array.from([2, 1, 0, 0, 3, 1, 0, 5, 9]), [0, 1, 1], ['a', 'b', 'c']);
    expect(m.value).toBeCloseTo(2 / 3, 12);
    expect(m.confusion).toEqual([
      [1, 0, 0],
      [0, 1, 1],
      [0, 0, 0],
    ]);
    expect(m.per_class['b']).toBe(0.5);
    expect(m.baselines).toEqual({ majority: 2 / 3, chance: 1 / 3, majority_class: 'b' });
    expect(m.predicted_classes).toEqual(['a', 'b', 'c']);
    expect(baselineFields(m)).toEqual({ majority: 2 / 3, chance: 1 / 3, one_answer: null });
  });
  it('baselines: a model that answers one class for every face is told, and scores exactly the majority class', () => {
    // 5 faces, 4 of class "neutral": always "neutral" is right 4 times in 5
    const logits = Float32Array.from([0, 9, 0, 9, 0, 9, 0, 9, 0, 9]);
    const m = ferMetrics(logits, [1, 1, 0, 1, 1], ['happy', 'neutral']);
    expect([m.value, m.baselines.majority, m.baselines.majority_class]).toEqual([0.8, 0.8, 'neutral']);
    expect(m.predicted_classes).toEqual(['neutral']);
    const f = baselineFields(m);
    expect(f.one_answer).toBe('neutral');
    expect(baselineWords(m.value, f, 'top1')).toBe(
      'majority class 80.0 %, chance 50.0 % — the model answers neutral for every face: no better than always answering it',
    );
    // a model that varies but does no better than the majority, and one that does better
    const same = ferMetrics(Float32Array.from([9, 0, 0, 9, 0, 9, 0, 9, 0, 9]), [1, 0, 0, 1, 1], ['happy', 'neutral']);
    expect(baselineWords(same.value, baselineFields(same), 'top1')).toBe(
      'majority class 60.0 %, chance 50.0 % — no better than always giving the most common answer',
    );
    const good = ferMetrics(Float32Array.from([9, 0, 9, 0, 0, 9, 0, 9, 0, 9]), [0, 0, 1, 1, 1], ['happy', 'neutral']);
    expect(baselineWords(good.value, baselineFields(good), 'top1')).toBe('majority class 60.0 %, chance 50.0 %');
    // attributes: the majority answer per attribute, and the attributes never varied
    const far = farMetrics(
      Float32Array.from([1, -1, 1, 1, 1, -1, 1, 1]),
      [
        [1, 0],
        [1, 1],
        [0, 0],
        [1, 0],
      ],
      ['Smiling', 'Eyeglasses'],
    );
    expect(far.baselines).toEqual({ majority: (3 / 4 + 3 / 4) / 2, chance: 0.5 });
    expect(far.constant_attributes).toEqual(['Smiling']);
    expect(baselineFields(far).one_answer).toBe('1 of 2 attributes the same for every face');
  });
});
