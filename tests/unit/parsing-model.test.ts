// Face parsing's parts: the F1 metric against counts worked out by hand, the mirrored view swapping
// left and right classes by the dataset's map, label maps warped with nearest neighbours (no new
// class values), polygons filled exactly, the encoder's taps, and a training step of the UperNet
// head that leaves no tensor behind.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ParsingConfusion } from '../../trainer/src/parsing/parsing-metrics.js';
import { CLASS_MAPS } from '../../trainer/src/parsing/parsing-classes.js';
import { canonicalParsing, parsingView, warpLabels } from '../../trainer/src/parsing/parsing-views.js';
import { fillPolygon } from '../../trainer/src/parsing/polygon-fill.js';
import { ParsingModel, parsingLoss, tapBlocks } from '../../trainer/src/parsing/parsing-model.js';
import { parsingOptimizer, parsingStep } from '../../trainer/src/parsing/parsing-train.js';
import { frame } from '../../trainer/src/landmarks/landmark-views.js';
import { presetConfig } from '../../trainer/src/model/config.js';
import { layerNorm } from '../../trainer/src/model/vit.js';
import { Rng } from '../../trainer/src/util/rng.js';

describe('face parsing: metric, views, model', () => {
  it('per-class F1 = 2TP / (2TP + FP + FN) over all pixels, mean without background, pixel accuracy', () => {
    const c = new ParsingConfusion(4);
    // truth 0 0 1 1 1 2 | pred 0 1 1 1 2 2 ; then truth 1 1 | pred 1 0
    c.add([0, 1, 1, 1, 2, 2], [0, 0, 1, 1, 1, 2]);
    c.add([1, 0], [1, 1]);
    const s = c.summary();
    // class 0: TP 1, FP 1 (pred 0, truth 1), FN 1 (truth 0, pred 1) → 2/4
    // class 1: TP 3, FP 1, FN 2 → 6/9
    // class 2: TP 1, FP 1, FN 0 → 2/3 ; class 3: nowhere → null
    expect(s.f1[0]).toBeCloseTo(0.5, 12);
    expect(s.f1[1]).toBeCloseTo(6 / 9, 12);
    expect(s.f1[2]).toBeCloseTo(2 / 3, 12);
    expect(s.f1[3]).toBeNull();
    expect(s.meanF1).toBeCloseTo((6 / 9 + 2 / 3) / 2, 12);
    expect(s.pixelAccuracy).toBeCloseTo(5 / 8, 12);
    expect(s.count).toBe(2);
  });

  it("a mirrored view swaps LaPa's left and right brows and eyes; labels keep their values through warps", () => {
    const S = 16;
    const W = 40;
    // image-left half: left brow (2) above left eye (4); right half: right brow (3) above right eye (5)
    const labels = { width: W, height: W, data: new Uint8Array(W * W) };
    const img = { width: W, height: W, data: new Uint8Array(W * W * 3) };
    for (let y = 0; y < W; y++)
      for (let x = 0; x < W; x++) {
        const left = x < W / 2;
        const cls = y < W / 2 ? (left ? 2 : 3) : left ? 4 : 5;
        labels.data[y * W + x] = cls;
        img.data.fill(left ? 250 : 10, (y * W + x) * 3, (y * W + x) * 3 + 3);
      }
    const c = canonicalParsing(img, labels, S, 'test');
    expect(new Set(c.labels.data)).toEqual(new Set([0, 2, 3, 4, 5])); // background outside the image only
    const flip = CLASS_MAPS['lapa-11'].flip;
    const plain = parsingView(c, S, flip, { rotate: 0, scale: 0, shift: 0, flip: true }, null);
    const at = (v: { y: Int32Array }, x: number, y: number) => v.y[y * S + x];
    expect([at(plain, 3, 3), at(plain, 12, 3), at(plain, 3, 12), at(plain, 12, 12)]).toEqual([2, 3, 4, 5]);
    let mirrored = 0;
    for (let seed = 0; seed < 12; seed++) {
      const v = parsingView(c, S, flip, { rotate: 0, scale: 0, shift: 0, flip: true }, new Rng(seed));
      if (v.x[0]! === plain.x[0]!) continue; // not mirrored this time (the left edge is bright unmirrored)
      mirrored++;
      // the bright half is now on the right, and still labelled as the left brow and eye were: the image's
      // left holds what was on its right, renamed left
      expect([at(v, 3, 3), at(v, 12, 3), at(v, 3, 12), at(v, 12, 12)]).toEqual([2, 3, 4, 5]);
      expect(v.x[(3 * S + 12) * 3]!).toBeCloseTo(plain.x[(3 * S + 3) * 3]!, 5);
    }
    expect(mirrored).toBeGreaterThan(0);
    // a rotated, zoomed warp only moves classes: no value that was not there
    const rot = warpLabels(labels, frame([20, 20], 30, 0.4, 23));
    for (const v of rot.data) expect([0, 2, 3, 4, 5]).toContain(v);
  });

  it('a polygon fills the pixels whose centres lie inside it', () => {
    const m = { width: 6, height: 5, data: new Uint8Array(30) };
    fillPolygon(
      m,
      [
        [1, 1],
        [4, 1],
        [4, 3],
        [1, 3],
      ],
      7,
    );
    const rows = Array.from({ length: 5 }, (_, y) => [...m.data.subarray(y * 6, y * 6 + 6)].join(''));
    expect(rows).toEqual(['000000', '077700', '077700', '000000', '000000']);
  });

  it('the taps are the last block of each quarter; the last tap, fc-normed, is the patch features', () => {
    expect(tapBlocks(12)).toEqual([2, 5, 8, 11]);
    expect(tapBlocks(24)).toEqual([5, 11, 17, 23]);
    expect(tapBlocks(2)).toEqual([0, 0, 1, 1]);
    const model = new ParsingModel({ ...presetConfig('micro').model, imgSize: 32 }, 11, 8, 0, 3);
    tf.tidy(() => {
      const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
      const [a, b] = model.clf.blockOutputs(x, [0, 1]);
      expect(a!.shape).toEqual([1, 16, 32]);
      const fc = (model.clf.params.get('fc_norm.weight') as tf.Tensor).shape;
      expect(fc).toEqual([32]);
      const pf = model.clf.patchFeatures(x);
      const normed = layerNorm(b!, 1e-6); // fc_norm starts as weight 1, bias 0
      expect(tf.max(tf.abs(normed.sub(pf))).dataSync()[0]).toBeLessThan(1e-4);
    });
    expect(() => model.clf.blockOutputs(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D, [2])).toThrow(
      /block 2 is not one of 0–1/,
    );
    model.dispose();
  });

  it('logits come at the label size; a training step starts near ln 11 (+ Dice) and leaves no tensor behind', async () => {
    const model = new ParsingModel({ ...presetConfig('micro').model, imgSize: 32 }, 11, 8, 0.1, 1);
    const vars = model.variables();
    const opt = parsingOptimizer(0.05);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const y = tf.tensor3d(
      Int32Array.from({ length: 2 * 32 * 32 }, (_, i) => (i % 32 < 16 ? 1 : 6)),
      [2, 32, 32],
      'int32',
    );
    const shape = tf.tidy(() => model.logits(x).shape);
    expect(shape).toEqual([2, 32, 32, 11]);
    const rng = new Rng(4);
    const first = await parsingStep(model, opt, vars, x, y, 1e-3, 1, rng); // creates the optimiser's moments
    const before = tf.memory().numTensors;
    const second = await parsingStep(model, opt, vars, x, y, 1e-3, 1, rng);
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(first) && Number.isFinite(second)).toBe(true);
    // CE of a flat start is ln 11, Dice adds at most 1
    expect(first).toBeGreaterThan(Math.log(11) * 0.9);
    expect(first).toBeLessThan(Math.log(11) + 1.01);
    const ce = tf.tidy(
      () =>
        parsingLoss(
          tf.zeros([1, 2, 2, 11]) as tf.Tensor4D,
          tf.zeros([1, 2, 2], 'int32') as tf.Tensor3D,
          0,
        ).dataSync()[0]!,
    );
    expect(ce).toBeCloseTo(Math.log(11), 5);
    tf.dispose([x, y]);
    opt.dispose();
    model.dispose();
  });
});
