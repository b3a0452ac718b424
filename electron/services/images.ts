/**
 * Image files by id, never by path: id → store row → the dataset's root → realpath. A dataset is
 * what its scan indexed, links followed as the trainer follows them (docs/pretraining.md): a
 * file a link leads to outside the folder is served only when the scan read it as an image;
 * anything else outside (a row changed since, a link to a non-image) is not found.
 * Thumbnails are WebP (sharp), cached by content hash and size, so the grid never loads originals.
 * Those not cached yet wait their turn in a ThumbQueue (the newest request first, a request whose
 * client went away dropped); after a scan, the dataset's thumbnails are made ahead of need there,
 * in the background, one at a time.
 */
import { access, mkdir, readFile, realpath, rename, stat, writeFile, rm } from 'node:fs/promises';
import { dirname, extname, join, sep } from 'node:path';
import sharp from 'sharp';
import { decodeRgb, DEFAULT_MAX_PIXELS, type Store } from 'camd-studio/trainer';
import { NotFound } from '../base/errors.js';
import { ThumbQueue } from './thumb-queue.js';

export const THUMB_SIZES = [128, 256, 512] as const;
/** The size the grid shows at its default cell size: the one made ahead of need. */
export const GRID_THUMB = 256;
/** Images listed at once when background thumbnails are queued. */
const PREFETCH_PAGE = 256;

const MIME: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.bmp': 'image/bmp',
};

export class Images {
  private readonly inflight = new Map<string, Promise<Buffer>>();
  /** Datasets whose thumbnails are being made ahead of need. */
  private readonly prefetching = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly thumbsDir: string,
    readonly queue: ThumbQueue = new ThumbQueue(),
  ) {
    // one libvips thread an image: the queue already makes several at once, and more threads than
    // cores take the CPU from the window drawing the grid (measured: docs/app.md)
    sharp.concurrency(1);
  }

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

  /**
   * A WebP thumbnail whose longer side is `size` (cached by content hash). One not made yet waits
   * its turn; `signal`: the request went away (it leaves the line if it has not started).
   */
  async thumb(id: number, size: number, signal?: AbortSignal): Promise<Buffer> {
    const s: number = THUMB_SIZES.find((t) => t >= size) ?? THUMB_SIZES[THUMB_SIZES.length - 1]!;
    const f = await this.file(id);
    if (f.status !== 'ok' || !f.sha256) throw new NotFound(`a readable image ${id}`);
    const cached = this.cachedPath(f.sha256, s);
    try {
      return await readFile(cached);
    } catch {
      /* not made yet */
    }
    const key = `${s}:${f.sha256}`;
    const p = this.inflight.get(key);
    if (p) return p;
    const made = this.queue.run(() => this.make(f.path, s, cached), signal).finally(() => this.inflight.delete(key));
    this.inflight.set(key, made);
    return made;
  }

  private cachedPath(sha256: string, size: number): string {
    return join(this.thumbsDir, String(size), sha256.slice(0, 2), `${sha256}.webp`);
  }

  /**
   * Makes the grid's thumbnails of a dataset's readable images ahead of need, in the background
   * (a page of images listed at a time, each thumbnail one background job of the queue; those
   * already cached are skipped). Again for the same dataset while it is going on: nothing new.
   */
  prefetch(datasetId: number): void {
    if (this.prefetching.has(datasetId)) return;
    this.prefetching.add(datasetId);
    const page = (after: string) => async () => {
      const rows = this.store.imagesAfter(datasetId, after, PREFETCH_PAGE);
      const more = rows.length === PREFETCH_PAGE;
      this.queue.later([
        ...rows.filter((r) => r.status === 'ok' && r.sha256).map((r) => () => this.ahead(r.id, r.sha256!)),
        more ? page(rows.at(-1)!.rel_path) : async () => void this.prefetching.delete(datasetId),
      ]);
    };
    this.queue.later([page('')]);
  }

  /** Stops making thumbnails ahead of need (their cache is being cleaned): they are made when asked. */
  stopAhead(): void {
    this.queue.clearBackground();
    this.prefetching.clear();
  }

  /** One thumbnail made ahead of need, unless it is cached already. */
  private async ahead(id: number, sha256: string): Promise<void> {
    const cached = this.cachedPath(sha256, GRID_THUMB);
    try {
      await access(cached);
      return;
    } catch {
      /* not made yet */
    }
    const key = `${GRID_THUMB}:${sha256}`;
    if (this.inflight.has(key)) return;
    const f = await this.file(id);
    await this.make(f.path, GRID_THUMB, cached);
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
