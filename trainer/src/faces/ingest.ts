/**
 * Faces at ingest: scans a photo folder, finds every face, and writes a *derived* dataset — a
 * folder of aligned face crops, indexed like any folder — that pre-training and fine-tuning read
 * exactly as they read a plain one. Data flow: source scan → detections (cached per photo by
 * content hash and detector) → thresholds, repeats, a person's drops → alignment and crop
 * (crop files named after their photo: `sub/photo.face0.png`, so folder-per-class labels carry
 * over) → near-duplicate report (collapsed only with `dedupe`) → index of the crops → face rows.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { DatasetRow, Store } from '../store/store.js';
import { scanDataset, type ScanReport } from '../data/scan.js';
import { decodeRgb, DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { cacheDirFor } from '../util/paths.js';
import { FACES_DEFAULTS } from '../protocol/defaults.js';
import { DetectionCache } from './detection-cache.js';
import { detectorId, suggestionSource } from './model-files.js';
export { repeatedDetections } from './repeats.js';
import { droppedKeys, faceById, linkDerived, recordDrop, replaceFaces, type FaceRow } from './face-store.js';
import { makeFolder } from '../util/system-errors.js';
import { previousCrops } from './previous-crops.js';
import { facesOfPhoto, newPass, round, type FaceCounts, type FacePass, type FaceRules } from './photo-faces.js';
import { collapseNearDuplicates, type NearDuplicatePair } from './near-duplicates.js';
import { EYE_LINE_UNSURE } from './eye-line.js';
import type { NotKept } from './unkept.js';
export { cropName, faceSize } from './photo-faces.js';

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
  photos: {
    withFaces: number;
    withoutFace: number;
    withoutFaceExamples: string[];
    /** Photos none of whose faces was kept (no face found, or every one too small, below the score or dropped). */
    withoutKeptFace: number;
    /** The first WITHOUT_KEPT_FACE_LISTED of them, each with why. */
    withoutKeptFaceExamples: { path: string; reason: string }[];
    /** Photos in which no face was found at all (among those without a kept face). */
    noFaceFound: number;
  };
  faces: FaceCounts;
  /** The sizes of the faces too small and the scores of those below the score: the settings that would keep them. */
  notKept: NotKept;
  /** Pairs of kept faces within `reportNearDuplicates` bits of each other (not collapsed unless `dedupe`). */
  nearDuplicatePairs: NearDuplicatePair[];
  /**
   * Crops (of faces that stay) whose eyes may not be level: the last reading of the landmarks on the
   * upright crop still turned the eye line more than EYE_LINE_UNSURE degrees (often a turned face).
   */
  eyeLineUnsure: { crop: string; degrees: number }[];
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

type FaceSettings = Omit<FaceReport['settings'], 'detector'>;

/** How many photos without a kept face a report names (with its reason). */
export const WITHOUT_KEPT_FACE_LISTED = 100;

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

function faceSettings(opts: FaceOptions): FaceSettings {
  return {
    minScore: opts.minScore ?? FACES_DEFAULTS.minScore,
    minFace: opts.minFace ?? FACES_DEFAULTS.minFace,
    margin: opts.margin ?? FACES_DEFAULTS.margin,
    size: opts.size ?? FACES_DEFAULTS.size,
    dedupe: opts.dedupe ?? null,
    tiles: opts.tiles ?? FACES_DEFAULTS.tiles,
  };
}

/** The crops folder, made; refused inside the photo folder or around it, or when it holds the faces of another dataset. */
async function cropsFolder(
  store: Store,
  source: ScanReport,
  dir: string,
  opts: FaceOptions,
  s: FaceSettings,
): Promise<{ derivedRoot: string; derivedDs: DatasetRow }> {
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
  return { derivedRoot, derivedDs };
}

/** Every photo's faces into a pass, detections first; `complete` false when a stop cut the pass short. */
async function passOverPhotos(
  store: Store,
  source: ScanReport,
  detections: DetectionCache,
  rules: FaceRules,
  opts: FaceOptions & { maxPixels: number },
): Promise<{ pass: FacePass; complete: boolean }> {
  const photos = store.images(source.datasetId, 'ok');
  const pass = newPass();
  let complete = true;
  for (let i = 0; i < photos.length; i++) {
    if (opts.signal?.aborted) {
      complete = false;
      break;
    }
    const photo = photos[i]!;
    let img: Awaited<ReturnType<typeof decodeRgb>> | null = null;
    const decode = async () =>
      (img ??= await decodeRgb(readFileSync(join(source.root, photo.rel_path)), opts.maxPixels));
    const found = await detections.of(photo.sha256!, decode);
    opts.onProgress?.('detecting', i + 1, photos.length);
    await facesOfPhoto(photo, found, decode, rules, pass);
  }
  return { pass, complete };
}

export async function ingestFaces(store: Store, dir: string, opts: FaceOptions = {}): Promise<FaceReport> {
  const s = faceSettings(opts);
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const source = await scanDataset(store, dir, {
    maxPixels,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (d, t) => opts.onProgress?.('scanning', d, t),
  });
  const { derivedRoot, derivedDs } = await cropsFolder(store, source, dir, opts, s);
  const detector = detectorId(s.tiles);
  const suggestions = suggestionSource();
  const reusable = previousCrops(store.db, derivedDs, s);
  linkDerived(store.db, derivedDs.id, source.datasetId, { kind: 'faces', detector, ...s });
  const drops = droppedKeys(store.db, derivedDs.id);

  const detections = new DetectionCache(join(cacheDirFor(store.file), 'faces'), detector, s.tiles, opts.wasmThreads);
  const rules: FaceRules = { s, drops, reusable, derivedRoot, suggestions };
  const { pass, complete } = await passOverPhotos(store, source, detections, rules, { ...opts, maxPixels });
  const pairs = collapseNearDuplicates(pass, s.dedupe, derivedRoot);

  // crops of faces that are gone (a photo removed or changed, a face dropped), only after a whole pass
  if (complete) {
    for (const f of listPngs(derivedRoot)) if (!pass.crops.has(f)) rmSync(join(derivedRoot, f), { force: true });
  }
  const derived = await scanDataset(store, derivedRoot, {
    maxPixels,
    onProgress: (d, t) => opts.onProgress?.('indexing', d, t),
  });
  replaceFaces(store.db, derivedDs.id, pass.records);
  const { withFaces, withoutFace, withoutKeptFace } = pass;
  return {
    source,
    derived: { ...derived, sourceDatasetId: source.datasetId },
    photos: {
      withFaces,
      withoutFace: withoutFace.length,
      withoutFaceExamples: withoutFace.slice(0, 20),
      withoutKeptFace: withoutKeptFace.length,
      withoutKeptFaceExamples: withoutKeptFace.slice(0, WITHOUT_KEPT_FACE_LISTED),
      noFaceFound: pass.noFaceFound,
    },
    faces: pass.counts,
    notKept: pass.notKept,
    nearDuplicatePairs: pairs,
    eyeLineUnsure: pass.kept
      .filter((k) => k.rec.cropPath !== null && k.eyeLineShift > EYE_LINE_UNSURE)
      .map((k) => ({ crop: k.name, degrees: k.eyeLineShift })),
    detections: { computed: detections.computed, cached: detections.cached, seconds: round(detections.seconds) },
    crops: pass.cropCounts,
    settings: { ...s, detector },
    complete,
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
