/**
 * WFLW's official annotation lists (WFLW_annotations/list_98pt_rect_attr_train_test/
 * list_98pt_rect_attr_train.txt and list_98pt_rect_attr_test.txt; the per-attribute test lists
 * beside them have the same layout). One face per line, fields separated by white space:
 *
 *   1–196    x0 y0 … x97 y97      the 98 points, image pixels (taken as 0-based, as written)
 *   197–200  x_min y_min x_max y_max   the face box → [x_min, y_min, x_max − x_min, y_max − y_min]
 *   201–206  pose expression illumination make-up occlusion blur   flags, 0 or 1
 *   207      the image path relative to WFLW_images/ (e.g. 51--Dresses/51_Dresses_wearingdress_51_377.jpg)
 *
 * An image may be listed on several lines (one per face). Blank lines are passed over.
 */
import { dirname, resolve } from 'node:path';
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
  type WflwAttributes,
} from './landmark-sample.js';
import { SCHEMES } from './landmark-schemes.js';

const K = SCHEMES['wflw-98'].points;
const BOX_AT = 2 * K;
const FLAGS_AT = BOX_AT + 4;
const ATTRIBUTES = ['pose', 'expression', 'illumination', 'makeUp', 'occlusion', 'blur'] as const;
const FIELDS = FLAGS_AT + ATTRIBUTES.length + 1;

/** Where WFLW_images is in the official layout, seen from a list file in list_98pt_rect_attr_train_test/. */
export function defaultWflwImages(listFile: string): string {
  return resolve(dirname(listFile), '..', '..', 'WFLW_images');
}

/** One line of the list, or an error naming the file and line. */
function parseRow(text: string, file: string, line: number, images: string): LandmarkSample {
  const tokens = text.trim().split(/\s+/);
  if (tokens.length !== FIELDS)
    throw new LandmarkFileError(
      file,
      line,
      `expected ${FIELDS} fields (${2 * K} coordinates, 4 box numbers, 6 attribute flags, the image path), got ${tokens.length}`,
    );
  const points = Float32Array.from(parseNumbers(tokens, 0, 2 * K, file, line, coordinateName));
  const [x0, y0, x1, y1] = parseNumbers(tokens, BOX_AT, 4, file, line, (i) => ['x_min', 'y_min', 'x_max', 'y_max'][i]!);
  if (!(x1! > x0! && y1! > y0!))
    throw new LandmarkFileError(file, line, `the face box is empty (x ${x0}–${x1}, y ${y0}–${y1})`);
  const attributes = {} as WflwAttributes;
  ATTRIBUTES.forEach((name, i) => {
    const flag = tokens[FLAGS_AT + i]!;
    if (flag !== '0' && flag !== '1')
      throw new LandmarkFileError(
        file,
        line,
        `the ${name} flag (field ${FLAGS_AT + i + 1}) must be 0 or 1, got '${flag}'`,
      );
    attributes[name] = flag === '1';
  });
  return {
    image: imageInside(images, tokens[FIELDS - 1]!, file, line),
    points,
    box: [x0!, y0!, x1! - x0!, y1! - y0!],
    attributes,
    source: `${file}:${line}`,
  };
}

/** Reads a WFLW annotation list; `images` is the WFLW_images folder (by default where the official layout puts it). */
export async function readWflw(listFile: string, images = defaultWflwImages(listFile)): Promise<LandmarkDataset> {
  const lines = await readLines(listFile, 'WFLW annotation list');
  await requireFolder(images, 'WFLW images folder (WFLW_images)');
  const rows: { sample: LandmarkSample; line: number }[] = [];
  lines.forEach((text, i) => {
    if (text.trim() !== '') rows.push({ sample: parseRow(text, listFile, i + 1, images), line: i + 1 });
  });
  const { samples, skipped } = await keepReadable(rows, listFile);
  return nonEmpty({ scheme: 'wflw-98', samples, skipped }, listFile);
}
