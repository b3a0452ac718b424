/**
 * A geometry task's model on photos (`camd predict` with a landmarks.safetensors or
 * pose.safetensors, and the app's image view): every image of a folder (or the one image given) is
 * decoded, its faces found by the bundled face model, largest first, and each face handed to the
 * task's model, which says what it sees there (points, angles) in photo pixels or degrees. A model
 * that views the whole image (face parsing, as its training does) says it once per image where
 * faces were found (`onImage`), beside the faces' boxes.
 */
import { readFileSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import { selectBackend } from '../backends/ladder.js';
import { decodeRgb, type RgbImage } from '../data/image-io.js';
import { walk } from '../data/walk.js';
import type { DetectedFace } from '../faces/detector.js';

export interface FaceModel<F> {
  task: string;
  /** What the start event says of the model (its scheme, its number of points, …). */
  about: Record<string, unknown>;
  /** What the model sees on one face of a photo. */
  onFace(img: RgbImage, face: DetectedFace): Promise<F>;
  /** What the model sees of the whole image (`image`: its path), once, when it has a face; added to the prediction line. */
  onImage?(img: RgbImage, image: string): Promise<Record<string, unknown>>;
  /** After an image: e.g. its points written as a file beside it; returns that file, or null. */
  afterImage?(image: string, faces: (F & { box: DetectedFace['box'] })[]): string | null | Promise<string | null>;
  /** Files of the folder that are not photos to read (their path relative to it, '/'-separated). */
  skips?(rel: string): boolean;
  dispose(): void;
}

export type PredictionEvent<F> =
  | ({ type: 'start'; task: string; images: number; backend: string } & Record<string, unknown>)
  | ({
      type: 'prediction';
      image: string;
      faces: (F & { box: [number, number, number, number] })[];
      file: string | null;
    } & Record<string, unknown>)
  | { type: 'unread'; image: string; reason: string }
  | { type: 'done'; images: number; faces: number; seconds: number };

/** The images `data` names: itself when it is an image file, else the images under the folder. */
async function imagesOf(data: string): Promise<{ abs: string; rel: string }[]> {
  if (statSync(data).isFile()) return [{ abs: data, rel: data }];
  return (await walk(data)).files.map((f) => ({ abs: f.abs, rel: f.rel }));
}

export async function predictImages<F>(
  spec: { data: string; backend?: string },
  load: () => FaceModel<F> | Promise<FaceModel<F>>,
  emit: (e: PredictionEvent<F>) => void,
  signal?: AbortSignal,
): Promise<{ images: number; faces: number }> {
  const t0 = performance.now();
  const sel = await selectBackend((spec.backend ?? 'auto') as Parameters<typeof selectBackend>[0], {});
  const model = await load();
  const { FaceDetector } = await import('../faces/detector.js');
  const det = await FaceDetector.create();
  let images = 0;
  let faces = 0;
  try {
    const list = (await imagesOf(spec.data)).filter((f) => !model.skips?.(f.rel.split(sep).join('/')));
    emit({ type: 'start', task: model.task, ...model.about, images: list.length, backend: sel.backend });
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
      const out: (F & { box: [number, number, number, number] })[] = [];
      for (const face of found) out.push({ box: face.box, ...(await model.onFace(img, face)) });
      const whole = found.length && model.onImage ? await model.onImage(img, f.abs) : {};
      const file = (await model.afterImage?.(f.abs, out)) ?? null;
      images++;
      faces += out.length;
      emit({ type: 'prediction', image: f.rel, faces: out, ...whole, file });
    }
  } finally {
    model.dispose();
  }
  emit({ type: 'done', images, faces, seconds: (performance.now() - t0) / 1000 });
  return { images, faces };
}
