// A face-parsing model on a photo (`camd predict`) sees what training's evaluation sees: training
// views a parsing sample as its whole image (canonicalParsing, then the plain parsingView), and the
// prediction view of the whole photo is that view, pixel for pixel; the class scores of the view
// go back onto the photo's pixels where training's view took its labels from.
import { describe, expect, it } from 'vitest';
import { CLASS_MAPS } from '../../trainer/src/parsing/parsing-classes.js';
import {
  canonicalParsing,
  DEFAULT_PARSING_AUG,
  parsingPredictionView,
  parsingView,
} from '../../trainer/src/parsing/parsing-views.js';
import { photoLabels } from '../../trainer/src/parsing/parsing-predict.js';
import type { LabelMap } from '../../trainer/src/parsing/label-png.js';

// a landscape photo (wider than tall: the view pads above and below) with three coloured regions
const W = 150;
const H = 100;
function photoAndLabels(): { img: { width: number; height: number; data: Uint8Array }; labels: LabelMap } {
  const data = new Uint8Array(W * H * 3);
  const lab = new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      // skin (1) an ellipse, nose (6) a box inside it, hair (10) the top band, else background
      const inFace = ((x - 75) / 40) ** 2 + ((y - 55) / 35) ** 2 < 1;
      const cls = y < 18 ? 10 : x >= 68 && x < 84 && y >= 45 && y < 70 ? 6 : inFace ? 1 : 0;
      lab[y * W + x] = cls;
      const rgb = { 0: [30, 40, 50], 1: [220, 170, 140], 6: [200, 90, 80], 10: [60, 30, 10] }[cls as 0 | 1 | 6 | 10];
      data.set(rgb, (y * W + x) * 3);
    }
  return { img: { width: W, height: H, data }, labels: { width: W, height: H, data: lab } };
}

describe('the parsing prediction view: the whole photo, as training views a sample', () => {
  it('is the evaluation view of training, pixel for pixel, and its scores map back onto the photo’s labels', () => {
    const { img, labels } = photoAndLabels();
    const S = 32;
    const p = parsingPredictionView(img, S);
    const train = parsingView(canonicalParsing(img, labels, S, 'test'), S, CLASS_MAPS['lapa-11'].flip, DEFAULT_PARSING_AUG, null);
    expect(p.x).toEqual(train.x);
    // the view's labels as one-hot scores, back on the photo: the photo's own labels, but near region edges
    const K = 11;
    const z = new Float32Array(S * S * K);
    for (let i = 0; i < S * S; i++) z[i * K + train.y[i]!] = 1;
    const back = photoLabels(z, S, K, p, W, H);
    expect([back.width, back.height]).toEqual([W, H]);
    let same = 0;
    for (let i = 0; i < W * H; i++) if (back.data[i] === labels.data[i]) same++;
    expect(same / (W * H)).toBeGreaterThan(0.93);
    // region centres: exactly the class there (the view's 32 px hold the photo's 150: ~5 px a sample)
    const at = (x: number, y: number) => back.data[y * W + x];
    expect([at(75, 57), at(50, 60), at(75, 5), at(5, 95), at(145, 50)]).toEqual([6, 1, 10, 0, 0]);
    // the longer side fills the view: 150 photo pixels over 32 view pixels, the shorter side centred
    expect(p.scale).toBeCloseTo(W / S, 6);
    expect(p.origin[0]).toBeCloseTo(0, 6);
    expect(p.origin[1]).toBeCloseTo((H - W) / 2, 6);
  });
});
