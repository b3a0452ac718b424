/**
 * Datasets: folders of face images referenced in place (never copied), indexed into the store by
 * the trainer's own scan (as a background job with progress), browsed page by page with filters,
 * summarised (formats, resolutions, folders, labels). Deleting a dataset forgets its index and
 * labels; the files stay.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, sep } from 'node:path';
import {
  alignmentFor,
  CamdError,
  DEFAULT_MAX_PIXELS,
  dropFace,
  FACES_DEFAULTS,
  faceById,
  faceOfCrop,
  facesOfSourceImage,
  recordDrop,
  scanDataset,
  findsImages,
  nextTurn,
  IMAGE_EXTENSIONS,
  copySamplePhotos,
  SAMPLE_FACE_SETTINGS,
  type FaceRow,
  type Store,
} from 'camd-studio/trainer';
import type { Dataset, DatasetStats, Face, FaceSettings, ImageDetail, ImageSummary, Job } from '../common/contract.js';
import { failureLine, type CamdCommand } from './camd-command.js';
import type { z } from 'zod';
import type { ImageQuery as ImageQuerySchema } from '../common/contract.js';
import type { EventBus } from '../base/bus.js';
import type { Jobs } from './jobs.js';
import { NotFound } from '../base/errors.js';

/** Shorter-side buckets of the resolution histogram. */
const RESOLUTION_EDGES = [0, 32, 64, 112, 128, 224, 256, 384, 512, 768, 1024, 2048, Infinity];
/** Images read at once when a dataset's summary is counted. */
const STATS_PAGE = 2048;

/** The part of a dataset's summary that only a scan changes, and the index state it was counted at. */
interface IndexStats {
  key: string;
  formats: DatasetStats['formats'];
  resolution: DatasetStats['resolution'];
  folders: DatasetStats['folders'];
}

export class Datasets {
  private readonly indexStats = new Map<number, IndexStats>();

  constructor(
    private readonly store: Store,
    private readonly jobs: Jobs,
    private readonly bus: EventBus,
    /** Runs `camd` commands in their own process: finding faces loads TensorFlow.js and the face models, never into the app's. */
    private readonly camd: CamdCommand | null = null,
  ) {}

  list(): Dataset[] {
    return this.store.datasetSummaries();
  }

  get(id: number): Dataset {
    const d = this.store.datasetSummary(id);
    if (!d) throw new NotFound(`dataset ${id}`);
    return d;
  }

  /**
   * Adds a folder (absolute, or starting with ~) and scans it in the background. Adding it again
   * rescans. With `faces`, the job also finds, aligns and crops every face into a derived dataset
   * (`camd scan --faces` in its own process), which appears in the list when it is made.
   */
  async add(path: string, maxPixels?: number, faces?: FaceSettings): Promise<{ dataset: Dataset; job: Job }> {
    const expanded = path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
    if (!expanded.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(expanded))
      throw new CamdError('input', `${path}: give the folder's full path (it starts with / or ~)`, 'path');
    let root: string;
    try {
      root = await realpath(expanded);
    } catch {
      throw new CamdError('input', `the folder ${path} does not exist`, 'path');
    }
    if (!(await stat(root)).isDirectory()) throw new CamdError('input', `${path} is a file, not a folder`, 'path');
    // a new folder with no image in it is refused now, with its reason (one already known is rescanned: its images may have gone)
    if (!this.store.datasetByRoot(root)) {
      const seen = await findsImages(root);
      if (!seen.found && seen.looked)
        throw new CamdError(
          'input',
          `no images found in ${path}: camd reads ${IMAGE_EXTENSIONS.join(', ')} files${seen.others ? ` (it has ${seen.others} other file(s))` : ' (the folder is empty)'}`,
          'path',
        );
    }
    const row = this.store.ensureDataset(root, basename(root) || root);
    const job = faces ? this.scanFaces(row.id, faces, maxPixels) : this.scan(row.id, maxPixels);
    return { dataset: this.get(row.id), job };
  }

  /**
   * The sample faces that come with the installed packages (the face-model package's photographs,
   * trainer faces/sample.ts), copied into `dir` and added with face finding: for a first run without
   * a folder of one's own.
   */
  async addSample(dir: string): Promise<{ dataset: Dataset; job: Job }> {
    return this.add(copySamplePhotos(dir), undefined, { ...SAMPLE_FACE_SETTINGS });
  }

