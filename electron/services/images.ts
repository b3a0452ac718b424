/**
 * Image files by id, never by path: id → store row → the dataset's root → realpath. A dataset is
 * what its scan indexed, links followed as the trainer follows them (docs/pretraining.md): a
 * file a link leads to outside the folder is served only when the scan read it as an image;
 * anything else outside (a row changed since, a link to a non-image) is not found.
 * Thumbnails are WebP (sharp), cached by content hash and size, so the grid never loads originals.
 */
import { mkdir, readFile, realpath, rename, stat, writeFile, rm } from 'node:fs/promises';
import { dirname, extname, join, sep } from 'node:path';
import sharp from 'sharp';
import { decodeRgb, DEFAULT_MAX_PIXELS, type Store } from 'camd-studio/trainer';
import { NotFound } from '../base/errors.js';

export const THUMB_SIZES = [128, 256, 512] as const;

const MIME: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.bmp': 'image/bmp',
};

export class Images {
  private readonly inflight = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly store: Store,
    private readonly thumbsDir: string,
  ) {}

  /** The real path of an image of the store, inside its dataset's folder; NotFound otherwise. */
  async file(id: number): Promise<{ path: string; mime: string; sha256: string | null; status: string }> {
    if (!Number.isSafeInteger(id) || id <= 0) throw new NotFound(`image ${id}`);
    const row = this.store.imageFile(id);
    if (!row) throw new NotFound(`image ${id}`);
    let root: string;
    let real: string;
    try {
      root = await realpath(row.root);
      real = await realpath(join(root, row.rel_path));
    } catch {
      throw new NotFound(`the file of image ${id}`);
    }
    if (
      !real.startsWith(root + sep) &&
      !(row.status === 'ok' && MIME[extname(real).toLowerCase()] && (await stat(real)).isFile())
    )
      throw new NotFound(`image ${id} inside its dataset's folder`);
    return {
      path: real,
      mime: MIME[extname(real).toLowerCase()] ?? 'application/octet-stream',
      sha256: row.sha256,
      status: row.status,
    };
  }

  /** A WebP thumbnail whose longer side is `size` (cached by content hash). */
  async thumb(id: number, size: number): Promise<Buffer> {
    const s: number = THUMB_SIZES.find((t) => t >= size) ?? THUMB_SIZES[THUMB_SIZES.length - 1]!;
    const f = await this.file(id);
    if (f.status !== 'ok' || !f.sha256) throw new NotFound(`a readable image ${id}`);
    const cached = join(this.thumbsDir, String(s), f.sha256.slice(0, 2), `${f.sha256}.webp`);
    try {
      return await readFile(cached);
    } catch {
      /* not made yet */
    }
    const key = `${s}:${f.sha256}`;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.make(f.path, s, cached).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async make(file: string, size: number, cached: string): Promise<Buffer> {
    let img: sharp.Sharp;
    if (extname(file).toLowerCase() === '.bmp') {
      const rgb = await decodeRgb(await readFile(file), DEFAULT_MAX_PIXELS); // libvips has no BMP loader
      img = sharp(Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength), {
        raw: { width: rgb.width, height: rgb.height, channels: 3 },
      });
    } else img = sharp(file, { limitInputPixels: DEFAULT_MAX_PIXELS }).rotate();
    const out = await img
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 78 })
      .toBuffer();
    await mkdir(dirname(cached), { recursive: true });
    const tmp = `${cached}.tmp-${process.pid}`;
    try {
      await writeFile(tmp, out);
      await rename(tmp, cached);
    } catch {
      await rm(tmp, { force: true }); // a full disk costs the cache, not the answer
    }
    return out;
  }
}
