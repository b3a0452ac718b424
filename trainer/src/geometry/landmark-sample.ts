/**
 * What a landmark dataset reader returns, and the checks every reader shares: numbers that are
 * really numbers, image paths that stay inside the images folder, images that are there. A
 * malformed annotation is an error naming the file and the line; a missing image is a skipped
 * sample with its reason (a dataset downloaded in part still trains on what it has).
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import { IMAGE_EXTENSIONS } from '../data/image-io.js';
import { mapConcurrent } from '../util/async.js';
import { CamdError } from '../util/errors.js';
import { reasonOf } from '../util/system-errors.js';
import type { LandmarkScheme } from './landmark-schemes.js';

/** x, y, w, h in image pixels. */
export type Box = [number, number, number, number];

/** WFLW's six attribute flags, in the order of its annotation lists. */
export interface WflwAttributes {
  pose: boolean;
  expression: boolean;
  illumination: boolean;
  makeUp: boolean;
  occlusion: boolean;
  blur: boolean;
}

export interface LandmarkSample {
  /** Absolute path of the image. */
  image: string;
  /** K×2: x then y per point, image pixels, 0-based (the centre of the top-left pixel is 0, 0). */
  points: Float32Array;
  /** x, y, w, h in image pixels, when the format gives one. */
  box: Box | null;
  /** WFLW only. */
  attributes?: WflwAttributes;
  /** Where it was read ("file:line", or the annotation file), for messages about the sample. */
  source?: string;
}

export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface LandmarkDataset {
  scheme: LandmarkScheme;
  samples: LandmarkSample[];
  /** Samples not read (a missing image, an image without annotation), each with the reason. */
  skipped: SkippedEntry[];
}

/** A malformed annotation file: the message starts with "file:line: ". */
export class LandmarkFileError extends CamdError {
  readonly file: string;
  readonly line: number | null;
  constructor(file: string, line: number | null, message: string) {
    super('input', `${file}${line !== null ? `:${line}` : ''}: ${message}`);
    this.name = 'LandmarkFileError';
    this.file = file;
    this.line = line;
  }
}

/** The lines of a text file (a BOM dropped, CRLF accepted); a missing or unreadable file is an input error. */
export async function readLines(file: string, what: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new LandmarkFileError(file, null, `cannot read the ${what}: ${reasonOf(e)}`);
  }
  return text.replace(/^\uFEFF/, '').split(/\r?\n/);
}

// decimal only: Number() would take '', '0x1f', 'Infinity' and ' 1 '
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A finite decimal number, or an error naming the file, the line and what the field is. */
export function parseNumber(token: string, file: string, line: number, what: string): number {
  const n = DECIMAL.test(token) ? Number(token) : Number.NaN;
  if (!Number.isFinite(n)) throw new LandmarkFileError(file, line, `${what}: '${token}' is not a finite number`);
  return n;
}

/** `count` numbers from `tokens[from…]`, named for the error as `name(i)`. */
export function parseNumbers(
  tokens: readonly string[],
  from: number,
  count: number,
  file: string,
  line: number,
  name: (i: number) => string,
): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = parseNumber(tokens[from + i] ?? '', file, line, name(i));
  return out;
}

/** The name of point coordinate `i` of an interleaved x, y list ("point 3 y", 0-based). */
export const coordinateName = (i: number): string => `point ${i >> 1} ${i & 1 ? 'y' : 'x'}`;

/** An image path of an annotation list, resolved inside `root`; a path leaving it is an error. */
export function imageInside(root: string, path: string, file: string, line: number): string {
  if (path === '') throw new LandmarkFileError(file, line, 'the image path is empty');
  const abs = resolve(root, path);
  const rel = relative(root, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
    throw new LandmarkFileError(file, line, `the image path '${path}' leaves the images folder ${root}`);
  return abs;
}

/** Why an image cannot be read (missing, not a file, not an image type), or null when it is there. */
export async function imageProblem(abs: string): Promise<string | null> {
  const ext = extname(abs).toLowerCase();
  if (!(IMAGE_EXTENSIONS as readonly string[]).includes(ext))
    return `not an image type camd reads (${ext || 'no extension'}): ${IMAGE_EXTENSIONS.join(', ')} are read`;
  try {
    const st = await stat(abs);
    return st.isFile() ? null : 'the image path is not a file';
  } catch (e) {
    return `the image cannot be read: ${reasonOf(e)}`;
  }
}

/** A folder the reader needs, or an input error saying what it was for. */
export async function requireFolder(dir: string, what: string): Promise<void> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(dir);
  } catch (e) {
    throw new CamdError('input', `the ${what} ${dir} cannot be read: ${reasonOf(e)}`);
  }
  if (!st.isDirectory()) throw new CamdError('input', `the ${what} ${dir} is not a folder`);
}

/** The listed samples split into those whose image is there and those skipped, with the reason and the line. */
export async function keepReadable(
  rows: readonly { sample: LandmarkSample; line: number }[],
  file: string,
): Promise<{ samples: LandmarkSample[]; skipped: SkippedEntry[] }> {
  const problems = await mapConcurrent(rows, 32, (r) => imageProblem(r.sample.image));
  const out = { samples: [] as LandmarkSample[], skipped: [] as SkippedEntry[] };
  rows.forEach((r, i) => {
    const problem = problems[i];
    if (problem) out.skipped.push({ path: r.sample.image, reason: `${problem} (listed at ${file}:${r.line})` });
    else out.samples.push(r.sample);
  });
  return out;
}

/** The dataset, or an error when not one sample could be read (naming the first reasons why). */
export function nonEmpty(dataset: LandmarkDataset, source: string): LandmarkDataset {
  if (dataset.samples.length > 0) return dataset;
  const first = dataset.skipped
    .slice(0, 3)
    .map((s) => `${s.path}: ${s.reason}`)
    .join('; ');
  throw new CamdError(
    'input',
    `no usable ${dataset.scheme} samples in ${source}` +
      (dataset.skipped.length ? ` (${dataset.skipped.length} skipped; ${first})` : ' (nothing found)'),
  );
}
