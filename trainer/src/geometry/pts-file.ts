/**
 * The iBUG .pts landmark file of 300W (and of the other iBUG sets):
 *
 *     version: 1
 *     n_points: 68
 *     {
 *     x y          ← n_points lines
 *     }
 *
 * Its coordinates are 1-based (the Matlab convention of the iBUG tools: the centre of the top-left
 * pixel is 1, 1); in memory they are 0-based, so 1 is subtracted on reading and added on writing.
 */
import { writeFileAtomic } from '../util/atomic-file.js';
import { LandmarkFileError, parseNumber, readLines } from './landmark-sample.js';

/** The points of a .pts text (0-based, x then y per point); `expected`: the point count the scheme needs. */
export function parsePts(
  lines: readonly string[],
  file: string,
  expected?: { points: number; scheme: string },
): Float32Array {
  let i = 0;
  // where a file that stops short ends: its last line that is not blank
  let end = lines.length;
  while (end > 1 && lines[end - 1]!.trim() === '') end--;
  /** The next line that is not blank, with its 1-based number. */
  const next = (): [string, number] | null => {
    while (i < lines.length && lines[i]!.trim() === '') i++;
    return i < lines.length ? [lines[i]!.trim(), ++i] : null;
  };
  const expect = (what: string, re: RegExp): [RegExpExecArray, number] => {
    const got = next();
    if (!got) throw new LandmarkFileError(file, end, `the file ends where ${what} was expected`);
    const m = re.exec(got[0]);
    if (!m) throw new LandmarkFileError(file, got[1], `expected ${what}, got '${got[0]}'`);
    return [m, got[1]];
  };
  const [version, vLine] = expect("'version: 1'", /^version\s*:\s*(\S+)$/);
  if (version[1] !== '1')
    throw new LandmarkFileError(file, vLine, `version ${version[1]} is not read (only version 1 exists)`);
  const [count, nLine] = expect("'n_points: <count>'", /^n_points\s*:\s*(\S+)$/);
  const n = Number(count[1]);
  if (!/^\d+$/.test(count[1]!) || n < 1)
    throw new LandmarkFileError(file, nLine, `n_points must be a positive whole number, got '${count[1]}'`);
  if (expected && n !== expected.points)
    throw new LandmarkFileError(file, nLine, `n_points is ${n}; ${expected.scheme} has ${expected.points} points`);
  expect("'{'", /^\{$/);
  const points = new Float32Array(2 * n);
  for (let p = 0; p < n; p++) {
    const got = next();
    if (!got) throw new LandmarkFileError(file, end, `the file ends after ${p} of ${n} points`);
    const [text, line] = got;
    if (text === '}') throw new LandmarkFileError(file, line, `'}' after ${p} points; n_points says ${n}`);
    const xy = text.split(/\s+/);
    if (xy.length !== 2) throw new LandmarkFileError(file, line, `expected 'x y', got '${text}'`);
    points[2 * p] = parseNumber(xy[0]!, file, line, `point ${p} x`) - 1;
    points[2 * p + 1] = parseNumber(xy[1]!, file, line, `point ${p} y`) - 1;
  }
  const [, closeLine] = expect(`'}' after ${n} points`, /^\}$/);
  const extra = next();
  if (extra)
    throw new LandmarkFileError(file, extra[1], `unexpected '${extra[0]}' after the closing '}' (line ${closeLine})`);
  return points;
}

/** Reads a .pts file (0-based points); a malformed one is an error naming the file and line. */
export async function readPts(file: string, expected?: { points: number; scheme: string }): Promise<Float32Array> {
  return parsePts(await readLines(file, '.pts file'), file, expected);
}

/** The .pts text of 0-based points (written 1-based, three decimals as in the iBUG files). */
export function formatPts(points: ArrayLike<number>): string {
  if (points.length === 0 || points.length % 2 !== 0)
    throw new RangeError(`a .pts file holds x, y pairs: got ${points.length} numbers`);
  const rows: string[] = [];
  for (let p = 0; p < points.length / 2; p++) {
    const x = points[2 * p]!;
    const y = points[2 * p + 1]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new RangeError(`point ${p} is not finite (${x}, ${y})`);
    rows.push(`${(x + 1).toFixed(3)} ${(y + 1).toFixed(3)}`);
  }
  return `version: 1\nn_points: ${rows.length}\n{\n${rows.join('\n')}\n}\n`;
}

/** Writes 0-based points as a .pts file, atomically (a crash leaves the previous file or none); errors are CamdErrors. */
export function writePts(file: string, points: ArrayLike<number>): void {
  writeFileAtomic(file, Buffer.from(formatPts(points), 'utf8'));
}
