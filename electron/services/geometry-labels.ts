/**
 * The face geometry a person draws in the app: landmarks (with the head pose fitted to them),
 * head pose, and parsing label maps of one image's face — read, started, saved, deleted and
 * exported in the datasets' formats, over the trainer's annotation module (store schema 6,
 * trainer/src/annotation/). A start comes from a face-alignment run's prediction (Runs.predictImage:
 * `camd predict` in its own process) or from the bundled face mesh (`camd annotations start`, its
 * own process too: the face model never loads into the app's). The contract has checked the shapes;
 * the trainer checks points, angles and schemes again, and decodes a parsing PNG (sharp) to check it
 * is a greyscale label map of the image's size with the scheme's classes (annotation/parsing-mask.ts).
 */
import { join } from 'node:path';
import {
  CamdError,
  exportGeometry,
  exportParsingLabels,
  geometryLabels as G,
  isAbsolutePath,
  poseFromLandmarks,
  saveParsingLabel,
  startFromPrediction,
  type Store,
} from 'camd-studio/trainer';
import type { z } from 'zod';
import type { GeometryExported, GeometryLabel, GeometryStart, ParsingStart } from '../common/contract.js';
import type { GeometryExport, GeometrySave } from '../common/contract.js';
import { NotFound } from '../base/errors.js';
import type { Runs } from './runs.js';
import type { Datasets } from './datasets.js';
import { failureLine, type CamdCommand } from './camd-command.js';

type Task = 'landmarks' | 'pose' | 'parsing';
type Saved = ReturnType<typeof G.geometryLabel>;

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/** A stored label as the contract gives it (a parsing map as base64). */
function view(g: NonNullable<Saved>): GeometryLabel {
  const common = { image: g.imageId, source: g.source, labeller: g.labeller, updatedAt: g.updatedAt };
  if (g.task === 'landmarks') return { task: 'landmarks', scheme: g.scheme, points: g.value.points, ...common };
  if (g.task === 'pose') return { task: 'pose', scheme: 'ypr', pose: g.value, ...common };
  return { task: 'parsing', scheme: g.scheme, mask: Buffer.from(g.mask).toString('base64'), ...common };
}

export class GeometryLabels {
  constructor(
    private readonly store: Store,
    private readonly datasets: Datasets,
    private readonly runs: Runs,
    private readonly camd: CamdCommand,
    private readonly exportsDir: string,
  ) {}

  private image(id: number): { file: string; width: number; height: number } {
    const img = this.store.imageFile(id);
    if (img?.status !== 'ok') throw new NotFound(`image ${id}`);
    const row = this.store.db.prepare('SELECT width, height FROM images WHERE id = ?').get(id) as {
      width: number;
      height: number;
    };
    return { file: join(img.root, img.rel_path), width: row.width, height: row.height };
  }

  get(image: number, task: Task, scheme: string): GeometryLabel | null {
    this.image(image);
    G.checkScheme(task, scheme);
    const g = G.geometryLabel(this.store.db, image, task, scheme);
    return g ? view(g) : null;
  }

  /** The images of a dataset with a saved geometry of the task and scheme. */
  annotated(dataset: number, task: Task, scheme: string): { images: number[] } {
    this.datasets.get(dataset);
    return { images: G.geometryLabelsOfDataset(this.store.db, dataset, task, scheme).map((g) => g.imageId) };
  }

