/**
 * Where a person's parsing correction of one image starts (the annotate view's brush): a label map
 * of the whole image, in photo pixels, either
 *
 *   - from a face-parsing run's model (`{ model: 'parsing.safetensors' }`): the model's map of the
 *     whole image, viewed as its training views a sample (parsing/parsing-predict.ts), in the run's
 *     scheme (LaPa's 11 classes or CelebAMask-HQ's 19); or
 *   - from the bundled face mesh (`'mesh'`): the mesh regions of the image's largest face filled as
 *     `camd pseudo-label --task parsing` fills them (parsing/pseudo-parsing.ts), always LaPa's 11
 *     classes, without hair (the mesh does not reach it).
 *
 * Both are a model's guesses, for a person to correct, never labels by themselves. The mesh start
 * of an image where the face model finds no face is null (nothing to fill; the caller starts from
 * an all-background map if it wants one); the model's start is always its map of the whole image
 * (the person chose the image: no face detection is run for it). The PNG is the 8-bit greyscale
 * map `geometry.save` takes.
 */
import { readFileSync } from 'node:fs';
import { decodeRgb, type RgbImage } from '../data/image-io.js';
import { type LabelMap, encodeLabelPng } from '../parsing/label-png.js';
import type { ParsingScheme } from '../parsing/parsing-classes.js';
import { meshLabelMap } from '../parsing/pseudo-parsing.js';
import { CamdError } from '../util/errors.js';
import type { FaceDetector } from '../faces/detector.js';

export type ParsingStartFrom = { model: string } | 'mesh';

export interface ParsingStart {
  scheme: ParsingScheme;
  /** What `geometry.save` records as where the person started ('run:<id>' is the caller's to name). */
  source: 'run' | 'mesh';
  map: LabelMap;
  /** The map as an 8-bit greyscale PNG, one class index per pixel, the image's size. */
  png: Buffer;
  /** Faces the face model found on the image (the mesh start fills the largest one's regions); null for a model's start. */
  faces: number | null;
}

/** The start map of the image file `image` (decoded by the project's decoder), or null when no face is found. */
export async function parsingStart(
  image: string,
  from: ParsingStartFrom,
  opts: { backend?: string } = {},
): Promise<ParsingStart | null> {
  let img: RgbImage;
  try {
    img = await decodeRgb(readFileSync(image));
  } catch (e) {
    throw new CamdError('input', `${image}: cannot read the image (${(e as Error).message})`, 'image');
  }
  return from === 'mesh' ? meshStart(img) : modelStart(img, from.model, opts.backend);
}

/** The bundled face model, made once per process (loading it takes seconds; the annotate view asks image after image). */
let detector: Promise<FaceDetector> | null = null;
async function faceModel(): Promise<FaceDetector> {
  detector ??= import('../faces/detector.js').then(({ FaceDetector }) => FaceDetector.create());
  try {
    return await detector;
  } catch (e) {
    detector = null;
    throw e;
  }
}

async function meshStart(img: RgbImage): Promise<ParsingStart | null> {
  const det = await faceModel();
  const found = (await det.detect(img, { mesh: true })).sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
  const face = found[0];
  if (!face?.mesh) return null;
  const map = meshLabelMap(face.mesh, img.width, img.height);
  return { scheme: 'lapa-11', source: 'mesh', map, png: await encodeLabelPng(map), faces: found.length };
}

async function modelStart(img: RgbImage, model: string, backend?: string): Promise<ParsingStart> {
  const { selectBackendFor } = await import('../backends/ladder.js');
  await selectBackendFor(backend);
  const { parseImage } = await import('../parsing/parsing-predict.js');
  const { loadParsingModel } = await import('../parsing/parsing-file.js');
  const m = loadParsingModel(model);
  try {
    const map = await parseImage(m.model, img);
    return { scheme: m.scheme, source: 'run', map, png: await encodeLabelPng(map), faces: null };
  } finally {
    m.model.dispose();
  }
}
