/**
 * The head-pose datasets' own files, read into one shape (a face's image, its rotation in the
 * 300W-LP convention of rotation.ts, its angles in degrees, and the box of its 2-D points):
 *
 *   '300w-lp'   a folder (any depth: 300W_LP/AFW/, HELEN_Flip/, …) of images `X.jpg`, each with
 *               the 3DDFA annotation `X.mat` beside it (MAT v5, as scipy.io.loadmat reads it):
 *               `Pose_Para` 1×7 = pitch, yaw, roll (radians), tx, ty, tz, scale — the first three
 *               read — and `pt2d` 2×N (N = 68 in 300W-LP, 21 in AFLW2000), x then y per point.
 *               300W-LP's landmarks/ folder (`X_pts.mat`, no image beside) is not read. The
 *               pseudo-labels of `camd pseudo-label --task pose` are written in this form.
 *   'aflw2000'  AFLW2000-3D: the same files (image00002.jpg + image00002.mat, pt2d 2×21); faces
 *               with an angle beyond ±99° are left out, as Hopenet, FSA-Net, 6DRepNet and TokenHPE
 *               leave them out of their AFLW2000 tables.
 *   'biwi'      the BIWI Kinect Head Pose database as distributed (hpdb/): folders NN/ of
 *               `frame_XXXXX_rgb.png` with `frame_XXXXX_pose.txt` beside it (three rows of the head's
 *               3×3 rotation, then the head centre in mm), read as Hopenet's and FSA-Net's BIWI
 *               loaders read it (rotation.ts `biwiPose`); frames beyond ±99° are left out as for
 *               AFLW2000. BIWI has no 2-D face box: `box` is null and the run finds the face
 *               (pose-run.ts). The depth images and the calibration files are not read.
 *
 * An image without its annotation is skipped with the reason; a malformed annotation is an error
 * naming the file.
 */
import { POSE_FORMAT_NAMES, type PoseFormatName } from '../protocol/geometry-specs.js';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { walk } from '../data/walk.js';
import { matVariable, readMat } from '../geometry/mat-file.js';
import { LandmarkFileError, parseNumber, requireFolder, type SkippedEntry } from '../geometry/landmark-sample.js';
import { mapConcurrent } from '../util/async.js';
import { CamdError } from '../util/errors.js';
import { reasonOf } from '../util/system-errors.js';
import { biwiPose, type Mat3, type PoseAngles, rotationFromDegrees } from './rotation.js';

export type PoseFormat = PoseFormatName;
export const POSE_FORMATS: readonly PoseFormat[] = POSE_FORMAT_NAMES;

/** Faces with an angle beyond this (degrees) are left out of AFLW2000 and BIWI, as the literature does. */
export const MAX_TEST_ANGLE = 99;

export interface PoseSample {
  /** Absolute path of the image. */
  image: string;
  /** The rotation (300W-LP convention, row-major). */
  R: Mat3;
  angles: PoseAngles;
  /** The box of the face's 2-D points, x0, y0, x1, y1 in image pixels; null when the dataset has none (BIWI). */
  box: [number, number, number, number] | null;
  /** The annotation file, for messages. */
  source: string;
}

export interface PoseDataset {
  format: PoseFormat;
  samples: PoseSample[];
  skipped: SkippedEntry[];
  /** Faces left out for an angle beyond ±MAX_TEST_ANGLE. */
  beyond: number;
}

const stem = (name: string) => basename(name, extname(name));
const DEG = 180 / Math.PI;

/** One 300W-LP / AFLW2000 annotation: the pose and the box of pt2d. */
export function readPoseMat(file: string): { angles: PoseAngles; box: [number, number, number, number] } {
  const mat = readMat(file);
  const pose = matVariable(mat, 'Pose_Para');
  if (pose.data.length < 3 || pose.dims.filter((d) => d > 1).length > 1)
    throw new LandmarkFileError(
      file,
      null,
      `Pose_Para is ${pose.dims.join('×')}: a row of at least 3 (pitch, yaw, roll) is needed`,
    );
  const [pitch, yaw, roll] = [pose.data[0]!, pose.data[1]!, pose.data[2]!];
  if (![pitch, yaw, roll].every(Number.isFinite))
    throw new LandmarkFileError(file, null, 'Pose_Para: pitch, yaw and roll must be finite numbers');
  const pt = matVariable(mat, 'pt2d');
  if (pt.dims.length !== 2 || pt.dims[0] !== 2 || pt.dims[1]! < 2)
    throw new LandmarkFileError(file, null, `pt2d is ${pt.dims.join('×')}: 2×N (x row, y row; N ≥ 2) is needed`);
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  // every point, as 6DRepNet's loaders take min and max of pt2d
  for (let i = 0; i < pt.data.length; i += 2) {
    const x = pt.data[i]!,
      y = pt.data[i + 1]!;
    if (!Number.isFinite(x) || !Number.isFinite(y))
      throw new LandmarkFileError(file, null, `pt2d point ${i / 2} is not finite`);
    [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
  }
  if (!(x1 > x0 && y1 > y0)) throw new LandmarkFileError(file, null, 'pt2d: the points span no area');
  return { angles: { yaw: yaw * DEG, pitch: pitch * DEG, roll: roll * DEG }, box: [x0, y0, x1, y1] };
}

/** One BIWI frame_XXXXX_pose.txt: the 3×3 rotation's rows (then the head centre, checked and not used). */
export async function readBiwiPose(file: string): Promise<PoseAngles> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new LandmarkFileError(file, null, `cannot read the pose file: ${reasonOf(e)}`);
  }
  const rows: { line: number; tokens: string[] }[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    const tokens = l.trim().split(/\s+/).filter(Boolean);
    if (tokens.length) rows.push({ line: i + 1, tokens });
  });
  if (rows.length !== 4 || rows.some((r) => r.tokens.length !== 3))
    throw new LandmarkFileError(
      file,
      null,
      `a BIWI pose file holds 4 rows of 3 numbers (the rotation's 3 rows, then the head centre); this one has ${rows.map((r) => r.tokens.length).join(', ') || 'none'}`,
    );
  const m: number[] = [];
  for (const r of rows.slice(0, 3)) for (const t of r.tokens) m.push(parseNumber(t, file, r.line, 'rotation'));
  for (const t of rows[3]!.tokens) parseNumber(t, file, rows[3]!.line, 'head centre');
  // a rotation: rows of unit length, orthogonal (BIWI writes 6 decimals)
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      const dot = m[3 * i]! * m[3 * j]! + m[3 * i + 1]! * m[3 * j + 1]! + m[3 * i + 2]! * m[3 * j + 2]!;
      if (Math.abs(dot - (i === j ? 1 : 0)) > 1e-3)
        throw new LandmarkFileError(file, null, 'the first three rows are not a rotation matrix (not orthonormal)');
    }
  return biwiPose(m);
}

