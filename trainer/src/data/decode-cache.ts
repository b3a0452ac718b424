/**
 * Decode cache: every image is decoded once, resized so that its shorter side is `side`
 * (≈ 1.15 × training size) and kept as uint8 RGB in a file keyed by content hash, beside the
 * store: <cacheDir>/s<side>/<hash[0:2]>/<hash>.rgb. Epochs read these files, not the JPEGs.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { decodeRgb, resizeShorterSide, type RgbImage } from './image-io.js';
import { mapConcurrent } from '../util/async.js';
import { CamdError } from '../util/errors.js';
import { reasonOf } from '../util/system-errors.js';
import { tempPathOf } from '../util/atomic-file.js';

const MAGIC = 0x42475243; // 'CRGB' little-endian
/**
 * The decoder's version: an entry of another version is decoded again. 2: colour as Pillow decodes
 * it (CMYK by Pillow's formula, embedded ICC profiles not applied; data/image-io.ts).
 */
export const DECODE_VERSION = 2;
const HEADER = 16;

export function cacheSideFor(imgSize: number): number {
  return Math.round(imgSize * 1.15);
}

export class DecodeCache {
  constructor(
    readonly dir: string,
    readonly side: number,
  ) {}

  path(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`decode cache: bad content hash '${sha256}'`);
    return join(this.dir, `s${this.side}`, sha256.slice(0, 2), `${sha256}.rgb`);
  }

  /** The cached image, or null when missing, damaged or made by another version of the decoder. */
  get(sha256: string): RgbImage | null {
    let buf: Buffer;
    try {
      buf = readFileSync(this.path(sha256));
    } catch {
      return null;
    }
    if (buf.length < HEADER || buf.readUInt32LE(0) !== MAGIC || buf.readUInt16LE(4) !== DECODE_VERSION) return null;
    const width = buf.readUInt32LE(8);
    const height = buf.readUInt32LE(12);
    if (buf.length !== HEADER + width * height * 3) return null;
    return { width, height, data: new Uint8Array(buf.buffer, buf.byteOffset + HEADER, width * height * 3) };
  }

  put(sha256: string, img: RgbImage): void {
    const file = this.path(sha256);
    const head = Buffer.alloc(HEADER);
    head.writeUInt32LE(MAGIC, 0);
    head.writeUInt16LE(DECODE_VERSION, 4);
    head.writeUInt32LE(img.width, 8);
    head.writeUInt32LE(img.height, 12);
    const tmp = tempPathOf(file);
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(tmp, Buffer.concat([head, Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)]));
      renameSync(tmp, file);
    } catch (e) {
      rmSync(tmp, { force: true });
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT')
        throw new CamdError(
          'disk-full',
          `the disk is full: cannot write the decode cache in ${this.dir} (free some space, or put the store elsewhere with --db)`,
        );
      throw new CamdError('io', `cannot write the decode cache in ${this.dir}: ${reasonOf(e)}`);
    }
  }

  /** Decodes and caches the images that are not cached yet. */
  async ensure(
    items: readonly { abs: string; sha256: string }[],
    maxPixels: number,
    onProgress?: (done: number, total: number) => void,
    concurrency = 4,
  ): Promise<{ decoded: number; failed: { path: string; reason: string }[] }> {
    const todo = items.filter((it) => this.get(it.sha256) === null);
    const failed: { path: string; reason: string }[] = [];
    let done = 0;
    await mapConcurrent(todo, concurrency, async (it) => {
      try {
        const img = await decodeRgb(await readFile(it.abs), maxPixels);
        this.put(it.sha256, await resizeShorterSide(img, this.side));
      } catch (e) {
        if (e instanceof CamdError) throw e; // the cache cannot be written: no image is to blame
        failed.push({ path: it.abs, reason: (e as Error).message });
      }
      onProgress?.(++done, todo.length);
    });
    return { decoded: todo.length - failed.length, failed };
  }
}
