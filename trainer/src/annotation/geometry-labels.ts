/**
 * Face geometry a person drew (store schema 6, table geometry_labels): the landmarks, head pose or
 * parsing label map of the one face of an image, per task and scheme. Each save replaces the
 * image's previous one of that task and scheme in one transaction; undo while drawing is the
 * editor's, before the save. Everything read from the caller is checked here: the scheme's point
 * count, points inside the image, angles in range, a label map of the image's size whose classes
 * are the scheme's.
 */
import type Database from 'better-sqlite3';
import { CamdError } from '../util/errors.js';
import { LANDMARK_SCHEMES, SCHEMES, type LandmarkScheme } from '../geometry/landmark-schemes.js';
import { CLASS_MAPS, type ParsingScheme } from '../parsing/parsing-classes.js';
import { checkLabeller } from '../labels/annotate.js';

export type GeometryTask = 'landmarks' | 'pose' | 'parsing';

/** Pose is one scheme: yaw, pitch, roll in degrees (the 300W-LP/AFLW2000 convention of pose-formats.ts). */
export const POSE_SCHEME = 'ypr';

export type GeometryScheme = LandmarkScheme | typeof POSE_SCHEME | ParsingScheme;

/** Where the person started from: a run's prediction, the bundled face mesh, or nothing. */
export type GeometrySource = `run:${string}` | 'mesh' | 'hand';

export interface LandmarkValue {
  /** Photo pixels, the scheme's order. */
  points: [number, number][];
}

export interface PoseValue {
  yaw: number;
  pitch: number;
  roll: number;
  /** 'landmarks': fitted to the image's landmarks; 'hand': typed or dragged by a person. */
  from: 'landmarks' | 'hand';
}

interface Common {
  imageId: number;
  source: GeometrySource;
  labeller: string;
  updatedAt: string;
}
export type GeometryLabel =
  | (Common & { task: 'landmarks'; scheme: LandmarkScheme; value: LandmarkValue })
  | (Common & { task: 'pose'; scheme: typeof POSE_SCHEME; value: PoseValue })
  | (Common & { task: 'parsing'; scheme: ParsingScheme; mask: Uint8Array });

export type GeometryWrite =
  | { task: 'landmarks'; scheme: LandmarkScheme; value: LandmarkValue }
  | { task: 'pose'; scheme: typeof POSE_SCHEME; value: PoseValue }
  | {
      task: 'parsing';
      scheme: ParsingScheme;
      /** An 8-bit greyscale PNG of the image's size, one class index per pixel. */
      mask: Uint8Array;
    };

interface Row {
  image_id: number;
  task: GeometryTask;
  scheme: string;
  value: string | null;
  mask: Buffer | null;
  source: string;
  labeller: string;
  updated_at: string;
}

const now = () => new Date().toISOString();

/** The scheme is one of the task's; refused in words otherwise. */
export function checkScheme(task: GeometryTask, scheme: string): GeometryScheme {
  const ok =
    task === 'landmarks'
      ? (LANDMARK_SCHEMES as readonly string[]).includes(scheme)
      : task === 'pose'
        ? scheme === POSE_SCHEME
        : scheme in CLASS_MAPS;
  if (!ok) {
    const known =
      task === 'landmarks'
        ? LANDMARK_SCHEMES.join(', ')
        : task === 'pose'
          ? POSE_SCHEME
          : Object.keys(CLASS_MAPS).join(', ');
    throw new CamdError('input', `'${scheme}' is not a ${task} scheme (${known})`, 'scheme');
  }
  return scheme as GeometryScheme;
}

