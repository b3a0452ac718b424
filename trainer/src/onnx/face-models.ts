/**
 * `camd predict --onnx FILE --data DIR|IMAGE` for an exported face-alignment or head-pose file:
 * the same faces, views and read-out as `camd predict --checkpoint` (landmark-predict.ts,
 * pose-predict.ts), the model's forward pass in ONNX Runtime instead of ours.
 */
import { LANDMARK_SCHEMES, type LandmarkScheme } from '../geometry/landmark-schemes.js';
import { landmarkFaces } from '../landmarks/landmark-predict.js';
import { poseFaces } from '../pose/pose-predict.js';
import type { FaceModel } from '../tasks/predict-images.js';
import { UserError } from '../util/errors.js';
import { openOnnx } from './run.js';

export async function onnxFaceModel(file: string, writePts: boolean): Promise<FaceModel<unknown>> {
  const r = await openOnnx(file);
  const S = r.info.preprocessing.size;
  const close = () => void r.dispose();
  const about = { onnx: file, runtime: 'onnxruntime-node' };
  if (r.info.kind === 'landmarks') {
    const scheme = r.info.head?.['scheme'];
    const points = r.info.head?.['points'];
    if (!LANDMARK_SCHEMES.includes(scheme as LandmarkScheme) || typeof points !== 'number') {
      close();
      throw new UserError(`${file}: its camd.head metadata names no landmark scheme and number of points`);
    }
    const m = landmarkFaces(
      async (x) => (await r.run(x, 1))['landmarks']!,
      S,
      points,
      scheme as LandmarkScheme,
      writePts,
      close,
    );
    return { ...m, about: { ...m.about, ...about } } as FaceModel<unknown>;
  }
  if (r.info.kind === 'pose') {
    const m = poseFaces(async (x) => (await r.run(x, 1))['rotation']!, S, close);
    return { ...m, about: { ...m.about, ...about } } as FaceModel<unknown>;
  }
  close();
  throw new UserError(`${file} is an exported ${r.info.kind}, not a face-alignment or head-pose model`);
}
