/**
 * A face-alignment model's points on photos (`camd predict --checkpoint landmarks.safetensors`, and
 * the app's image view): each face is found by the bundled face model and framed as training
 * framed its samples (the box of the scheme's points, landmark-views.ts), the points that box is
 * taken from coming from the face model's 68 (framePointsOf). Points are photo pixels.
 * With `writePts`, each image gets its points as a .pts file beside it (the first face's; the
 * scheme's number of points), the layout `--format 300w` reads.
 */
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../data/image-io.js';
import { ptsFileOf } from '../faces/pseudo-landmarks.js';
import { writePts as writePtsFile } from '../geometry/pts-file.js';
import type { FaceModel } from '../tasks/predict-images.js';
import { type LandmarkModel } from './landmark-model.js';
import { loadLandmarkModel } from './landmark-file.js';
import { framePointsOf, predictionView } from './landmark-views.js';
import type { LandmarkScheme } from '../geometry/landmark-schemes.js';

/** The points of a batch of one view (1, S, S, 3), normalised: (x, y) pairs as fractions of the side. */
export type PointsOf = (x: Float32Array) => Promise<Float32Array>;

/** The model's points for one face framed by `frame` (photo pixels), mapped back to photo pixels. */
export async function pointsOfFace(
  predict: PointsOf,
  S: number,
  points: number,
  img: RgbImage,
  frame: Float32Array,
): Promise<Float32Array> {
  const v = predictionView(img, frame, S);
  const f = await predict(v.x);
  const out = new Float32Array(points * 2);
  for (let k = 0; k < points; k++) {
    const q = v.toPhoto(f[2 * k]!, f[2 * k + 1]!);
    out[2 * k] = q[0];
    out[2 * k + 1] = q[1];
  }
  return out;
}

/** Our model as a PointsOf. */
export function pointsOfModel(m: LandmarkModel): PointsOf {
  const S = m.clf.spec.model.imgSize;
  return async (v) => {
    const x = tf.tensor4d(v, [1, S, S, 3]);
    const p = tf.tidy(() => m.predict(x));
    const f = (await p.data()) as Float32Array;
    tf.dispose([x, p]);
    return f;
  };
}

/** The face-alignment model of `file` for predictImages; `writePts`: each image's points (its largest face's) as a .pts beside it. */
export function landmarkFaceModel(file: string, writePts: boolean): FaceModel<{ points: [number, number][] }> {
  const { model, scheme } = loadLandmarkModel(file);
  return landmarkFaces(pointsOfModel(model), model.clf.spec.model.imgSize, model.points, scheme, writePts, () =>
    model.dispose(),
  );
}

/** A face-alignment model (ours, or an exported file in ONNX Runtime) for predictImages. */
export function landmarkFaces(
  predict: PointsOf,
  S: number,
  points: number,
  scheme: LandmarkScheme,
  writePts: boolean,
  dispose: () => void,
): FaceModel<{ points: [number, number][] }> {
  return {
    task: 'landmarks',
    about: { scheme, points },
    onFace: async (img, face) => {
      const p = await pointsOfFace(
        predict,
        S,
        points,
        img,
        framePointsOf(scheme, new Float32Array(face.landmarks68.flat())),
      );
      return {
        points: Array.from({ length: points }, (_, k): [number, number] => [round2(p[2 * k]!), round2(p[2 * k + 1]!)]),
      };
    },
    afterImage: (image, faces) => {
      if (!writePts || !faces[0]) return null;
      const pts = ptsFileOf(image);
      writePtsFile(pts, new Float32Array(faces[0].points.flat()));
      return pts;
    },
    dispose,
  };
}

const round2 = (v: number) => Math.round(v * 100) / 100;
