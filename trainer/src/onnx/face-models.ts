/**
 * `camd predict --onnx FILE --data DIR|IMAGE` for an exported face-alignment, head-pose or parsing
 * file: the same faces, views and read-out as `camd predict --checkpoint` (landmark-predict.ts,
 * pose-predict.ts, parsing-predict.ts), the model's forward pass in ONNX Runtime instead of ours.
 */
import { LANDMARK_SCHEMES, type LandmarkScheme } from '../geometry/landmark-schemes.js';
import { landmarkFaces } from '../landmarks/landmark-predict.js';
import { poseFaces } from '../pose/pose-predict.js';
import { parsingFaces } from '../parsing/parsing-predict.js';
import type { FaceModel } from '../tasks/predict-images.js';
import { UserError } from '../util/errors.js';
import { openOnnx } from './run.js';

export async function onnxFaceModel(
  file: string,
  writePts: boolean,
  writeUnder: string | null,
): Promise<FaceModel<unknown>> {
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
  if (r.info.kind === 'parsing') {
    const scheme = r.info.head?.['scheme'];
    const names = r.info.names;
    if (typeof scheme !== 'string' || !names) {
      close();
      throw new UserError(`${file}: its metadata names no parsing scheme and classes`);
    }
    const K = names.length;
    // the file's logits are NCHW (1, K, S, S); ours, which the read-out takes, (S, S, K)
    const logitsOf = async (x: Float32Array) => {
      const z = (await r.run(x, 1))['logits']!;
      const out = new Float32Array(z.length);
      for (let k = 0; k < K; k++) for (let p = 0; p < S * S; p++) out[p * K + k] = z[k * S * S + p]!;
      return out;
    };
    const m = parsingFaces(logitsOf, S, scheme, names, writeUnder, close);
    return { ...m, about: { ...m.about, ...about } } as FaceModel<unknown>;
  }
  close();
  throw new UserError(
    `${file} is an exported ${r.info.kind}: camd predict --data takes a face-alignment, head-pose or parsing file`,
  );
}
