/**
 * `camd annotations start` (the face mesh's 68 points on an image's largest face, where a landmark
 * annotation starts: annotation/landmark-start.ts; with --task parsing, the label map a parsing
 * correction starts from: a parsing model's or the mesh's regions, annotation/parsing-start.ts) and
 * `camd annotations export` (a dataset's saved landmarks or poses in a dataset format:
 * annotation/export-landmarks.ts; parsing label maps in LaPa's layout: annotation/export-parsing.ts).
 */
import { resolve } from 'node:path';
import { CamdError } from '../util/errors.js';
import { LANDMARK_SCHEMES, type LandmarkScheme } from '../geometry/landmark-schemes.js';

export interface AnnotationsStartOptions {
  image?: string;
  task: string;
  scheme?: string;
  checkpoint?: string;
  json?: boolean;
}

export interface AnnotationsExportOptions {
  dataset?: string;
  task: string;
  format?: string;
  scheme?: string;
  out?: string;
  db?: string;
  json?: boolean;
}

function schemeOf(s: string): LandmarkScheme {
  if (!(LANDMARK_SCHEMES as readonly string[]).includes(s))
    throw new CamdError('usage', `--scheme must be one of ${LANDMARK_SCHEMES.join(', ')}, got '${s}'`, 'scheme');
  return s as LandmarkScheme;
}

export async function startCommand(o: AnnotationsStartOptions): Promise<void> {
  if (!o.image) throw new CamdError('usage', '--image is required: the image to start on', 'image');
  if (o.task === 'parsing') return parsingStartCommand(resolve(o.image), o);
  if (o.task !== 'landmarks')
    throw new CamdError('usage', `--task must be landmarks or parsing, got '${o.task}'`, 'task');
  if (o.checkpoint !== undefined)
    throw new CamdError(
      'usage',
      "--checkpoint is for --task parsing (a landmark run's start is its prediction: camd predict)",
      'checkpoint',
    );
  const { startFromMesh } = await import('../annotation/landmark-start.js');
  const { poseFromLandmarks } = await import('../annotation/pose-from-landmarks.js');
  const start = await startFromMesh(resolve(o.image), schemeOf(o.scheme ?? '300w-68'));
  // the head pose is fitted to 300W's 68 points only
  const fit = start.points.length === 68 ? poseFromLandmarks(start.points) : null;
  const pose = fit && { yaw: fit.yaw, pitch: fit.pitch, roll: fit.roll };
  if (o.json) return void process.stdout.write(`${JSON.stringify({ type: 'start', ...start, pose })}\n`);
  process.stdout.write(
    `${start.points.length} points (${start.scheme}, from the face mesh: a model's guess) on the face at ${start.box.map((v) => Math.round(v)).join(', ')}${pose ? `; fitted pose yaw ${pose.yaw}°, pitch ${pose.pitch}°, roll ${pose.roll}°` : ''}\n`,
  );
}

/** The label map a parsing correction of `image` starts from: `--checkpoint`'s model's, else the face mesh's regions (LaPa's classes). */
async function parsingStartCommand(image: string, o: AnnotationsStartOptions): Promise<void> {
  const { parsingStart } = await import('../annotation/parsing-start.js');
  const start = await parsingStart(image, o.checkpoint ? { model: resolve(o.checkpoint) } : 'mesh');
  if (!start) throw new CamdError('input', `${image}: the face model finds no face here to start from`, 'image');
  if (o.scheme !== undefined && o.scheme !== start.scheme)
    throw new CamdError('input', `the start is a ${start.scheme} map, not ${o.scheme}`, 'scheme');
  const source = o.checkpoint ? 'run' : 'mesh';
  if (o.json)
    return void process.stdout.write(
      `${JSON.stringify({ type: 'start', task: 'parsing', scheme: start.scheme, source, faces: start.faces, width: start.map.width, height: start.map.height, png: start.png.toString('base64') })}\n`,
    );
  process.stdout.write(
    `a ${start.map.width}×${start.map.height} ${start.scheme} label map from ${o.checkpoint ? o.checkpoint : "the face mesh's regions"} (a model's guess, to be corrected)\n`,
  );
}

export async function exportCommand(o: AnnotationsExportOptions): Promise<void> {
  if (!o.dataset) throw new CamdError('usage', '--dataset is required: the dataset by id or name', 'dataset');
  if (!o.format)
    throw new CamdError(
      'usage',
      '--format is required (landmarks: pts, wflw, aflw19, json; pose: csv, json, mat; parsing: lapa)',
      'format',
    );
  if (!o.out) throw new CamdError('usage', '--out is required: the folder to write into', 'out');
  if (o.task !== 'landmarks' && o.task !== 'pose' && o.task !== 'parsing')
    throw new CamdError('usage', `--task must be landmarks, pose or parsing, got '${o.task}'`, 'task');
  if (o.task === 'parsing' && o.format !== 'lapa')
    throw new CamdError('usage', `parsing label maps are written as lapa (LaPa's layout), not '${o.format}'`, 'format');
  if (o.scheme !== undefined && o.task !== 'parsing') schemeOf(o.scheme);
  const { Store } = await import('../store/store.js');
  const { defaultDbPath } = await import('../util/paths.js');
  const { exportGeometry } = await import('../annotation/export-landmarks.js');
  const store = new Store(o.db ? resolve(o.db) : defaultDbPath());
  try {
    const byId = /^\d+$/.test(o.dataset) ? store.dataset(Number(o.dataset)) : undefined;
    const rows = byId
      ? [byId]
      : (store.db.prepare('SELECT id, name FROM datasets WHERE name = ?').all(o.dataset) as { id: number }[]);
    if (rows.length === 0)
      throw new CamdError('input', `there is no dataset '${o.dataset}' in ${store.file}`, 'dataset');
    if (rows.length > 1)
      throw new CamdError('input', `${rows.length} datasets are named '${o.dataset}'; give its id`, 'dataset');
    if (o.task === 'parsing') {
      const { exportParsingLabels } = await import('../annotation/export-parsing.js');
      const r = await exportParsingLabels(store.db, rows[0]!.id, o.scheme ?? 'lapa-11', resolve(o.out));
      const readBack = `camd finetune --task parsing --format lapa --data ${r.out}`;
      if (o.json)
        return void process.stdout.write(`${JSON.stringify({ type: 'annotations-export', ...r, readBack })}\n`);
      process.stdout.write(
        `${r.written} label map(s) (${r.scheme}) written in LaPa's layout to ${r.out}\n` +
          r.skipped.map((s) => `  left out: ${s.path}: ${s.reason}\n`).join('') +
          `  read back with: ${readBack}\n`,
      );
      return;
    }
    const r = exportGeometry(store.db, {
      dataset: rows[0]!.id,
      task: o.task,
      format: o.format,
      ...(o.scheme ? { scheme: o.scheme } : {}),
      out: resolve(o.out),
    });
    if (o.json) return void process.stdout.write(`${JSON.stringify({ type: 'annotations-export', ...r })}\n`);
    process.stdout.write(
      `${r.faces} face(s) of ${o.task} (${r.scheme}) written as ${r.format} to ${r.out}: ${r.files.length} file(s)\n` +
        r.skipped.map((s) => `  left out: ${s.path}: ${s.reason}\n`).join('') +
        (r.readBack ? `  read back with: ${r.readBack}\n` : ''),
    );
  } finally {
    store.close();
  }
}