const beyond = (a: PoseAngles) => Math.max(Math.abs(a.yaw), Math.abs(a.pitch), Math.abs(a.roll)) > MAX_TEST_ANGLE;

/** Images of a folder tree paired with the annotation file `annotationOf(stem)` in the same folder. */
async function pairs(
  root: string,
  what: string,
  annotationOf: (imageName: string) => string | null,
): Promise<{ pairs: { image: string; annotation: string }[]; skipped: SkippedEntry[] }> {
  await requireFolder(root, what);
  const abs = resolve(root);
  const found = await walk(await realpath(abs));
  const skipped: SkippedEntry[] = found.unreadable.map((u) => ({ path: join(abs, u.path), reason: u.reason }));
  const out: { image: string; annotation: string }[] = [];
  const listing = new Map<string, Set<string> | Error>();
  for (const f of found.files) {
    const image = join(abs, f.rel);
    const dir = dirname(image);
    if (!listing.has(dir)) {
      try {
        listing.set(dir, new Set(await readdir(dir)));
      } catch (e) {
        listing.set(dir, e as Error);
      }
    }
    const names = listing.get(dir)!;
    if (names instanceof Error) {
      skipped.push({ path: image, reason: `its folder cannot be read: ${reasonOf(names)}` });
      continue;
    }
    const want = annotationOf(basename(image));
    if (want === null) continue; // not an image of the dataset (BIWI's depth pictures)
    if (!names.has(want)) skipped.push({ path: image, reason: `no ${want} beside it` });
    else out.push({ image, annotation: join(dir, want) });
  }
  out.sort((a, b) => (a.image < b.image ? -1 : a.image > b.image ? 1 : 0));
  return { pairs: out, skipped };
}

/** Reads a head-pose dataset (`path`: the folder). */
export async function readPoseDataset(format: PoseFormat, path: string): Promise<PoseDataset> {
  if (format === '300w-lp' || format === 'aflw2000') {
    const { pairs: ps, skipped } = await pairs(
      path,
      `${format === '300w-lp' ? '300W-LP' : 'AFLW2000'} folder`,
      (n) => `${stem(n)}.mat`,
    );
    const all = await mapConcurrent(ps, 16, async ({ image, annotation }): Promise<PoseSample> => {
      const { angles, box } = readPoseMat(annotation);
      return { image, R: rotationFromDegrees(angles), angles, box, source: annotation };
    });
    const kept = format === 'aflw2000' ? all.filter((s) => !beyond(s.angles)) : all;
    const ds: PoseDataset = { format, samples: kept, skipped, beyond: all.length - kept.length };
    return nonEmptyPose(ds, path);
  }
  if (format === 'biwi') {
    const { pairs: ps, skipped } = await pairs(path, 'BIWI folder', (n) =>
      /^frame_\d+_rgb\.png$/i.test(n) ? n.replace(/_rgb\.png$/i, '_pose.txt') : null,
    );
    const all = await mapConcurrent(ps, 16, async ({ image, annotation }): Promise<PoseSample> => {
      const angles = await readBiwiPose(annotation);
      return { image, R: rotationFromDegrees(angles), angles, box: null, source: annotation };
    });
    const kept = all.filter((s) => !beyond(s.angles));
    return nonEmptyPose({ format, samples: kept, skipped, beyond: all.length - kept.length }, path);
  }
  throw new CamdError('usage', `unknown head-pose format '${format as string}' (${POSE_FORMATS.join(', ')})`);
}

/** The dataset, or an error naming the first reasons why not one face could be read. */
function nonEmptyPose(ds: PoseDataset, path: string): PoseDataset {
  if (ds.samples.length > 0) return ds;
  const first = ds.skipped
    .slice(0, 3)
    .map((s) => `${s.path}: ${s.reason}`)
    .join('; ');
  const why = [
    ds.beyond ? `${ds.beyond} beyond ±${MAX_TEST_ANGLE}°` : '',
    ds.skipped.length ? `${ds.skipped.length} skipped; ${first}` : '',
  ].filter(Boolean);
  throw new CamdError(
    'input',
    `no usable ${ds.format} faces in ${path} (${why.length ? why.join('; ') : 'nothing found'})`,
  );
}
