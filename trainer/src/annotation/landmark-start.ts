/**
 * Where a person's landmark annotation of an image starts: a face-alignment run's prediction (the
 * points `camd predict` gives for the image's faces) or, where no model of the scheme exists yet,
 * the bundled face model's mesh read as 300W's 68 points (geometry/mesh68.ts). Either way the
 * largest face of the image. Both are a model's guesses, there to be corrected.
 *
 * The face mesh is read as 300W's 68 points (faces/pseudo-landmarks.ts writes those), and AFLW-19's
 * 19 are picked from them as training frames AFLW-19 faces (landmark-views.ts framePointsOf: brows'
 * ends and middles, eye corners and centres, nose, mouth corners and centre, chin, in HRNet's
 * order). WFLW-98's extra contour and brow points have no mapping: they start from a WFLW run.
 */
import { readFile } from 'node:fs/promises';
import { SCHEMES, type LandmarkScheme } from '../geometry/landmark-schemes.js';
import { CamdError } from '../util/errors.js';
import { reasonOf } from '../util/system-errors.js';

export type Point2 = [number, number];

export interface LandmarkStart {
  scheme: LandmarkScheme;
  points: Point2[];
  /** The face's box, photo pixels: x, y, width, height. */
  box: [number, number, number, number];
  /** 'mesh', or 'run:<id>' for a run's prediction. */
  source: string;
}

/** The schemes the face mesh can start. */
export const MESH_SCHEMES: readonly LandmarkScheme[] = ['300w-68', 'aflw-19'];

/** The largest face (by box area) of a list, or null for none. */
export function largestFace<F extends { box: readonly [number, number, number, number] }>(
  faces: readonly F[],
): F | null {
  let best: F | null = null;
  for (const f of faces) if (!best || f.box[2] * f.box[3] > best.box[2] * best.box[3]) best = f;
  return best;
}

/** The start from a run's prediction of an image (`camd predict`'s faces): its largest face's points. */
export function startFromPrediction(
  prediction: { scheme: string | null; faces: { box: [number, number, number, number]; points?: Point2[] }[] },
  scheme: LandmarkScheme,
  run: string,
): LandmarkStart {
  if (prediction.scheme !== scheme)
    throw new CamdError(
      'input',
      `run ${run} predicts ${prediction.scheme ?? 'no landmark'} points, not ${SCHEMES[scheme].title}`,
      'run',
    );
  const face = largestFace(prediction.faces);
  if (!face) throw new CamdError('input', `run ${run} found no face in the image`, 'image');
  if (!face.points || face.points.length !== SCHEMES[scheme].points)
    throw new CamdError('internal', `run ${run} gave ${face.points?.length ?? 0} points for ${scheme}`);
  return { scheme, points: face.points, box: face.box, source: `run:${run}` };
}

/** The start from the bundled face mesh (300W's 68 points, or AFLW-19's picked from them): the largest face of the image file. */
export async function startFromMesh(image: string, scheme: LandmarkScheme): Promise<LandmarkStart> {
  if (!MESH_SCHEMES.includes(scheme))
    throw new CamdError(
      'input',
      `the face mesh gives ${SCHEMES['300w-68'].title} and ${SCHEMES['aflw-19'].title} only; start ${SCHEMES[scheme].title} from a run of that scheme`,
      'scheme',
    );
  let bytes: Buffer;
  try {
    bytes = await readFile(image);
  } catch (e) {
    throw new CamdError('input', `cannot read ${image}: ${reasonOf(e)}`, 'image');
  }
  const { decodeRgb } = await import('../data/image-io.js');
  const { FaceDetector } = await import('../faces/detector.js');
  const img = await decodeRgb(bytes);
  const det = await FaceDetector.create();
  const face = largestFace(await det.detect(img));
  if (!face) throw new CamdError('input', `the face model found no face in ${image}`, 'image');
  const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  const { framePointsOf } = await import('../landmarks/landmark-views.js');
  const picked = framePointsOf(scheme, Float32Array.from(face.landmarks68.flat()));
  return {
    scheme,
    points: Array.from(
      { length: picked.length / 2 },
      (_, i): Point2 => [clamp(picked[2 * i]!, img.width), clamp(picked[2 * i + 1]!, img.height)],
    ),
    box: face.box,
    source: 'mesh',
  };
}
