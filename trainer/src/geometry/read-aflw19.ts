/**
 * AFLW-19 in the CSV layout of HRNet-Facial-Landmark-Detection (data/aflw/face_landmarks_aflw_train.csv,
 * face_landmarks_aflw_test.csv, face_landmarks_aflw_test_frontal.csv; distributed with its
 * annotations, not in the repository). One header row, then 43 columns per face, read by position
 * as HRNet's lib/datasets/aflw.py reads them (iloc[idx, 0…4] and iloc[idx, 5:]):
 *
 *   0      image_name   the image path relative to the images folder (HRNet: data/aflw/images/)
 *   1      scale        HRNet's crop scale (its crop is 200 · scale · 1.25 pixels wide): checked, not kept
 *   2      box_size     the face size, the NME normaliser of HRNet's lib/core/evaluation.py
 *   3, 4   center_w, center_h   the face centre
 *   5–42   x0, y0 … x18, y18    the 19 points, image pixels
 *
 * The points are taken as 0-based as written: HRNet adds 1 before its 1-based transform_pixel and
 * takes it off after. The box is the square of side box_size about the centre:
 * [center_w − box_size/2, center_h − box_size/2, box_size, box_size], so sqrt(w·h) is box_size.
 */
import { dirname, join } from 'node:path';
import { csvFields } from '../labels/label-files.js';
import {
  coordinateName,
  imageInside,
  keepReadable,
  type LandmarkDataset,
  LandmarkFileError,
  type LandmarkSample,
  nonEmpty,
  parseNumbers,
  readLines,
  requireFolder,
} from './landmark-sample.js';
import { SCHEMES } from './landmark-schemes.js';

const K = SCHEMES['aflw-19'].points;
const META = ['scale', 'box_size', 'center_w', 'center_h'];
const COLUMNS = 1 + META.length + 2 * K;
const HEADER = `image_name,${META.join(',')},<${2 * K} point coordinates>`;

/** Where HRNet's layout puts the images: the images folder beside the CSV. */
export function defaultAflwImages(csvFile: string): string {
  return join(dirname(csvFile), 'images');
}

/** The header row: 43 columns, not a row of data (which would otherwise be lost as the header). */
function checkHeader(fields: readonly string[], file: string, line: number): void {
  if (fields.length !== COLUMNS)
    throw new LandmarkFileError(file, line, `the header has ${fields.length} columns; expected ${COLUMNS} (${HEADER})`);
  if (fields.slice(1).every((f) => f !== '' && Number.isFinite(Number(f))))
    throw new LandmarkFileError(file, line, `the first row is data, not the header (${HEADER})`);
}

/** One row, or an error naming the file and line. */
function parseRow(fields: readonly string[], file: string, line: number, images: string): LandmarkSample {
  if (fields.length !== COLUMNS)
    throw new LandmarkFileError(file, line, `expected ${COLUMNS} columns (${HEADER}), got ${fields.length}`);
  const [scale, size, cx, cy] = parseNumbers(fields, 1, META.length, file, line, (i) => META[i]!);
  if (!(scale! > 0)) throw new LandmarkFileError(file, line, `scale must be positive, got ${scale}`);
  if (!(size! > 0)) throw new LandmarkFileError(file, line, `box_size must be positive, got ${size}`);
  return {
    image: imageInside(images, fields[0]!, file, line),
    points: Float32Array.from(parseNumbers(fields, 1 + META.length, 2 * K, file, line, coordinateName)),
    box: [cx! - size! / 2, cy! - size! / 2, size!, size!],
    source: `${file}:${line}`,
  };
}

/** Reads an AFLW-19 CSV; `images` is the folder its image names are relative to (HRNet: images/ beside the CSV). */
export async function readAflw19(csvFile: string, images = defaultAflwImages(csvFile)): Promise<LandmarkDataset> {
  const lines = await readLines(csvFile, 'AFLW-19 CSV');
  await requireFolder(images, 'AFLW images folder');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) throw new LandmarkFileError(csvFile, null, `the file is empty; expected the header ${HEADER}`);
  checkHeader(csvFields(lines[first]!), csvFile, first + 1);
  const rows: { sample: LandmarkSample; line: number }[] = [];
  for (let i = first + 1; i < lines.length; i++) {
    if (lines[i]!.trim() !== '')
      rows.push({ sample: parseRow(csvFields(lines[i]!), csvFile, i + 1, images), line: i + 1 });
  }
  const { samples, skipped } = await keepReadable(rows, csvFile);
  return nonEmpty({ scheme: 'aflw-19', samples, skipped }, csvFile);
}
