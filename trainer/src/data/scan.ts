/**
 * Dataset index: scans a folder recursively for images (jpg, jpeg, png, webp, bmp; any case),
 * follows symbolic links without looping (data/walk.ts), and records every image (relative path,
 * bytes, mtime, width, height, content hash) and every unreadable file with the reason; the report
 * names every entry not read with its reason. A re-scan only decodes files whose size or mtime
 * changed, and drops files that disappeared.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { decodeRgb, DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS, ImageError, tooLargePixels } from './image-io.js';
import type { ImageRow, NewImage, Store } from '../store/store.js';
import { mapConcurrent, nextTurn } from '../util/async.js';
import { walk, type Candidate, type NamedFile } from './walk.js';

export interface ScanOptions {
  maxPixels?: number;
  /** Concurrent decodes (libvips runs them on its own threads). */
  concurrency?: number;
  onProgress?: (done: number, total: number, current: string) => void;
  /** A stop: files inspected so far are recorded, the rest (and removals) wait for the next scan. */
  signal?: AbortSignal;
}

/** A file that could not be read, with the reason. */
export type BadFile = NamedFile;

export interface ScanReport {
  root: string;
  datasetId: number;
  images: number;
  bad: BadFile[];
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  /** Files with other extensions, not considered. */
  ignored: number;
  /**
   * Every entry not read, with the reason: files of other types (the `ignored` ones), hidden
   * entries, links that loop back to a folder above them, a second way to one folder, pipes and
   * devices. Named up to SKIPPED_LISTED; `skippedTotal` counts them all.
   */
  skipped: NamedFile[];
  skippedTotal: number;
  /** false when the scan was stopped before every file was inspected. */
  complete: boolean;
}

/**
 * Whether `root` holds at least one image file (by extension, as the scan counts them), looking at
 * no more than `limit` entries: what adding a folder checks first, so that a folder of label files
 * or an empty one is refused at once with its reason instead of becoming a dataset of 0 images.
 * `others` counts the files with other extensions seen; `looked` is false when the limit stopped the
 * search (a huge folder: its scan decides).
 */
export async function findsImages(
  root: string,
  limit = 100_000,
): Promise<{ found: boolean; others: number; looked: boolean }> {
  const stack = [root];
  const seen = new Set<string>();
  let entriesSeen = 0;
  let others = 0;
  while (stack.length) {
    const dir = stack.pop()!;
    let real: string;
    let entries;
    try {
      real = await realpath(dir);
      if (seen.has(real)) continue;
      seen.add(real);
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const ent of entries) {
      if (++entriesSeen > limit) return { found: false, others, looked: false };
      if (ent.name.startsWith('.')) continue;
      const abs = join(dir, ent.name);
      const st = await stat(abs).catch(() => null);
      if (!st) continue;
      if (st.isDirectory()) stack.push(abs);
      else if (st.isFile()) {
        if ((IMAGE_EXTENSIONS as readonly string[]).includes(extname(ent.name).toLowerCase()))
          return { found: true, others, looked: true };
        others++;
      }
    }
  }
  return { found: false, others, looked: true };
}

/** Rows written in one transaction, and rows of the index read at once, between turns of the event loop. */
const WRITE_BATCH = 64;
/** Longest a file inspected waits to be recorded (large photos decode slowly). */
const WRITE_EVERY_MS = 1000;
const READ_PAGE = 2048;

/** The dataset's images by path, read a page at a time (never one long read of 100 000 rows). */
export async function knownImages(
  store: Store,
  datasetId: number,
  pageSize = READ_PAGE,
): Promise<Map<string, ImageRow>> {
  const known = new Map<string, ImageRow>();
  for (let after = ''; ; ) {
    const page = store.imagesAfter(datasetId, after, pageSize);
    for (const r of page) known.set(r.rel_path, r);
    if (page.length < pageSize) return known;
    after = page.at(-1)!.rel_path;
    await nextTurn();
  }
}

