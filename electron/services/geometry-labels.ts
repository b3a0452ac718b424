/**
 * The face geometry a person draws in the app: landmarks (with the head pose fitted to them),
 * head pose, and parsing label maps of one image's face — read, started, saved, deleted and
 * exported in the datasets' formats, over the trainer's annotation module (store schema 6,
 * trainer/src/annotation/). A start comes from a face-alignment run's prediction (Runs.predictImage:
 * `camd predict` in its own process) or from the bundled face mesh (`camd annotations start`, its
 * own process too: the face model never loads into the app's). The contract has checked the shapes;
 * the trainer checks points, angles and schemes again, and a parsing PNG is decoded here (sharp) to
 * check it is a greyscale label map of the image's size with the scheme's classes.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import {
  CamdError,
  CLASS_MAPS,
  exportGeometry,
  geometryLabels as G,
  isAbsolutePath,
  poseFromLandmarks,
  startFromPrediction,
  type Store,
} from 'camd-studio/trainer';
import type { z } from 'zod';
import type { GeometryExported, GeometryLabel, GeometryStart } from '../common/contract.js';
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

/** The decoded label map of a PNG, checked: one channel of 8 bits, the image's size, classes below `classes`. */
export async function checkLabelMap(png: Uint8Array, width: number, height: number, classes: number): Promise<void> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(png, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new CamdError('input', `the mask is not a readable image (${(e as Error).message})`, 'mask');
  }
  if (meta.format !== 'png')
    throw new CamdError('input', `the mask is a ${meta.format ?? 'unknown'} image, not a PNG`, 'mask');
  if (meta.width !== width || meta.height !== height)
    throw new CamdError('input', `the mask is ${meta.width}×${meta.height}; the image is ${width}×${height}`, 'mask');
  if (meta.channels !== 1 || meta.depth !== 'uchar' || meta.isPalette)
    throw new CamdError('input', 'the mask must be an 8-bit greyscale PNG (one class index per pixel)', 'mask');
  const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  let max = 0;
  for (const v of data) if (v > max) max = v;
  if (max >= classes)
    throw new CamdError(
      'input',
      `the mask has class ${max}; the scheme has ${classes} classes (0–${classes - 1})`,
      'mask',
    );
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

  /** Saves a geometry (landmarks optionally with their fitted pose, a pose, or a parsing label map). */
  async save(p: z.output<typeof GeometrySave>): Promise<{ label: GeometryLabel; pose: GeometryLabel | null }> {
    const img = this.image(p.image);
    const who = { labeller: p.labeller, source: p.source };
    const db = this.store.db;
    if (p.task === 'parsing') {
      const png = Buffer.from(p.mask, 'base64');
      G.checkScheme('parsing', p.scheme);
      await checkLabelMap(png, img.width, img.height, CLASS_MAPS[p.scheme].names.length);
      // decoding is asynchronous (sharp) and the save one synchronous transaction: the callback
      // makes sure the bytes saved are the bytes checked
      const label = G.saveGeometryLabel(db, p.image, { task: 'parsing', scheme: p.scheme, mask: png }, who, (m) => {
        if (m !== png) throw new CamdError('internal', 'a parsing mask was saved unchecked');
      });
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

  /** Writes the dataset's landmarks or poses in a dataset format: a new folder under exports/ (or the given absolute folder). */
  export(p: z.output<typeof GeometryExport>): GeometryExported {
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
