/**
 * `camd annotations start` (the face mesh's 68 points on an image's largest face, where a landmark
 * annotation starts: annotation/landmark-start.ts) and `camd annotations export` (a dataset's
 * saved landmarks or poses in a dataset format: annotation/export-landmarks.ts).
 */
import { resolve } from 'node:path';
import { CamdError } from '../util/errors.js';
import { LANDMARK_SCHEMES, type LandmarkScheme } from '../geometry/landmark-schemes.js';

export interface AnnotationsStartOptions {
  image?: string;
  scheme: string;
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
  const { startFromMesh } = await import('../annotation/landmark-start.js');
  const { poseFromLandmarks } = await import('../annotation/pose-from-landmarks.js');
  const start = await startFromMesh(resolve(o.image), schemeOf(o.scheme));
  const { scale: _s, rms: _r, ...pose } = poseFromLandmarks(start.points);
  if (o.json) return void process.stdout.write(`${JSON.stringify({ type: 'start', ...start, pose })}\n`);
  process.stdout.write(
    `${start.points.length} points (${start.scheme}, from the face mesh: a model's guess) on the face at ${start.box.map((v) => Math.round(v)).join(', ')}; fitted pose yaw ${pose.yaw}°, pitch ${pose.pitch}°, roll ${pose.roll}°\n`,
  );
}

export async function exportCommand(o: AnnotationsExportOptions): Promise<void> {
  if (!o.dataset) throw new CamdError('usage', '--dataset is required: the dataset by id or name', 'dataset');
  if (!o.format)
    throw new CamdError(
      'usage',
      '--format is required (landmarks: pts, wflw, aflw19, json; pose: csv, json, mat)',
      'format',
    );
  if (!o.out) throw new CamdError('usage', '--out is required: the folder to write into', 'out');
  if (o.task !== 'landmarks' && o.task !== 'pose')
    throw new CamdError('usage', `--task must be landmarks or pose, got '${o.task}'`, 'task');
  if (o.scheme !== undefined) schemeOf(o.scheme);
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