function checkSource(source: string): GeometrySource {
  if (source === 'mesh' || source === 'hand' || /^run:[\w-]{1,80}$/.test(source)) return source as GeometrySource;
  throw new CamdError('input', `'${source}' is not a source (run:<id>, mesh or hand)`, 'source');
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Points of the scheme's count, each inside the image (its pixel area, edges included). */
export function checkLandmarks(
  scheme: LandmarkScheme,
  value: LandmarkValue,
  width: number,
  height: number,
): LandmarkValue {
  const n = SCHEMES[scheme].points;
  if (!Array.isArray(value?.points) || value.points.length !== n)
    throw new CamdError(
      'input',
      `${SCHEMES[scheme].title} has ${n} points; got ${value?.points?.length ?? 'none'}`,
      'points',
    );
  const points = value.points.map((p, i): [number, number] => {
    if (!Array.isArray(p) || p.length !== 2 || !finite(p[0]) || !finite(p[1]))
      throw new CamdError('input', `point ${i + 1} is not [x, y]`, 'points');
    if (p[0] < 0 || p[1] < 0 || p[0] > width || p[1] > height)
      throw new CamdError(
        'input',
        `point ${i + 1} (${p[0].toFixed(1)}, ${p[1].toFixed(1)}) is outside the ${width}×${height} image`,
        'points',
      );
    return [p[0], p[1]];
  });
  return { points };
}

/** Angles in degrees within ±180 (yaw, roll) and ±90 (pitch). */
export function checkPose(value: PoseValue): PoseValue {
  for (const [k, lim] of [
    ['yaw', 180],
    ['pitch', 90],
    ['roll', 180],
  ] as const) {
    const v = value?.[k];
    if (!finite(v) || Math.abs(v) > lim) throw new CamdError('input', `${k} is degrees within ±${lim}`, k);
  }
  if (value.from !== 'landmarks' && value.from !== 'hand')
    throw new CamdError('input', "a pose comes from the landmarks or by hand ('landmarks' or 'hand')", 'from');
  return { yaw: value.yaw, pitch: value.pitch, roll: value.roll, from: value.from };
}

/** The stored image's size, or a refusal when it is not a readable image of the store. */
function imageSize(db: Database.Database, imageId: number): { width: number; height: number } {
  const r = db.prepare("SELECT width, height FROM images WHERE id = ? AND status = 'ok'").get(imageId) as
    | { width: number | null; height: number | null }
    | undefined;
  if (!r?.width || !r.height)
    throw new CamdError('input', `image ${imageId} is not a readable image of the store`, 'image');
  return { width: r.width, height: r.height };
}

/**
 * Saves the face's geometry of one image, replacing what was there for the task and scheme.
 * `checkMask` validates a parsing PNG (decoded by the caller's image library: size and classes).
 */
export function saveGeometryLabel(
  db: Database.Database,
  imageId: number,
  write: GeometryWrite,
  who: { labeller: string; source: string },
  checkMask?: (png: Uint8Array, width: number, height: number, classes: number) => void,
): GeometryLabel {
  const labeller = checkLabeller(who.labeller);
  const source = checkSource(who.source);
  const scheme = checkScheme(write.task, write.scheme);
  const size = imageSize(db, imageId);
  const at = now();
  let value: string | null = null;
  let mask: Buffer | null = null;
  if (write.task === 'landmarks')
    value = JSON.stringify(checkLandmarks(write.scheme, write.value, size.width, size.height));
  else if (write.task === 'pose') value = JSON.stringify(checkPose(write.value));
  else {
    if (!(write.mask instanceof Uint8Array) || write.mask.length === 0)
      throw new CamdError('input', 'a parsing label is a PNG label map', 'mask');
    if (!checkMask) throw new CamdError('internal', 'a parsing label needs its PNG checked');
    checkMask(write.mask, size.width, size.height, CLASS_MAPS[write.scheme].names.length);
    mask = Buffer.from(write.mask);
  }
  db.prepare(
    `INSERT INTO geometry_labels (image_id, task, scheme, value, mask, source, labeller, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (image_id, task, scheme) DO UPDATE SET
       value = excluded.value, mask = excluded.mask, source = excluded.source,
       labeller = excluded.labeller, updated_at = excluded.updated_at`,
  ).run(imageId, write.task, scheme, value, mask, source, labeller, at);
  return geometryLabel(db, imageId, write.task, scheme)!;
}

function fromRow(r: Row): GeometryLabel {
  const common = {
    imageId: r.image_id,
    source: r.source as GeometrySource,
    labeller: r.labeller,
    updatedAt: r.updated_at,
  };
  if (r.task === 'parsing')
    return { ...common, task: 'parsing', scheme: r.scheme as ParsingScheme, mask: new Uint8Array(r.mask!) };
  if (r.task === 'pose')
    return { ...common, task: 'pose', scheme: POSE_SCHEME, value: JSON.parse(r.value!) as PoseValue };
  return {
    ...common,
    task: 'landmarks',
    scheme: r.scheme as LandmarkScheme,
    value: JSON.parse(r.value!) as LandmarkValue,
  };
}

/** The saved geometry of one image for a task and scheme, if any. */
export function geometryLabel(
  db: Database.Database,
  imageId: number,
  task: GeometryTask,
  scheme: string,
): GeometryLabel | undefined {
  const r = db
    .prepare('SELECT * FROM geometry_labels WHERE image_id = ? AND task = ? AND scheme = ?')
    .get(imageId, task, scheme) as Row | undefined;
  return r && fromRow(r);
}

/** Every saved geometry of an image (all tasks and schemes). */
export function geometryLabelsOfImage(db: Database.Database, imageId: number): GeometryLabel[] {
  return (
    db.prepare('SELECT * FROM geometry_labels WHERE image_id = ? ORDER BY task, scheme').all(imageId) as Row[]
  ).map(fromRow);
}

/** A dataset's saved geometry of a task and scheme, in path order, with each image's path. */
export function geometryLabelsOfDataset(
  db: Database.Database,
  datasetId: number,
  task: GeometryTask,
  scheme: string,
): (GeometryLabel & { relPath: string; width: number; height: number })[] {
  checkScheme(task, scheme);
  const rows = db
    .prepare(
      `SELECT g.*, i.rel_path, i.width, i.height FROM geometry_labels g JOIN images i ON i.id = g.image_id
       WHERE i.dataset_id = ? AND g.task = ? AND g.scheme = ? AND i.status = 'ok' ORDER BY i.rel_path`,
    )
    .all(datasetId, task, scheme) as (Row & { rel_path: string; width: number; height: number })[];
  return rows.map((r) => ({ ...fromRow(r), relPath: r.rel_path, width: r.width, height: r.height }));
}

/** Removes the saved geometry of an image for a task and scheme; says whether there was one. */
export function deleteGeometryLabel(
  db: Database.Database,
  imageId: number,
  task: GeometryTask,
  scheme: string,
): boolean {
  checkScheme(task, scheme);
  return (
    db.prepare('DELETE FROM geometry_labels WHERE image_id = ? AND task = ? AND scheme = ?').run(imageId, task, scheme)
      .changes > 0
  );
}
