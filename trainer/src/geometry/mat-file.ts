/**
 * MATLAB MAT-files, level 5 (the format of 300W-LP's and AFLW2000's annotations, as scipy.io.loadmat
 * and savemat read and write them): just what head-pose annotations need — real numeric matrices
 * (double, single and the integer classes, whatever numeric type the values are stored in), plain or
 * zlib-compressed (miCOMPRESSED, MATLAB's default since v7 and scipy's `do_compression=True`),
 * either byte order. No npm package for the format is installed, and the one published (mat-for-js)
 * is little used; this reader is small and says what it does not read.
 *
 * Variables it does not read (complex, sparse, logical-as-object, char, cell, struct, object) are
 * listed with the reason instead of failing the file: a caller asking for one gets that reason. A
 * file that is not level 5 at all (MAT v4, v7.3 = HDF5, something else) is refused with a message
 * naming the file and what it looks like.
 *
 * Layout (MathWorks, "MAT-File Format", level 5): a 128-byte header (text, subsystem offset, version
 * 0x0100, endian mark "IM" little-endian / "MI" big-endian), then data elements: a tag (type, byte
 * count; or the 4-byte "small element" form with the count in the upper half of the first word) and
 * the data padded to 8 bytes. A matrix (miMATRIX) holds array flags (class in the low byte), the
 * dimensions (int32), the name (int8) and the real part; its values are column-major.
 */
import { readFileSync } from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';
import { CamdError } from '../util/errors.js';
import { reasonOf } from '../util/system-errors.js';

const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
} as const;

/** MATLAB array classes (mxCLASS) read as numbers, by their number. */
const NUMERIC_CLASS: Record<number, string> = {
  6: 'double',
  7: 'single',
  8: 'int8',
  9: 'uint8',
  10: 'int16',
  11: 'uint16',
  12: 'int32',
  13: 'uint32',
  14: 'int64',
  15: 'uint64',
};
const OTHER_CLASS: Record<number, string> = { 1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse' };

export interface MatMatrix {
  name: string;
  /** MATLAB's class name ('double', 'single', 'int32', …). */
  cls: string;
  /** Dimensions (at least 2, MATLAB's rows × columns × …). */
  dims: number[];
  /** The values, column-major (MATLAB's order: element (r, c) of an R×C matrix is at r + c·R). */
  data: Float64Array;
}

export interface MatFile {
  file: string;
  variables: Map<string, MatMatrix>;
  /** Variables present but not read, with why. */
  unread: Map<string, string>;
}

/** A MAT-file that cannot be read: the message names the file. */
export class MatFileError extends CamdError {
  constructor(file: string, message: string) {
    super('input', `${file}: ${message}`);
    this.name = 'MatFileError';
  }
}

class Reader {
  constructor(
    readonly buf: Buffer,
    readonly le: boolean,
    readonly file: string,
  ) {}
  u32(o: number): number {
    this.need(o, 4);
    return this.le ? this.buf.readUInt32LE(o) : this.buf.readUInt32BE(o);
  }
  need(o: number, n: number): void {
    if (o < 0 || o + n > this.buf.length)
      throw new MatFileError(this.file, `the file ends inside a data element (byte ${o}, ${n} bytes wanted)`);
  }
  /** The element at `o`: type, its data's offset and byte count, and where the next element starts. */
  tag(o: number): { type: number; at: number; bytes: number; next: number } {
    const first = this.u32(o);
    if (first >>> 16 !== 0) {
      // small data element: count in the upper 16 bits, data in the next 4 bytes
      const bytes = first >>> 16;
      if (bytes > 4) throw new MatFileError(this.file, `a small data element claims ${bytes} bytes (at most 4)`);
      return { type: first & 0xffff, at: o + 4, bytes, next: o + 8 };
    }
    const bytes = this.u32(o + 4);
    this.need(o + 8, bytes);
    // compressed elements are not padded; everything else is padded to 8 bytes
    const pad = first === MI.COMPRESSED ? 0 : (8 - (bytes % 8)) % 8;
    return { type: first, at: o + 8, bytes, next: o + 8 + bytes + pad };
  }
  /** The numbers of a numeric element, converted to doubles. */
  numbers(type: number, at: number, bytes: number, what: string): Float64Array {
    const size: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8 };
    const s = size[type];
    if (!s) throw new MatFileError(this.file, `${what}: stored as data type ${type}, not a numeric type`);
    if (bytes % s !== 0) throw new MatFileError(this.file, `${what}: ${bytes} bytes is not a whole number of values`);
    const n = bytes / s;
    const out = new Float64Array(n);
    const b = this.buf;
    const le = this.le;
    for (let i = 0; i < n; i++) {
      const o = at + i * s;
      switch (type) {
        case MI.INT8:
          out[i] = b.readInt8(o);
          break;
        case MI.UINT8:
          out[i] = b.readUInt8(o);
          break;
        case MI.INT16:
          out[i] = le ? b.readInt16LE(o) : b.readInt16BE(o);
          break;
        case MI.UINT16:
          out[i] = le ? b.readUInt16LE(o) : b.readUInt16BE(o);
          break;
        case MI.INT32:
          out[i] = le ? b.readInt32LE(o) : b.readInt32BE(o);
          break;
        case MI.UINT32:
          out[i] = le ? b.readUInt32LE(o) : b.readUInt32BE(o);
          break;
        case MI.SINGLE:
          out[i] = le ? b.readFloatLE(o) : b.readFloatBE(o);
          break;
        case MI.DOUBLE:
          out[i] = le ? b.readDoubleLE(o) : b.readDoubleBE(o);
          break;
        case MI.INT64:
          out[i] = Number(le ? b.readBigInt64LE(o) : b.readBigInt64BE(o));
          break;
        case MI.UINT64:
          out[i] = Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
          break;
      }
    }
    return out;
  }
}

