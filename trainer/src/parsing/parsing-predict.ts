/**
 * A face-parsing model on photos (`camd predict --checkpoint parsing.safetensors`, the app's image
 * view, and the annotate view's start map). Training views a parsing sample as its whole image
 * (LaPa's and CelebAMask-HQ's images are face crops: parsing-views.ts centres the image, its longer
 * side filling the view), so a photo is viewed the same way — the whole image, through the same
 * cut-out and evaluation frame (`parsingPredictionView`) — not cut around each face: a model
 * trained on face crops wants face crops (`camd scan --faces` makes them), one trained on whole
 * photos wants whole photos. The per-pixel class logits are interpolated bilinearly back to every
 * photo pixel and the largest taken, so the label map has the photo's size.
 * Faces still gate it: an image where the bundled face model finds no face gets no map, as the
 * other face tasks say nothing there. With `writePng`, each image's map is written in LaPa's layout
 * (`labels/<image's path, .png>` under the folder given), which `--format lapa` reads back; PNGs
 * under a `labels/` folder are label maps, not photos, and are not parsed.
 */
import { mkdirSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../data/rgb-image.js';
import type { FaceModel } from '../tasks/predict-images.js';
import { UserError } from '../util/errors.js';
import { classCounts, encodeLabelPng, type LabelMap, writeLabelPng } from './label-png.js';
import type { ParsingModel } from './parsing-model.js';
import { loadParsingModel } from './parsing-file.js';
import { parsingPredictionView } from './parsing-views.js';
import { lapaImagesDir, lapaLabelOf } from './read-lapa.js';

/** The model's label map of a whole photo, in photo pixels (the view's logits back on the photo: `photoLabels`). */
export async function parseImage(m: ParsingModel, img: RgbImage): Promise<LabelMap> {
  return parseImageWith(modelLogits(m), m.side, m.classes, img);
}

/** Per-pixel class logits (S, S, K) of one view (1, S, S, 3), normalised: ours, or an exported file in ONNX Runtime. */
export type ParsingLogitsOf = (x: Float32Array) => Promise<Float32Array>;

/** Our model as a ParsingLogitsOf. */
export function modelLogits(m: ParsingModel): ParsingLogitsOf {
  const S = m.side;
  return async (v) => {
    const x = tf.tensor4d(v, [1, S, S, 3]);
    const l = tf.tidy(() => m.logits(x));
    const z = (await l.data()) as Float32Array;
    tf.dispose([x, l]);
    return z;
  };
}

/** The label map of a whole photo from the logits of its view. */
export async function parseImageWith(
  logitsOf: ParsingLogitsOf,
  S: number,
  K: number,
  img: RgbImage,
): Promise<LabelMap> {
  const v = parsingPredictionView(img, S);
  return photoLabels(await logitsOf(v.x), S, K, v, img.width, img.height);
}

export function photoLabels(
  z: Float32Array,
  S: number,
  K: number,
  view: { origin: readonly [number, number]; scale: number },
  W: number,
  H: number,
): LabelMap {
  const data = new Uint8Array(W * H);
  const at = (p: number, o: number) => Math.min(S - 1, Math.max(0, (p + 0.5 - o) / view.scale - 0.5));
  const cx0 = new Int32Array(W);
  const cx1 = new Int32Array(W);
  const wx = new Float32Array(W);
  for (let xx = 0; xx < W; xx++) {
    const g = at(xx, view.origin[0]);
    cx0[xx] = Math.floor(g);
    cx1[xx] = Math.min(S - 1, cx0[xx]! + 1);
    wx[xx] = g - cx0[xx]!;
  }
  for (let yy = 0; yy < H; yy++) {
    const g = at(yy, view.origin[1]);
    const r0 = Math.floor(g);
    const r1 = Math.min(S - 1, r0 + 1);
    const wy = g - r0;
    for (let xx = 0; xx < W; xx++) {
      const a = (r0 * S + cx0[xx]!) * K;
      const b = (r0 * S + cx1[xx]!) * K;
      const c = (r1 * S + cx0[xx]!) * K;
      const d = (r1 * S + cx1[xx]!) * K;
      const w = wx[xx]!;
      let best = 0;
      let bestScore = -Infinity;
      for (let k = 0; k < K; k++) {
        const top = z[a + k]! + (z[b + k]! - z[a + k]!) * w;
        const bottom = z[c + k]! + (z[d + k]! - z[c + k]!) * w;
        const score = top + (bottom - top) * wy;
        if (score > bestScore) {
          bestScore = score;
          best = k;
        }
      }
      data[yy * W + xx] = best;
    }
  }
  return { width: W, height: H, data };
}

/** What a prediction line says of an image's parsing: the class names, the map as a PNG over its place, each class's pixels. */
export interface ParsingPrediction {
  classes: string[];
  /** An 8-bit greyscale PNG (base64) of class indices, covering photo pixels x … x + width, y … y + height. */
  map: { png: string; x: number; y: number; width: number; height: number };
  counts: number[];
}

/** The face-parsing model of `file` for predictImages; `writeUnder`: each image's map in LaPa's layout under that folder. */
export function parsingFaceModel(file: string, writeUnder: string | null): FaceModel<Record<string, never>> {
  const { model, scheme, names } = loadParsingModel(file);
  return parsingFaces(modelLogits(model), model.side, scheme, names, writeUnder, () => model.dispose());
}

/** A face-parsing model (ours, or an exported file in ONNX Runtime) for predictImages. */
export function parsingFaces(
  logitsOf: ParsingLogitsOf,
  S: number,
  scheme: string,
  names: readonly string[],
  writeUnder: string | null,
  dispose: () => void,
): FaceModel<Record<string, never>> {
  const imagesDir = writeUnder ? lapaImagesDir(writeUnder) : null;
  const maps = new Map<string, LabelMap>();
  return {
    task: 'parsing',
    about: { scheme, classes: names, framing: 'the whole image, as training views its samples' },
    // label maps (LaPa's labels/ folders, an earlier --write-png's) are no photos to parse
    skips: (rel) => /(^|\/)labels\/.*\.png$/i.test(rel),
    onFace: async () => ({}),
    onImage: async (img, image) => {
      const m = await parseImageWith(logitsOf, S, names.length, img);
      maps.set(image, m);
      const parsing: ParsingPrediction = {
        classes: [...names],
        map: { png: (await encodeLabelPng(m)).toString('base64'), x: 0, y: 0, width: m.width, height: m.height },
        counts: classCounts(m, names.length, image),
      };
      return { parsing };
    },
    afterImage: async (image) => {
      const m = maps.get(image);
      maps.delete(image);
      if (!writeUnder || !imagesDir || !m) return null;
      // labels/ mirrors images/ (LaPa); a photo outside images/ is placed by its path under the folder
      const inImages = !relative(imagesDir, image).startsWith('..');
      const out = lapaLabelOf(writeUnder, inImages ? imagesDir : writeUnder, image);
      if (resolve(out) === resolve(image)) throw new UserError(`${image}: its label map would overwrite it`);
      mkdirSync(dirname(out), { recursive: true });
      await writeLabelPng(out, m);
      return out;
    },
    dispose,
  };
}
