/**
 * The face-alignment datasets' own files, read into one shape (landmark-sample.ts):
 *
 *   '300w'    a folder of images with iBUG .pts files beside them        → read-300w.ts, pts-file.ts
 *   'wflw'    an official WFLW annotation list + the WFLW_images folder  → read-wflw.ts
 *   'aflw19'  an HRNet AFLW-19 CSV + the images folder                   → read-aflw19.ts
 *
 * Each module's comment names exactly which files and columns it reads.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CamdError } from '../util/errors.js';
import { LANDMARK_FORMAT_NAMES, type LandmarkFormatName } from '../protocol/geometry-specs.js';
import { read300w } from './read-300w.js';
import { readAflw19 } from './read-aflw19.js';
import { readWflw } from './read-wflw.js';
import type { LandmarkDataset } from './landmark-sample.js';
import type { LandmarkScheme } from './landmark-schemes.js';

export { defaultAflwImages, readAflw19 } from './read-aflw19.js';
export { defaultWflwImages, readWflw } from './read-wflw.js';
export { read300w } from './read-300w.js';
export { formatPts, parsePts, readPts, writePts } from './pts-file.js';
export {
  type Box,
  type LandmarkDataset,
  LandmarkFileError,
  type LandmarkSample,
  type SkippedEntry,
  type WflwAttributes,
} from './landmark-sample.js';

export type LandmarkFormat = LandmarkFormatName;

export const LANDMARK_FORMATS: readonly LandmarkFormat[] = LANDMARK_FORMAT_NAMES;

/** The point scheme of each format. */
export const FORMAT_SCHEME: Record<LandmarkFormat, LandmarkScheme> = {
  '300w': '300w-68',
  wflw: 'wflw-98',
  aflw19: 'aflw-19',
};

export interface ReadOptions {
  /**
   * The folder the annotation's image paths are relative to (wflw, aflw19; a 300W folder holds its
   * own images). Default: where the dataset's own layout puts it — WFLW_images/ two folders above
   * the list file, images/ beside the AFLW CSV.
   */
  images?: string;
}

/**
 * Reads a landmark dataset: `path` is the 300W folder, the WFLW list file or the AFLW-19 CSV.
 * Samples whose image is missing are skipped with the reason; a malformed annotation is an error
 * naming the file and line, and so is a dataset without one usable sample.
 */
export async function readLandmarkDataset(
  format: LandmarkFormat,
  path: string,
  opts: ReadOptions = {},
): Promise<LandmarkDataset> {
  switch (format) {
    case '300w':
      if (opts.images !== undefined)
        throw new CamdError('usage', 'a 300W folder holds its own images: no separate images folder is read');
      return read300w(path);
    case 'wflw':
      return readWflw(path, opts.images);
    case 'aflw19':
      return readAflw19(path, opts.images);
    default:
      throw new CamdError('usage', `unknown landmark format '${format as string}' (${LANDMARK_FORMATS.join(', ')})`);
  }
}

/**
 * Where a format's annotations are in a dataset folder (the app's datasets are folders): a 300W
 * folder is its own (a seeded share held out for testing); WFLW's training and test lists in its
 * release layout (WFLW_annotations/list_98pt_rect_attr_train_test/list_98pt_rect_attr_{train,test}.txt,
 * with WFLW_images/ beside WFLW_annotations/) or at the top; HRNet's
 * face_landmarks_aflw_{train,test}.csv at the top or under data/aflw/. The test file is used when it
 * is there. A folder without the training annotation is refused, naming the places looked at.
 */
export function landmarkDataOf(format: LandmarkFormat, root: string): { data: string; testData?: string } {
  if (format === '300w') return { data: root };
  const wflw = (split: string) => [
    join(root, 'WFLW_annotations', 'list_98pt_rect_attr_train_test', `list_98pt_rect_attr_${split}.txt`),
    join(root, `list_98pt_rect_attr_${split}.txt`),
  ];
  const aflw = (split: string) => [
    join(root, `face_landmarks_aflw_${split}.csv`),
    join(root, 'data', 'aflw', `face_landmarks_aflw_${split}.csv`),
  ];
  const places = format === 'wflw' ? wflw : aflw;
  const data = places('train').find((p) => existsSync(p));
  if (!data)
    throw new CamdError(
      'input',
      `${root} holds no ${format === 'wflw' ? 'WFLW annotation list' : 'AFLW-19 CSV'}: looked for ${places('train')
        .map((p) => relative(root, p))
        .join(' and ')}`,
    );
  const testData = places('test').find((p) => existsSync(p));
  return testData ? { data, testData } : { data };
}