/** A miMATRIX element's contents (from `at`, `bytes` long): the variable, or its name and why it is not read. */
function readMatrix(r: Reader, at: number, bytes: number): MatMatrix | { name: string; unread: string } {
  const end = at + bytes;
  const flags = r.tag(at);
  if (flags.type !== MI.UINT32 || flags.bytes !== 8) throw new MatFileError(r.file, 'a matrix without array flags');
  const f0 = r.u32(flags.at);
  const cls = f0 & 0xff;
  const complex = (f0 & 0x0800) !== 0;
  const dimsTag = r.tag(flags.next);
  if (dimsTag.type !== MI.INT32) throw new MatFileError(r.file, 'a matrix without int32 dimensions');
  const dims = Array.from(r.numbers(MI.INT32, dimsTag.at, dimsTag.bytes, 'dimensions'));
  const nameTag = r.tag(dimsTag.next);
  if (nameTag.type !== MI.INT8 && nameTag.type !== MI.UINT8 && nameTag.type !== MI.UTF8)
    throw new MatFileError(r.file, 'a matrix without a name');
  const name = r.buf.toString('latin1', nameTag.at, nameTag.at + nameTag.bytes);
  if (!NUMERIC_CLASS[cls])
    return { name, unread: `a MATLAB ${OTHER_CLASS[cls] ?? `class ${cls}`} array (only numeric matrices are read)` };
  if (complex) return { name, unread: 'a complex matrix (only real ones are read)' };
  const count = dims.reduce((a, d) => a * d, 1);
  if (count === 0) return { name, cls: NUMERIC_CLASS[cls]!, dims, data: new Float64Array(0) };
  if (nameTag.next >= end) throw new MatFileError(r.file, `${name}: the matrix has no values`);
  const real = r.tag(nameTag.next);
  const data = r.numbers(real.type, real.at, real.bytes, name);
  if (data.length !== count)
    throw new MatFileError(r.file, `${name}: ${data.length} values for dimensions ${dims.join('×')}`);
  return { name, cls: NUMERIC_CLASS[cls]!, dims, data };
}

/** Reads a level-5 MAT-file from its bytes (`file` names it in messages). */
export function parseMat(buf: Buffer, file: string): MatFile {
  if (buf.length >= 8 && buf.subarray(0, 8).equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])))
    throw new MatFileError(file, 'an HDF5 file (MAT v7.3): save it as level 5 (MATLAB -v7, or scipy.io.savemat)');
  if (buf.length < 128) throw new MatFileError(file, 'too short for a MAT-file (no 128-byte header)');
  const text = buf.toString('latin1', 0, 116);
  const mark = buf.toString('latin1', 126, 128);
  if (text.startsWith('MATLAB 7.3'))
    throw new MatFileError(file, 'a MAT v7.3 (HDF5) file: save it as level 5 (MATLAB -v7, or scipy.io.savemat)');
  if (!text.startsWith('MATLAB') || (mark !== 'IM' && mark !== 'MI'))
    throw new MatFileError(
      file,
      'not a level-5 MAT-file (no "MATLAB" header and IM/MI endian mark; MAT v4 is not read)',
    );
  const le = mark === 'IM';
  const top = new Reader(buf, le, file);
  const out: MatFile = { file, variables: new Map(), unread: new Map() };
  const take = (r: Reader, at: number, bytes: number) => {
    const m = readMatrix(r, at, bytes);
    if ('unread' in m) out.unread.set(m.name, m.unread);
    else out.variables.set(m.name, m);
  };
  let o = 128;
  while (o + 8 <= buf.length) {
    const t = top.tag(o);
    if (t.type === MI.MATRIX) take(top, t.at, t.bytes);
    else if (t.type === MI.COMPRESSED) {
      let inner: Buffer;
      try {
        inner = inflateSync(buf.subarray(t.at, t.at + t.bytes));
      } catch (e) {
        throw new MatFileError(file, `a compressed variable cannot be inflated: ${reasonOf(e)}`);
      }
      const r = new Reader(inner, le, file);
      const it = r.tag(0);
      if (it.type !== MI.MATRIX)
        throw new MatFileError(file, `a compressed element holds data type ${it.type}, not a matrix`);
      take(r, it.at, it.bytes);
    } else throw new MatFileError(file, `a top-level data element of type ${t.type} (only matrices are read)`);
    o = t.next;
  }
  return out;
}