  /** `camd scan ROOT --faces` as a job: the photos indexed, the faces found and cropped into a derived dataset. */
  private scanFaces(id: number, f: FaceSettings, maxPixels = DEFAULT_MAX_PIXELS, out?: string): Job {
    const camd = this.camd;
    if (!camd)
      throw new CamdError(
        'input',
        'finding faces needs the camd command, which this host was started without',
        'faces',
      );
    const running = this.jobs.runningFor(id);
    if (running) return running;
    const root = this.get(id).root;
    const args = ['scan', root, '--faces', '--json', '--db', this.store.file, '--max-pixels', String(maxPixels)];
    if (out) args.push('--faces-out', out);
    if (f.minScore !== undefined) args.push('--min-score', String(f.minScore));
    if (f.minFace !== undefined) args.push('--min-face', String(f.minFace));
    if (f.margin !== undefined) args.push('--margin', String(f.margin));
    if (f.size !== undefined) args.push('--face-size', String(f.size));
    if (f.dedupe !== undefined && f.dedupe !== null) args.push('--dedupe', String(f.dedupe));
    if (f.tiles !== undefined) args.push('--tiles', String(f.tiles));
    return this.jobs.start('scan', id, async (report, signal) => {
      report('scanning', 0, 0);
      let last: Record<string, unknown> | null = null;
      const onLine = (line: string) => {
        let e: Record<string, unknown>;
        try {
          e = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        if (
          e['type'] === 'progress' &&
          typeof e['phase'] === 'string' &&
          typeof e['done'] === 'number' &&
          typeof e['total'] === 'number'
        )
          report(e['phase'], e['done'], e['total']);
        else if (e['faces']) last = e;
      };
      const r = await camd(args, { timeoutMs: 24 * 3_600_000, maxBuffer: 8 << 20, onLine, signal });
      this.bus.emit('datasets', { id, deleted: false, dataset: this.get(id) });
      const rep = last as {
        derived?: { datasetId?: number };
        faces?: { kept: number; found: number };
        photos?: { withoutFace: number };
      } | null;
      const derivedId = rep?.derived?.datasetId;
      if (typeof derivedId === 'number')
        this.bus.emit('datasets', { id: derivedId, deleted: false, dataset: this.get(derivedId) });
      if (signal.aborted) return 'stopped: the faces found so far are kept';
      if (r.code !== 0) throw new Error(failureLine(r));
      return `${rep?.faces?.kept ?? 0} face crop(s) from ${rep?.faces?.found ?? 0} face(s) found; ${rep?.photos?.withoutFace ?? 0} photo(s) without a usable face`;
    });
  }

  /** The faces of a photo (every detection, with what became of it), or the face a crop shows. */
  facesOfImage(imageId: number): Face[] {
    this.image(imageId);
    const crop = faceOfCrop(this.store.db, imageId);
    const rows = crop ? [crop] : facesOfSourceImage(this.store.db, imageId);
    const derive = new Map<number, FaceSettings>(); // one parse per derived dataset, not per face
    return rows.map((r) => {
      if (!derive.has(r.dataset_id)) derive.set(r.dataset_id, this.deriveOf(r.dataset_id));
      return this.face(r, derive.get(r.dataset_id)!);
    });
  }

  /**
   * "Not a face": the crop leaves its derived dataset now and on every later scan. Undo makes the
   * derived dataset again from its photos (detections from the cache) as a job.
   */
  async dropFace(faceId: number, undo: boolean): Promise<{ face: Face | null; job: Job | null }> {
    const f = faceById(this.store.db, faceId);
    if (!f) throw new NotFound(`face ${faceId}`);
    const ds = this.get(f.dataset_id);
    if (!undo) {
      if (f.status !== 'kept' && f.status !== 'dropped')
        throw new CamdError('input', `face ${faceId} was not kept (${f.status}): there is no crop to drop`, 'face');
      const row = await dropFace(this.store, faceId);
      this.bus.emit('datasets', { id: ds.id, deleted: false, dataset: this.get(ds.id) });
      return { face: this.face(row), job: null };
    }
    if (ds.source_dataset_id === null)
      throw new CamdError('input', `face ${faceId} belongs to no derived dataset`, 'face');
    recordDrop(this.store.db, f.dataset_id, f.source_sha256, f.face_index, true);
    const derive = this.deriveOf(ds.id);
    const job = this.scanFaces(
      ds.source_dataset_id,
      {
        ...(derive.minScore !== undefined ? { minScore: derive.minScore } : {}),
        ...(derive.minFace !== undefined ? { minFace: derive.minFace } : {}),
        ...(derive.margin !== undefined ? { margin: derive.margin } : {}),
        ...(derive.size !== undefined ? { size: derive.size } : {}),
        ...(derive.tiles !== undefined ? { tiles: derive.tiles } : {}),
        dedupe: derive.dedupe ?? null,
      },
      DEFAULT_MAX_PIXELS,
      ds.root,
    );
    return { face: null, job };
  }

  /** What made a derived dataset (its face settings), from the store. */
  private deriveOf(datasetId: number): FaceSettings {
    return JSON.parse((this.store.dataset(datasetId)?.derive as string | null) ?? '{}') as FaceSettings;
  }

  private face(r: FaceRow, d: FaceSettings = this.deriveOf(r.dataset_id)): Face {
    const landmarks = JSON.parse(r.landmarks) as Face['landmarks'];
    const a = alignmentFor(landmarks, d.size ?? FACES_DEFAULTS.size, d.margin ?? FACES_DEFAULTS.margin);
    const at = (x: number, y: number): [number, number] => [
      a.origin[0] + x * a.ax[0] + y * a.ay[0],
      a.origin[1] + x * a.ax[1] + y * a.ay[1],
    ];
    const S = a.size;
    const crop = r.crop_path ? this.store.imageIdAt(r.dataset_id, r.crop_path) : undefined;
    return {
      id: r.id,
      dataset_id: r.dataset_id,
      source_image_id: r.source_image_id,
      crop_image_id: crop ?? null,
      face_index: r.face_index,
      score: r.score,
      box: JSON.parse(r.box) as Face['box'],
      landmarks,
      pose: JSON.parse(r.pose) as Face['pose'],
      status: r.status,
      crop: [at(0, 0), at(S, 0), at(S, S), at(0, S)],
      outside: r.outside,
      suggestions: r.suggestions ? (JSON.parse(r.suggestions) as unknown) : null,
    };
  }

  rescan(id: number, maxPixels?: number): Job {
    this.get(id);
    return this.scan(id, maxPixels);
  }

  private scan(id: number, maxPixels = DEFAULT_MAX_PIXELS): Job {
    const running = this.jobs.runningFor(id);
    if (running) return running;
    const root = this.get(id).root;
    return this.jobs.start('scan', id, async (report, signal) => {
      report('scanning', 0, 0);
      const r = await scanDataset(this.store, root, {
        maxPixels,
        signal,
        onProgress: (done, total) => report('scanning', done, total),
      });
      this.bus.emit('datasets', { id, deleted: false, dataset: this.get(id) });
      return `${r.images} readable image(s), ${r.bad.length} unreadable${skippedText(r)}; ${r.added} added, ${r.changed} changed, ${r.removed} removed${r.complete ? '' : ' (stopped: the rest at the next scan)'}`;
    });
  }

  /** Forgets a dataset (its index and labels; runs keep their records). The folder is untouched. */
  delete(id: number): { deleted: boolean } {
    this.get(id);
    const job = this.jobs.runningFor(id);
    if (job) this.jobs.stop(job.id);
    const active = this.store.unfinishedRunCount(id);
    if (active > 0)
      throw new CamdError('busy', `dataset ${id} is used by ${active} queued or running run(s); stop them first`);
    this.store.deleteDataset(id);
    this.bus.emit('datasets', { id, deleted: true, dataset: null });
    return { deleted: true };
  }

  /** A page of images for a query the API boundary has validated (its defaults filled). */
  images(p: z.output<typeof ImageQuerySchema>): { total: number; items: ImageSummary[] } {
    this.get(p.dataset);
    return this.store.imagePage(p);
  }

  image(id: number): ImageDetail {
    const row = this.store.image(id);
    if (!row) throw new NotFound(`image ${id}`);
    return { ...row, labels: this.store.imageLabels(id) };
  }

  /**
   * A dataset's formats, sizes, folders and labels. The first three change only with a scan, so
   * they are kept per dataset until its index changes; they are counted from pages of the index
   * with the event loop given back between pages (at 100 000 images the three GROUP BY queries held
   * the host 270 ms).
   */
  async stats(id: number): Promise<DatasetStats> {
    const dataset = this.get(id);
    const key = `${dataset.scanned_at}|${dataset.image_count}|${dataset.bad_count}`;
    let index = this.indexStats.get(id);
    if (index?.key !== key) {
      index = { key, ...(await this.countIndex(id)) };
      this.indexStats.set(id, index);
    }
    const rows = this.store.labelValueCounts(id);
    const labels = new Map<string, DatasetStats['labels'][number]>();
    for (const r of rows) {
      const k = `${r.task}\u0000${r.name}`;
      let e = labels.get(k);
      if (!e) labels.set(k, (e = { task: r.task, name: r.name, values: {}, splits: {} }));
      e.values[String(r.value)] = (e.values[String(r.value)] ?? 0) + r.n;
      if (r.split) e.splits[r.split] = (e.splits[r.split] ?? 0) + r.n;
    }
    return {
      dataset: this.get(id),
      formats: index.formats,
      resolution: index.resolution,
      folders: index.folders,
      labels: [...labels.values()],
    };
  }

  /** Formats (unreadable files as 'unreadable'), shorter sides and top-level folders of the readable images, a page at a time. */
  private async countIndex(id: number): Promise<Omit<IndexStats, 'key'>> {
    const formats: Record<string, number> = {};
    const resolution = RESOLUTION_EDGES.slice(0, -1).map((from, k) => ({
      from,
      to: RESOLUTION_EDGES[k + 1]!,
      count: 0,
    }));
    const folders = new Map<string, number>();
    for (let after = ''; ; ) {
      const page = this.store.imageFactsAfter(id, after, STATS_PAGE);
      for (const r of page) {
        const f = r.format ?? 'unreadable';
        formats[f] = (formats[f] ?? 0) + 1;
        if (r.status !== 'ok') continue;
        const side = Math.min(r.width ?? 0, r.height ?? 0);
        resolution.find((b) => side >= b.from && side < b.to)!.count++;
        const slash = r.rel_path.indexOf('/');
        const folder = slash > 0 ? r.rel_path.slice(0, slash) : '';
        folders.set(folder, (folders.get(folder) ?? 0) + 1);
      }
      if (page.length < STATS_PAGE) break;
      after = page.at(-1)!.rel_path;
      await nextTurn();
    }
    return {
      formats,
      resolution: resolution.map((b) => ({ ...b, to: Number.isFinite(b.to) ? b.to : null })),
      folders: [...folders]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([folder, count]) => ({ folder, count })),
    };
  }

  /** Folders whose path starts with `prefix` (for typing a folder's path in browser mode). */
  async completePath(prefix: string): Promise<string[]> {
    const p = prefix === '~' || prefix.startsWith('~/') ? join(homedir(), prefix.slice(1)) : prefix;
    if (!p.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(p)) return [];
    const dir = p.endsWith(sep) || p.endsWith('/') ? p : dirname(p);
    const start = p.endsWith(sep) || p.endsWith('/') ? '' : basename(p);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return [];
    }
    return entries
      .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && e.name.startsWith(start) && !e.name.startsWith('.'))
      .map((e) => join(dir, e.name))
      .sort()
      .slice(0, 50);
  }
}

/** The entries a scan did not read, as the job's message says them: the count, then the first three with their reasons. */
function skippedText(r: { skipped: { path: string; reason: string }[]; skippedTotal: number }): string {
  if (r.skippedTotal === 0) return '';
  const named = r.skipped.slice(0, 3).map((s) => `${s.path} (${s.reason})`);
  const more = r.skippedTotal - named.length;
  return `, ${r.skippedTotal} skipped: ${named.join('; ')}${more > 0 ? ` and ${more} more` : ''}`;
}