  /** Where an annotation starts: a run's prediction of the largest face, or the face mesh's 68 points. */
  async start(image: number, scheme: string, run?: string): Promise<GeometryStart> {
    const img = this.image(image);
    G.checkScheme('landmarks', scheme);
    let start: { scheme: string; points: [number, number][]; box: [number, number, number, number]; source: string };
    if (run) {
      start = startFromPrediction(await this.runs.predictImage(run, image), scheme as '300w-68', run);
    } else {
      const r = await this.camd(['annotations', 'start', '--image', img.file, '--scheme', scheme, '--json'], {
        timeoutMs: 120_000,
        maxBuffer: 1 << 20,
      });
      if (r.code !== 0) throw new CamdError('input', failureLine(r), 'image');
      const line = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string } & typeof start)
        .find((l) => l.type === 'start');
      if (!line) throw new CamdError('internal', 'camd annotations start gave no points');
      start = line;
    }
    // a model may put a point a little outside the photo: the start is clamped to it, as a save requires
    const points = start.points.map(([x, y]): [number, number] => [
      Math.min(img.width, Math.max(0, x)),
      Math.min(img.height, Math.max(0, y)),
    ]);
    const pose = scheme === '300w-68' ? this.poseOf(points) : null;
    return {
      scheme: scheme as GeometryStart['scheme'],
      points,
      box: start.box,
      source: start.source,
      pose: pose && { yaw: pose.yaw, pitch: pose.pitch, roll: pose.roll },
    };
  }

  /**
   * Where a parsing correction starts: the run's label map of the whole image (its prediction, as the
   * image view shows it), or the face mesh's regions of the largest face (`camd annotations start
   * --task parsing` in its own process; LaPa's classes, never hair).
   */
  async parsingStart(image: number, scheme: string, run?: string): Promise<ParsingStart> {
    const img = this.image(image);
    G.checkScheme('parsing', scheme);
    if (run) {
      const p = await this.runs.predictImage(run, image);
      if (p.task !== 'parsing') throw new CamdError('input', `run ${run} is not a face-parsing run`, 'run');
      if (p.scheme !== scheme) throw new CamdError('input', `run ${run} gives ${p.scheme} maps, not ${scheme}`, 'run');
      if (!p.parsing)
        throw new CamdError('input', 'the face model finds no face here, so the run gives no map', 'image');
      const m = p.parsing.map;
      if (m.x !== 0 || m.y !== 0 || m.width !== img.width || m.height !== img.height)
        throw new CamdError('internal', `the run's map covers ${m.width}×${m.height} at ${m.x}, ${m.y}, not the image`);
      return { scheme: scheme as ParsingStart['scheme'], source: `run:${run}`, mask: m.png, faces: null };
    }
    if (scheme !== 'lapa-11')
      throw new CamdError(
        'input',
        "the face mesh's regions are LaPa's classes (lapa-11): choose a run for this scheme",
        'scheme',
      );
    const r = await this.camd(['annotations', 'start', '--task', 'parsing', '--image', img.file, '--json'], {
      timeoutMs: 120_000,
      maxBuffer: 64 << 20,
    });
    if (r.code !== 0) throw new CamdError('input', failureLine(r), 'image');
    const line = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; scheme: 'lapa-11'; faces: number | null; png: string })
      .find((l) => l.type === 'start');
    if (!line) throw new CamdError('internal', 'camd annotations start gave no label map');
    return { scheme: line.scheme, source: 'mesh', mask: line.png, faces: line.faces };
  }

  /** Saves a geometry (landmarks optionally with their fitted pose, a pose, or a parsing label map). */
  async save(p: z.output<typeof GeometrySave>): Promise<{ label: GeometryLabel; pose: GeometryLabel | null }> {
    this.image(p.image); // a readable image of the store, or NotFound
    const who = { labeller: p.labeller, source: p.source };
    const db = this.store.db;
    if (p.task === 'parsing') {
      // the PNG decoded and held to the image's size and the scheme's classes (annotation/parsing-mask.ts)
      const { label } = await saveParsingLabel(
        db,
        p.image,
        p.scheme,
        new Uint8Array(Buffer.from(p.mask, 'base64')),
        who,
      );
      return { label: view(label), pose: null };
    }
    if (p.task === 'pose') {
      const label = G.saveGeometryLabel(
        db,
        p.image,
        { task: 'pose', scheme: G.POSE_SCHEME, value: { ...p.pose, from: 'hand' } },
        who,
      );
      return { label: view(label), pose: null };
    }
    if (p.withPose && p.scheme !== '300w-68')
      throw new CamdError('input', "a pose is fitted to 300W's 68 points only", 'withPose');
    const pose = p.withPose ? this.poseOf(p.points) : null;
    // both in one transaction: the landmarks and the pose they imply are saved together or not at all
    const saved = db.transaction(() => {
      const label = G.saveGeometryLabel(
        db,
        p.image,
        { task: 'landmarks', scheme: p.scheme, value: { points: p.points } },
        who,
      );
      const poseLabel = pose
        ? G.saveGeometryLabel(
            db,
            p.image,
            {
              task: 'pose',
              scheme: G.POSE_SCHEME,
              value: { yaw: pose.yaw, pitch: pose.pitch, roll: pose.roll, from: 'landmarks' },
            },
            who,
          )
        : null;
      return { label: view(label), pose: poseLabel && view(poseLabel) };
    })();
    return saved;
  }

  delete(image: number, task: Task, scheme: string): { deleted: boolean } {
    this.image(image);
    return { deleted: G.deleteGeometryLabel(this.store.db, image, task, scheme) };
  }

  /** The head pose fitted to 68 points (300W order). */
  poseOf(points: [number, number][]): { yaw: number; pitch: number; roll: number; rms: number } {
    const f = poseFromLandmarks(points);
    return { yaw: f.yaw, pitch: f.pitch, roll: f.roll, rms: Math.round(f.rms * 100) / 100 };
  }

  /** Writes the dataset's landmarks, poses or parsing label maps in a dataset format: a new folder under exports/ (or the given absolute folder). */
  async export(p: z.output<typeof GeometryExport>): Promise<GeometryExported> {
    const ds = this.datasets.get(p.dataset);
    if (p.out !== undefined && !isAbsolutePath(p.out))
      throw new CamdError('input', `out must be an absolute folder path, got '${p.out}'`, 'out');
    const slug =
      ds.name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '')
        .slice(0, 40) || 'dataset';
    const folder = p.out ?? join(this.exportsDir, `${slug}-${p.task}-${p.format}-${stamp()}`);
    if (p.task === 'parsing' || p.format === 'lapa') {
      if (p.task !== 'parsing' || p.format !== 'lapa')
        throw new CamdError(
          'input',
          "parsing label maps are written in LaPa's layout (lapa), and only they are",
          'format',
        );
      const r = await exportParsingLabels(this.store.db, p.dataset, p.scheme ?? 'lapa-11', folder);
      return {
        folder: r.out,
        files: r.files,
        faces: r.written,
        skipped: r.skipped,
        readBack: `camd finetune --task parsing --format lapa --data ${r.out}`,
      };
    }
    const r = exportGeometry(this.store.db, {
      dataset: p.dataset,
      task: p.task,
      format: p.format,
      ...(p.scheme ? { scheme: p.scheme } : {}),
      out: folder,
    });
    return { folder: r.out, files: r.files, faces: r.faces, skipped: r.skipped, readBack: r.readBack };
  }
}
