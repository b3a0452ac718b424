/**
 * Faces at ingest: scans a photo folder, finds every face, and writes a *derived* dataset — a
 * folder of aligned face crops, indexed like any folder — that pre-training and fine-tuning read
 * exactly as they read a plain one. Data flow: source scan → detections (cached per photo by
 * content hash and detector) → thresholds, repeats, a person's drops → alignment and crop
 * (crop files named after their photo: `sub/photo.face0.png`, so folder-per-class labels carry
 * over) → near-duplicate report (collapsed only with `dedupe`) → index of the crops → face rows.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import sharp from 'sharp';
import type { Store } from '../store/store.js';
import type Database from 'better-sqlite3';
import { scanDataset, type ScanReport } from '../data/scan.js';
import { decodeRgb, DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { cacheDirFor } from '../util/paths.js';
import { FACES_DEFAULTS } from '../protocol/defaults.js';
import { alignmentFor, outsideFraction, warpAligned, type FivePoints } from './align.js';
import type { DetectedFace, FaceDetector } from './detector.js';
import { detectorId, suggestionSource } from './model-files.js';
import { repeatedDetections } from './repeats.js';
export { repeatedDetections } from './repeats.js';
import { dhash, hamming } from './dhash.js';
import {
  droppedKeys,
  faceById,
  linkDerived,
  recordDrop,
  replaceFaces,
  type FaceRecord,
  type FaceRow,
} from './face-store.js';
import { makeFolder } from '../util/system-errors.js';

export interface FaceOptions {
  minScore?: number;
  minFace?: number;
  margin?: number;
  size?: number;
  /** Collapse faces whose crops are within this dHash distance of an earlier kept face; null: report only. */
  dedupe?: number | null;
  /** Also read each photo as n×n overlapping tiles (small faces in group photos); 1: the whole photo only. */
  tiles?: number;
  /** Where the crops go; default: `faces/<folder>-<hash>` beside the store. */
  out?: string;
  maxPixels?: number;
  wasmThreads?: number | 'auto';
  onProgress?: (phase: 'scanning' | 'detecting' | 'indexing', done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface FaceReport {
  source: ScanReport;
  derived: ScanReport & { sourceDatasetId: number };
  photos: { withFaces: number; withoutFace: number; withoutFaceExamples: string[] };
  faces: {
    found: number;
    kept: number;
    small: number;
    lowScore: number;
    repeats: number;
    nearDuplicates: number;
    collapsed: number;
    dropped: number;
  };
  /** Pairs of kept faces within `reportNearDuplicates` bits of each other (not collapsed unless `dedupe`). */
  nearDuplicatePairs: { a: string; b: string; distance: number }[];
  detections: { computed: number; cached: number; seconds: number };
  /** Kept faces' crops made (aligned, hashed, written when new or changed) and reused from the previous scan (same photo, landmarks, size and margin, and the file still there). */
  crops: { made: number; reused: number };
  settings: {
    minScore: number;
    minFace: number;
    margin: number;
    size: number;
    dedupe: number | null;
    tiles: number;
    detector: string;
  };
  /** false when stopped: crops made so far are indexed, the rest on the next scan. */
  complete: boolean;
}

interface CachedDetections {
  detector: string;
  width: number;
  height: number;
  faces: DetectedFace[];
}

const round = (v: number) => Math.round(v * 100) / 100;

interface PreviousCrop {
  cropPath: string;
  landmarks: string;
  outside: number;
  dhash: string;
  /** The file as the previous scan indexed it: a file written since (a stopped or killed scan with other settings, a person) does not match. */
  bytes: number | null;
  mtimeMs: number | null;
}

/**
 * The crops the previous scan of this derived dataset made, by photo content and face index, when
 * it made them at the same size and margin (what, besides the photo and its landmarks, decides a
 * crop's pixels): their file, landmarks, outside fraction, hash, and the file's size and time as
 * that scan indexed it.
 */
function previousCrops(
  db: Database.Database,
  derived: { id: number; derive: string | null },
  s: { size: number; margin: number },
): Map<string, PreviousCrop> {
  const out = new Map<string, PreviousCrop>();
  let was: { size?: unknown; margin?: unknown } = {};
  try {
    was = JSON.parse(derived.derive ?? '{}') as typeof was;
  } catch {
    return out;
  }
  if (was.size !== s.size || was.margin !== s.margin) return out;
  const rows = db
    .prepare(
      `SELECT f.source_sha256, f.face_index, f.crop_path, f.landmarks, f.outside, f.dhash, i.bytes, i.mtime_ms FROM faces f
       LEFT JOIN images i ON i.dataset_id = f.dataset_id AND i.rel_path = f.crop_path
       WHERE f.dataset_id = ? AND f.crop_path IS NOT NULL AND f.outside IS NOT NULL AND f.dhash IS NOT NULL`,
    )
    .all(derived.id) as {
    source_sha256: string;
    face_index: number;
    crop_path: string;
    landmarks: string;
    outside: number;
    dhash: string;
    bytes: number | null;
    mtime_ms: number | null;
  }[];
  for (const r of rows)
    out.set(`${r.source_sha256}#${r.face_index}`, {
      cropPath: r.crop_path,
      landmarks: r.landmarks,
      outside: r.outside,
      dhash: r.dhash,
      bytes: r.bytes,
      mtimeMs: r.mtime_ms,
    });
  return out;
}

/** The file is as the previous scan indexed it (size and whole-millisecond time, as the scan compares them). */
function untouched(file: string, before: PreviousCrop): boolean {
  try {
    const st = statSync(file);
    return st.size === before.bytes && Math.floor(st.mtimeMs) === before.mtimeMs;
  } catch {
    return false;
  }
}

/** Face size in photo pixels: max(2·eye distance, 1.8·eye-to-mouth), as the alignment measures it. */
export function faceSize(p: FivePoints): number {
  const e = Math.hypot(p.leftEye[0] - p.rightEye[0], p.leftEye[1] - p.rightEye[1]);
  const em = [
    (p.leftMouth[0] + p.rightMouth[0] - p.leftEye[0] - p.rightEye[0]) / 2,
    (p.leftMouth[1] + p.rightMouth[1] - p.leftEye[1] - p.rightEye[1]) / 2,
  ] as const;
  return Math.max(2 * e, 1.8 * Math.hypot(em[0], em[1]));
}

export function cropName(relPath: string, faceIndex: number): string {
  const ext = extname(relPath);
  return `${ext ? relPath.slice(0, -ext.length) : relPath}.face${faceIndex}.png`;
}

export async function defaultFacesRoot(
  store: Store,
  root: string,
  o: { margin: number; size: number },
): Promise<string> {
  const key = createHash('sha256')
    .update(JSON.stringify({ root, margin: o.margin, size: o.size }))
    .digest('hex')
    .slice(0, 8);
  return join(dirname(store.file), 'faces', `${basename(root)}-${key}`);
}

export async function ingestFaces(store: Store, dir: string, opts: FaceOptions = {}): Promise<FaceReport> {
  const s = {
    minScore: opts.minScore ?? FACES_DEFAULTS.minScore,
    minFace: opts.minFace ?? FACES_DEFAULTS.minFace,
    margin: opts.margin ?? FACES_DEFAULTS.margin,
    size: opts.size ?? FACES_DEFAULTS.size,
    dedupe: opts.dedupe ?? null,
    tiles: opts.tiles ?? FACES_DEFAULTS.tiles,
  };
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const source = await scanDataset(store, dir, {
    maxPixels,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (d, t) => opts.onProgress?.('scanning', d, t),
  });
  const root = source.root;
  const outRoot = opts.out ?? (await defaultFacesRoot(store, root, s));
  makeFolder(outRoot, 'the crops folder');
  const derivedRoot = await realpath(outRoot);
  if (derivedRoot === root || derivedRoot.startsWith(root + sep))
    throw new Error(`the crops folder ${outRoot} is inside the photo folder ${dir}: choose another (--faces-out)`);
  if (root.startsWith(derivedRoot + sep))
    throw new Error(`the photo folder ${dir} is inside the crops folder ${outRoot}: choose another (--faces-out)`);

  const derivedDs = store.ensureDataset(derivedRoot, `${basename(root)} (faces)`);
  if (derivedDs.source_dataset_id !== null && derivedDs.source_dataset_id !== source.datasetId)
    throw new Error(
      `the folder ${outRoot} holds the faces of another dataset (${store.dataset(derivedDs.source_dataset_id)?.root ?? derivedDs.source_dataset_id}): choose another (--faces-out)`,
    );
  const detector = detectorId(s.tiles);
  const suggestions = suggestionSource();
  const reusable = previousCrops(store.db, derivedDs, s);
  linkDerived(store.db, derivedDs.id, source.datasetId, { kind: 'faces', detector, ...s });
  const drops = droppedKeys(store.db, derivedDs.id);

  const cacheDir = join(cacheDirFor(store.file), 'faces');
  mkdirSync(cacheDir, { recursive: true });
  const photos = store.images(source.datasetId, 'ok');
  let det: FaceDetector | null = null;
  let computed = 0;
  let cached = 0;
  let detectSeconds = 0;
  const records: FaceRecord[] = [];
  const crops = new Map<string, FaceRecord>();
  const withoutFace: string[] = [];
  let withFaces = 0;
  let complete = true;
  const counts = { found: 0, kept: 0, small: 0, lowScore: 0, repeats: 0, nearDuplicates: 0, collapsed: 0, dropped: 0 };
  const cropCounts = { made: 0, reused: 0 };
  const kept: { rec: FaceRecord; name: string }[] = [];
  for (let i = 0; i < photos.length; i++) {
    if (opts.signal?.aborted) {
      complete = false;
      break;
    }
    const photo = photos[i]!;
    const sha = photo.sha256!;
    const cacheFile = join(cacheDir, `${sha}.json`);
    let result: CachedDetections | null = null;
    if (existsSync(cacheFile)) {
      try {
        const c = JSON.parse(readFileSync(cacheFile, 'utf8')) as CachedDetections;
        if (c.detector === detector && Array.isArray(c.faces)) result = c;
      } catch {
        result = null; // unreadable cache entry: detect again
      }
    }
    let img: Awaited<ReturnType<typeof decodeRgb>> | null = null;
    const decode = async () => (img ??= await decodeRgb(readFileSync(join(root, photo.rel_path)), maxPixels));
    if (result) cached++;
    else {
      const t0 = performance.now();
      det ??= await (await import('./detector.js')).FaceDetector.create(
        opts.wasmThreads !== undefined ? { wasmThreads: opts.wasmThreads } : {},
      );
      const im = await decode();
      result = { detector, width: im.width, height: im.height, faces: await det.detect(im, { tiles: s.tiles }) };
      detectSeconds += (performance.now() - t0) / 1000;
      writeFileAtomic(cacheFile, Buffer.from(JSON.stringify(result)));
      computed++;
    }
    opts.onProgress?.('detecting', i + 1, photos.length);
    const repeats = repeatedDetections(result.faces);
    let any = false;
    for (let k = 0; k < result.faces.length; k++) {
      const f = result.faces[k]!;
      counts.found++;
      const status: FaceRecord['status'] = repeats.has(k)
        ? 'repeat'
        : f.score < s.minScore
          ? 'low-score'
          : faceSize(f.points) < s.minFace
            ? 'small'
            : drops.has(`${sha}#${k}`)
              ? 'dropped'
              : 'kept';
      if (status !== 'repeat' && status !== 'low-score') any = true;
      const rec: FaceRecord = {
        sourceImageId: photo.id,
        faceIndex: k,
        sourceSha256: sha,
        score: round(f.score),
        box: f.box.map(round) as FaceRecord['box'],
        landmarks: roundPoints(f.points),
        pose: f.pose,
        status,
        cropPath: null,
        outside: null,
        dhash: null,
        suggestions: { source: suggestions, ...f.suggestions },
      };
      records.push(rec);
      if (status !== 'kept') {
        if (status === 'small') counts.small++;
        else if (status === 'low-score') counts.lowScore++;
        else if (status === 'repeat') counts.repeats++;
        else counts.dropped++;
        continue;
      }
      const name = cropName(photo.rel_path, k);
      kept.push({ rec, name });
      const file = join(derivedRoot, name);
      if (crops.has(name)) throw new Error(`two faces map to one crop name ${name}`);
      crops.set(name, rec);
      // the previous scan's crop of this face, when nothing that makes it has changed and its file is as indexed: not made again
      const before = reusable.get(`${sha}#${k}`);
      if (
        before &&
        before.cropPath === name &&
        before.landmarks === JSON.stringify(rec.landmarks) &&
        untouched(file, before)
      ) {
        rec.outside = before.outside;
        rec.dhash = before.dhash;
        cropCounts.reused++;
        continue;
      }
      const a = alignmentFor(f.points, s.size, s.margin);
      const crop = warpAligned(await decode(), a);
      rec.outside = round(outsideFraction(a, result.width, result.height));
      rec.dhash = dhash(crop);
      cropCounts.made++;
      // written when missing or when its photo changed (the name stays, the content follows the photo)
      const png = await sharp(Buffer.from(crop.data.buffer, crop.data.byteOffset, crop.data.byteLength), {
        raw: { width: crop.width, height: crop.height, channels: 3 },
      })
        .png({ compressionLevel: 6 })
        .toBuffer();
      if (!existsSync(file) || !readFileSync(file).equals(png)) {
        mkdirSync(dirname(file), { recursive: true });
        writeFileAtomic(file, png);
      }
    }
    if (any) withFaces++;
    else withoutFace.push(photo.rel_path);
  }

  // near-duplicates among kept faces: always reported, collapsed only when asked
  const pairs: FaceReport['nearDuplicatePairs'] = [];
  const survivors: { rec: FaceRecord; name: string }[] = [];
  for (const k of kept) {
    let closest: { name: string; d: number } | null = null;
    for (const o of survivors) {
      const d = hamming(k.rec.dhash!, o.rec.dhash!);
      if (!closest || d < closest.d) closest = { name: o.name, d };
    }
    if (closest && closest.d <= FACES_DEFAULTS.reportNearDuplicates)
      pairs.push({ a: closest.name, b: k.name, distance: closest.d });
    if (closest && s.dedupe !== null && closest.d <= s.dedupe) {
      k.rec.status = 'near-duplicate';
      counts.collapsed++;
      crops.delete(k.name);
      rmSync(join(derivedRoot, k.name), { force: true });
    } else survivors.push(k);
  }
  counts.nearDuplicates = pairs.length;
  for (const k of survivors) k.rec.cropPath = k.name;
  counts.kept = survivors.length;

  // crops of faces that are gone (a photo removed or changed, a face dropped), only after a whole pass
  if (complete) {
    for (const f of listPngs(derivedRoot)) if (!crops.has(f)) rmSync(join(derivedRoot, f), { force: true });
  }
  const derived = await scanDataset(store, derivedRoot, {
    maxPixels,
    onProgress: (d, t) => opts.onProgress?.('indexing', d, t),
  });
  replaceFaces(store.db, derivedDs.id, records);
  return {
    source,
    derived: { ...derived, sourceDatasetId: source.datasetId },
    photos: { withFaces, withoutFace: withoutFace.length, withoutFaceExamples: withoutFace.slice(0, 20) },
    faces: counts,
    nearDuplicatePairs: pairs,
    detections: { computed, cached, seconds: round(detectSeconds) },
    crops: cropCounts,
    settings: { ...s, detector },
    complete,
  };
}

function roundPoints(p: FivePoints): FivePoints {
  const r = (q: [number, number]): [number, number] => [round(q[0]), round(q[1])];
  return {
    rightEye: r(p.rightEye),
    leftEye: r(p.leftEye),
    nose: r(p.nose),
    rightMouth: r(p.rightMouth),
    leftMouth: r(p.leftMouth),
  };
}

/** Every `.png` below a folder, '/'-separated relative paths. */
function listPngs(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.toLowerCase().endsWith('.png')) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  if (existsSync(root) && statSync(root).isDirectory()) walk(root);
  return out;
}