/** Reads a level-5 MAT-file; an unreadable file is an input error naming it. */
export function readMat(file: string): MatFile {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new MatFileError(file, `cannot be read: ${reasonOf(e)}`);
  }
  return parseMat(buf, file);
}

/** Variable `name` of a MAT-file, or an error saying it is missing or why it was not read. */
export function matVariable(mat: MatFile, name: string): MatMatrix {
  const v = mat.variables.get(name);
  if (v) return v;
  const why = mat.unread.get(name);
  if (why) throw new MatFileError(mat.file, `${name} is ${why}`);
  const have = [...mat.variables.keys(), ...mat.unread.keys()];
  throw new MatFileError(mat.file, `no variable ${name} (it has ${have.length ? have.join(', ') : 'none'})`);
}

/** Element (row, col) of a 2-D matrix. */
export const matAt = (m: MatMatrix, row: number, col: number): number => m.data[row + col * m.dims[0]!]!;

/** A real double matrix to write: rows × cols, values row-major (the way one writes it down). */
export interface MatWrite {
  name: string;
  rows: number;
  cols: number;
  rowMajor: ArrayLike<number>;
}

function element(type: number, data: Buffer): Buffer {
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(type, 0);
  tag.writeUInt32LE(data.length, 4);
  return Buffer.concat([tag, data, Buffer.alloc((8 - (data.length % 8)) % 8)]);
}

function matrixElement(v: MatWrite): Buffer {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(v.name)) throw new Error(`'${v.name}' is not a MATLAB variable name`);
  if (v.rowMajor.length !== v.rows * v.cols)
    throw new Error(`${v.name}: ${v.rowMajor.length} values for ${v.rows}×${v.cols}`);
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(6, 0); // mxDOUBLE_CLASS, no flags
  const dims = Buffer.alloc(8);
  dims.writeInt32LE(v.rows, 0);
  dims.writeInt32LE(v.cols, 4);
  const real = Buffer.alloc(8 * v.rows * v.cols);
  for (let c = 0; c < v.cols; c++)
    for (let r = 0; r < v.rows; r++) real.writeDoubleLE(Number(v.rowMajor[r * v.cols + c]), 8 * (r + c * v.rows));
  const body = Buffer.concat([
    element(MI.UINT32, flags),
    element(MI.INT32, dims),
    element(MI.INT8, Buffer.from(v.name, 'latin1')),
    element(MI.DOUBLE, real),
  ]);
  return element(MI.MATRIX, body);
}

/** A level-5 MAT-file (little-endian) of real double matrices; each compressed (zlib) when asked. */
export function formatMat(vars: readonly MatWrite[], o: { compress?: boolean; description?: string } = {}): Buffer {
  const header = Buffer.alloc(128, 0x20);
  header.write(`MATLAB 5.0 MAT-file, ${o.description ?? 'written by camd'}`.slice(0, 116), 0, 'latin1');
  header.fill(0, 116, 124); // no subsystem data
  header.writeUInt16LE(0x0100, 124);
  header.write('IM', 126, 'latin1');
  const parts = vars.map((v) => {
    const m = matrixElement(v);
    if (!o.compress) return m;
    const z = deflateSync(m);
    const tag = Buffer.alloc(8);
    tag.writeUInt32LE(MI.COMPRESSED, 0);
    tag.writeUInt32LE(z.length, 4);
    return Buffer.concat([tag, z]);
  });
  return Buffer.concat([header, ...parts]);
}
