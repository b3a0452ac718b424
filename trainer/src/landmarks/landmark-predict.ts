/**
 * A face-alignment model's points on photos (`camd predict --checkpoint landmarks.safetensors`, and
 * the app's image view): each face is found by the bundled face model and framed as training
 * framed its samples (the box of the scheme's points, landmark-views.ts), the points that box is
 * taken from coming from the face model's 68 (framePointsOf). Points are photo pixels.
 * With `writePts`, each image gets its points as a .pts file beside it (the first face's; the
 * scheme's number of points), the layout `--format 300w` reads.
 */
import { readFileSync, statSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backends/ladder.js';
import { decodeRgb, type RgbImage } from '../data/image-io.js';
import { walk } from '../data/walk.js';
import { ptsFileOf } from '../faces/pseudo-landmarks.js';
import { writePts } from '../geometry/pts-file.js';
import type { LandmarkScheme } from '../geometry/landmark-schemes.js';
import { type LandmarkModel } from './landmark-model.js';
import { loadLandmarkModel } from './landmark-file.js';
import { framePointsOf, predictionView } from './landmark-views.js';

export interface FacePoints {
  /** The face model's box around the face, photo pixels: x, y, width, height. */
  box: [number, number, number, number];
  /** The model's points, photo pixels, in the scheme's order. */
  points: [number, number][];
}

export type LandmarkPredictionEvent =
  | { type: 'start'; scheme: LandmarkScheme; points: number; images: number; backend: string }
  | { type: 'prediction'; image: string; faces: FacePoints[]; pts: string | null }
  | { type: 'unread'; image: string; reason: string }
  | { type: 'done'; images: number; faces: number; seconds: number };

/** The model's points for one face framed by `frame` (photo pixels), mapped back to photo pixels. */
export async function pointsOfFace(m: LandmarkModel, img: RgbImage, frame: Float32Array): Promise<Float32Array> {
  const S = m.clf.spec.model.imgSize;
  const v = predictionView(img, frame, S);
  const x = tf.tensor4d(v.x, [1, S, S, 3]);
  const p = tf.tidy(() => m.predict(x));
  const f = (await p.data()) as Float32Array;
  tf.dispose([x, p]);
  const out = new Float32Array(m.points * 2);
  for (let k = 0; k < m.points; k++) {
    const q = v.toPhoto(f[2 * k]!, f[2 * k + 1]!);
    out[2 * k] = q[0];
    out[2 * k + 1] = q[1];
  }
  return out;
}

/** The images `data` names: itself when it is an image file, else the images under the folder. */
async function imagesOf(data: string): Promise<{ abs: string; rel: string }[]> {
  if (statSync(data).isFile()) return [{ abs: data, rel: data }];
  return (await walk(data)).files.map((f) => ({ abs: f.abs, rel: f.rel }));
}

export async function predictLandmarks(
  spec: { checkpoint: string; data: string; writePts?: boolean; backend?: string },
  emit: (e: LandmarkPredictionEvent) => void,
  signal?: AbortSignal,
): Promise<{ images: number; faces: number }> {
  const t0 = performance.now();
  const sel = await selectBackend((spec.backend ?? 'auto') as Parameters<typeof selectBackend>[0], {});
  const { model, scheme } = loadLandmarkModel(spec.checkpoint);
  const { FaceDetector } = await import('../faces/detector.js');
  const det = await FaceDetector.create();
  let images = 0;
  let faces = 0;
  try {
    const list = await imagesOf(spec.data);
    emit({ type: 'start', scheme, points: model.points, images: list.length, backend: sel.backend });
    for (const f of list) {
      if (signal?.aborted) break;
      let img: RgbImage;
      try {
        img = await decodeRgb(readFileSync(f.abs));
      } catch (e) {
        emit({ type: 'unread', image: f.rel, reason: (e as Error).message });
        continue;
      }
      const found = (await det.detect(img)).sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
      const out: FacePoints[] = [];
      for (const face of found) {
        const p = await pointsOfFace(model, img, framePointsOf(scheme, new Float32Array(face.landmarks68.flat())));
        out.push({
          box: face.box,
          points: Array.from({ length: model.points }, (_, k): [number, number] => [
            round2(p[2 * k]!),
            round2(p[2 * k + 1]!),
          ]),
        });
      }
      let pts: string | null = null;
      if (spec.writePts && out[0]) {
        pts = ptsFileOf(f.abs);
        writePts(pts, new Float32Array(out[0].points.flat()));
      }
      images++;
      faces += out.length;
      emit({ type: 'prediction', image: f.rel, faces: out, pts });
    }
  } finally {
    model.dispose();
  }
  emit({ type: 'done', images, faces, seconds: (performance.now() - t0) / 1000 });
  return { images, faces };
}

const round2 = (v: number) => Math.round(v * 100) / 100;