/**
 * A person's "not a face" (or, with `undo`, "it is one after all"). Dropping removes the crop from
 * the derived dataset at once and records the drop by the photo's content, so every later scan
 * keeps it out; undoing makes the derived dataset again from its source (detections come from the
 * cache: no model runs) so the crop comes back. Returns the face's row after the change.
 */
export async function dropFace(store: Store, faceId: number, undo = false): Promise<FaceRow> {
  const f = faceById(store.db, faceId);
  if (!f) throw new Error(`there is no face ${faceId} in the store`);
  const ds = store.dataset(f.dataset_id)!;
  if (!undo) {
    if (f.status !== 'kept' && f.status !== 'dropped')
      throw new Error(`face ${faceId} was not kept (${f.status}): there is no crop to drop`);
    recordDrop(store.db, f.dataset_id, f.source_sha256, f.face_index);
    if (f.crop_path) {
      rmSync(join(ds.root, f.crop_path), { force: true });
      store.applyScan(ds.id, [], [f.crop_path]);
    }
    store.db.prepare("UPDATE faces SET status = 'dropped', crop_path = NULL WHERE id = ?").run(faceId);
    return faceById(store.db, faceId)!;
  }
  recordDrop(store.db, f.dataset_id, f.source_sha256, f.face_index, true);
  const source = ds.source_dataset_id !== null ? store.dataset(ds.source_dataset_id) : undefined;
  if (!source)
    throw new Error(
      `the photos the faces of ${ds.root} came from are no longer in the store: scan them again with --faces`,
    );
  const d = JSON.parse(ds.derive ?? '{}') as Partial<{
    minScore: number;
    minFace: number;
    margin: number;
    size: number;
    dedupe: number | null;
    tiles: number;
  }>;
  await ingestFaces(store, source.root, {
    out: ds.root,
    ...(d.tiles !== undefined ? { tiles: d.tiles } : {}),
    ...(d.minScore !== undefined ? { minScore: d.minScore } : {}),
    ...(d.minFace !== undefined ? { minFace: d.minFace } : {}),
    ...(d.margin !== undefined ? { margin: d.margin } : {}),
    ...(d.size !== undefined ? { size: d.size } : {}),
    dedupe: d.dedupe ?? null,
  });
  return store.db
    .prepare('SELECT * FROM faces WHERE dataset_id = ? AND source_sha256 = ? AND face_index = ? ORDER BY id LIMIT 1')
    .get(f.dataset_id, f.source_sha256, f.face_index) as FaceRow;
}