async function inspect(c: Candidate, maxPixels: number): Promise<NewImage> {
  const base = { rel_path: c.rel, bytes: c.bytes, mtime_ms: c.mtimeMs };
  if (c.bytes === 0)
    return {
      ...base,
      width: null,
      height: null,
      format: null,
      sha256: null,
      status: 'bad',
      error: 'zero bytes (empty file)',
    };
  let buf: Buffer;
  try {
    buf = await readFile(c.abs);
  } catch (e) {
    return {
      ...base,
      width: null,
      height: null,
      format: null,
      sha256: null,
      status: 'bad',
      error: `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    };
  }
  const sha256 = createHash('sha256').update(buf).digest('hex');
  try {
    const img = await decodeRgb(buf, maxPixels);
    return { ...base, width: img.width, height: img.height, format: img.format, sha256, status: 'ok', error: null };
  } catch (e) {
    const reason = e instanceof ImageError ? e.message : `cannot decode: ${(e as Error).message}`;
    return { ...base, width: null, height: null, format: null, sha256, status: 'bad', error: reason };
  }
}

/** Scans `root` into the store. Throws (one line) when the folder is missing or is not a folder. */
export async function scanDataset(store: Store, rootIn: string, opts: ScanOptions = {}): Promise<ScanReport> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  let root: string;
  try {
    root = await realpath(rootIn);
  } catch {
    throw new Error(`the folder ${rootIn} does not exist`);
  }
  if (!(await stat(root)).isDirectory()) throw new Error(`${rootIn} is not a folder`);
  const ds = store.ensureDataset(root, basename(root));
  const known = await knownImages(store, ds.id);
  const { files, ignored, unreadable, skipped, skippedTotal } = await walk(root);
  await nextTurn(); // the walk sorted its files; what follows goes over all of them again

  const todo: Candidate[] = [];
  let unchanged = 0;
  for (const f of files) {
    const k = known.get(f.rel);
    // unchanged, unless the size limit decides otherwise now: an image accepted under a raised
    // --max-pixels is too large under a lower one, and one refused as too large may now be fine
    const refusedPixels = k?.status === 'bad' ? tooLargePixels(k.error) : null;
    const limitMatters =
      k &&
      ((k.status === 'ok' && (k.width ?? 0) * (k.height ?? 0) > maxPixels) ||
        (refusedPixels !== null && refusedPixels <= maxPixels) ||
        (k.status === 'bad' && k.error === 'too large (exceeds the pixel limit)'));
    if (k && k.bytes === f.bytes && k.mtime_ms === f.mtimeMs && !limitMatters) unchanged++;
    else todo.push(f);
  }
  await nextTurn();
  const present = new Set(files.map((f) => f.rel));
  const removed = [...known.keys()].filter((r) => !present.has(r));
  await nextTurn();

  // what is inspected is recorded as it comes, a short transaction at a time: a stop or a crash
  // keeps it (the next scan finds those files unchanged), and the process stays responsive
  const pending: NewImage[] = [];
  let written = performance.now();
  const record = () => {
    store.upsertImages(ds.id, pending.splice(0));
    written = performance.now();
  };
  let done = 0;
  let added = 0;
  // recorded in path order, as inspected files line up (new images get their ids in path order,
  // which `camd see --seed` and the like count by, whatever order the decodes finish in)
  const inspected: (NewImage | undefined)[] = new Array(todo.length);
  let lined = 0;
  await mapConcurrent(todo, opts.concurrency ?? 4, async (c, i) => {
    if (opts.signal?.aborted) return;
    const r = await inspect(c, maxPixels);
    if (!known.has(r.rel_path)) added++;
    inspected[i] = r;
    for (; lined < todo.length && inspected[lined]; lined++) {
      pending.push(inspected[lined]!);
      inspected[lined] = undefined;
    }
    if (pending.length >= WRITE_BATCH || (pending.length && performance.now() - written > WRITE_EVERY_MS)) record();
    done++;
    opts.onProgress?.(done, todo.length, c.rel);
  });
  // a stop leaves gaps: what was inspected after one is recorded too
  pending.push(...inspected.filter((r): r is NewImage => r !== undefined));
  record();
  const complete = done === todo.length;
  if (complete)
    for (let i = 0; i < removed.length; i += WRITE_BATCH) {
      store.removeImages(ds.id, removed.slice(i, i + WRITE_BATCH));
      await nextTurn();
    }
  store.updateImageCounts(ds.id);
  await nextTurn();

  const counts = store.dataset(ds.id)!;
  const badRows = store.images(ds.id, 'bad');
  return {
    root,
    datasetId: ds.id,
    images: counts.image_count,
    bad: [...unreadable, ...badRows.map((r) => ({ path: r.rel_path, reason: r.error ?? 'unreadable' }))],
    added,
    changed: done - added,
    removed: complete ? removed.length : 0,
    unchanged,
    ignored,
    skipped,
    skippedTotal,
    complete,
  };
}
