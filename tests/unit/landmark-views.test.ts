// The views face alignment trains on: points move with the pixels through the cut-out, the random
// rotation, zoom and shift, and the mirror (renumbered by the scheme's map); the heatmap model
// decodes inside the view and a training step leaves no tensor behind.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  canonical,
  DEFAULT_VIEW_AUG,
  framePointsOf,
  predictionView,
  viewOf,
} from '../../trainer/src/landmarks/landmark-views.js';
import { LandmarkModel, landmarkLoss } from '../../trainer/src/landmarks/landmark-model.js';
import { presetConfig } from '../../trainer/src/model/config.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../trainer/src/finetune/transforms.js';
import { Rng } from '../../trainer/src/util/rng.js';

// five coloured dots on a dark photo: a face-like layout (two eyes, a nose, two mouth corners)
const W = 240;
const H = 200;
const POINTS = [80, 80, 160, 80, 120, 115, 95, 150, 145, 150];
const COLOURS = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 0],
  [0, 255, 255],
];
const FLIP = [1, 0, 2, 4, 3];

function photo() {
  const data = new Uint8Array(W * H * 3).fill(20);
  for (let k = 0; k < 5; k++)
    for (let dy = -3; dy <= 3; dy++)
      for (let dx = -3; dx <= 3; dx++) {
        const o = ((POINTS[2 * k + 1]! + dy) * W + POINTS[2 * k]! + dx) * 3;
        data.set(COLOURS[k]!, o);
      }
  return { width: W, height: H, data };
}

/** The colour of the view at a point (fractions of the side), back in 0–255. */
function colourAt(x: Float32Array, S: number, fx: number, fy: number): number[] {
  const px = Math.min(S - 1, Math.max(0, Math.floor(fx * S)));
  const py = Math.min(S - 1, Math.max(0, Math.floor(fy * S)));
  const o = (py * S + px) * 3;
  return [0, 1, 2].map((c) => (x[o + c]! * IMAGENET_STD[c]! + IMAGENET_MEAN[c]!) * 255);
}

const nearest = (c: number[]) =>
  COLOURS.map((k, i) => ({ i, d: Math.hypot(k[0]! - c[0]!, k[1]! - c[1]!, k[2]! - c[2]!) })).sort(
    (a, b) => a.d - b.d,
  )[0]!;

describe('landmark views', () => {
  it('the plain view puts each point on its own dot', () => {
    const S = 64;
    const c = canonical(photo(), new Float32Array(POINTS), null, S);
    const v = viewOf(c, S, FLIP, DEFAULT_VIEW_AUG, null);
    for (let k = 0; k < 5; k++) {
      const n = nearest(colourAt(v.x, S, v.y[2 * k]!, v.y[2 * k + 1]!));
      expect(n.i, `point ${k}`).toBe(k);
      expect(n.d).toBeLessThan(120);
    }
  });

  it('augmented views (rotation, zoom, shift, mirror) keep every point on its dot, renumbered when mirrored', () => {
    const S = 96;
    const c = canonical(photo(), new Float32Array(POINTS), null, S);
    const rng = new Rng(3);
    let mirrored = 0;
    for (let t = 0; t < 12; t++) {
      const v = viewOf(c, S, FLIP, { rotate: 25, scale: 0.15, shift: 0.05, flip: true }, rng);
      const found = [0, 1, 2, 3, 4].map((k) => nearest(colourAt(v.x, S, v.y[2 * k]!, v.y[2 * k + 1]!)));
      for (const f of found) expect(f.d).toBeLessThan(140);
      const ids = found.map((f) => f.i);
      // either every point on its own dot, or (mirrored) on the dot of its left/right partner
      if (ids.every((id, k) => id === FLIP[k]) && ids.some((id, k) => id !== k)) mirrored++;
      else expect(ids).toEqual([0, 1, 2, 3, 4]);
    }
    expect(mirrored).toBeGreaterThan(0);
  });

  it('the model decodes points inside the view, and a training step leaves no tensor behind', () => {
    const model = new LandmarkModel({ ...presetConfig('micro').model, imgSize: 32 }, 5, 0, 1);
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([2, 32, 32, 3]) as tf.Tensor4D;
    const y = tf.fill([2, 5, 2], 0.3) as tf.Tensor3D;
    const vars = model.clf.params.names().map((n) => model.clf.params.get(n) as tf.Variable);
    const p = tf.tidy(() => model.predict(x));
    const v = p.arraySync() as number[][][];
    for (const row of v) for (const [px, py] of row) expect(px! > 0 && px! < 1 && py! > 0 && py! < 1).toBe(true);
    tf.tidy(() => {
      const { value } = tf.variableGrads(() => landmarkLoss(model.predict(x), y), vars);
      expect(value.dataSync()[0]).toBeGreaterThan(0);
    });
    tf.dispose([x, y, p]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('the prediction view (camd predict): framed as training frames a sample, mapped back to the photo', () => {
  it('is the evaluation view of the cut-out, and its fractions map back to the photo points', () => {
    const img = photo();
    const pts = new Float32Array(POINTS);
    const S = 64;
    const p = predictionView(img, pts, S);
    const train = viewOf(canonical(img, pts, null, S), S, FLIP, DEFAULT_VIEW_AUG, null);
    // the same pixels as the test view of training (two resamplings apart: within a few levels)
    let worst = 0;
    for (let i = 0; i < p.x.length; i++) worst = Math.max(worst, Math.abs(p.x[i]! - train.x[i]!));
    expect(worst).toBeLessThan(0.35); // in normalised units (1/255/std ≈ 0.017 a level)
    // where training puts the points in its view, the prediction view maps back to the photo's points
    for (let k = 0; k < 5; k++) {
      const [x, y] = p.toPhoto(train.y[2 * k]!, train.y[2 * k + 1]!);
      expect(x).toBeCloseTo(POINTS[2 * k]!, 3);
      expect(y).toBeCloseTo(POINTS[2 * k + 1]!, 3);
      // and the dot's colour is there in the view
      expect(nearest(colourAt(p.x, S, train.y[2 * k]!, train.y[2 * k + 1]!))).toMatchObject({ i: k });
    }
  });
});

describe('framePointsOf: the face model’s 68 points as the points of a scheme’s training frame', () => {
  it('300W and WFLW are framed by the 68 themselves; AFLW-19 by its 19 picked from them (no jaw line: a smaller frame)', () => {
    const p68 = new Float32Array(Array.from({ length: 136 }, (_, i) => (i % 2 ? 100 + i : 50 + i)));
    expect(framePointsOf('300w-68', p68)).toBe(p68);
    expect(framePointsOf('wflw-98', p68)).toBe(p68);
    const a = framePointsOf('aflw-19', p68);
    expect(a).toHaveLength(38);
    // the left brow's outer end is point 17, the chin point 8, the mouth's centre between 51 and 57
    expect([a[0], a[1]]).toEqual([p68[34], p68[35]]);
    expect([a[36], a[37]]).toEqual([p68[16], p68[17]]);
    expect(a[32]).toBeCloseTo((p68[102]! + p68[114]!) / 2, 5);
  });
});
