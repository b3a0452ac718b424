/**
 * A dataset's saved face geometry (annotation/geometry-labels.ts) written in the files the
 * datasets use, so that what a person annotated in the app trains and evaluates like a downloaded
 * benchmark (`camd finetune --task landmarks|pose --format …`) and reads in other tools:
 *
 *   landmarks 'pts'     300W: each annotated image copied into OUT at its path in the dataset, its
 *                       .pts beside it (pts-file.ts)            → --format 300w --data OUT
 *   landmarks 'wflw'    one WFLW annotation-list line per face (98 points, the points' box, six
 *                       zero attribute flags, the image path relative to the dataset root), in
 *                       OUT/list_98pt_rect_attr.txt             → --format wflw --data FILE --images ROOT
 *   landmarks 'aflw19'  HRNet's AFLW-19 CSV (header, then image_name, scale, box_size, center_w,
 *                       center_h and the 19 points), OUT/aflw19.csv → --format aflw19 --data FILE --images ROOT
 *   landmarks 'json'    OUT/landmarks-<scheme>.json: every face's points, photo pixels (0-based)
 *   pose 'csv'|'json'   OUT/pose.csv (image, yaw, pitch, roll in degrees) or OUT/pose.json
 *   pose 'mat'          300W-LP: each image copied into OUT, `X.mat` beside it with Pose_Para
 *                       (pitch, yaw, roll in radians, then four zeros) and pt2d (2×N: the image's
 *                       saved landmarks, 300W's 68 first)  → --format 300w-lp --data OUT
 *
 * Box of a face: the box of its points (WFLW: x_min y_min x_max y_max; AFLW-19: box_size =
 * √(w·h), scale = box_size / 200 as HRNet's crop takes 200·scale pixels). Coordinates are written
 * as the readers read them: .pts 1-based (pts-file.ts), WFLW and AFLW-19 0-based as written.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import type Database from 'better-sqlite3';
import { formatPts } from '../geometry/pts-file.js';
import { LANDMARK_SCHEMES, type LandmarkScheme } from '../geometry/landmark-schemes.js';
import { formatMat } from '../geometry/mat-file.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { CamdError } from '../util/errors.js';
import { type GeometryLabel, geometryLabel, geometryLabelsOfDataset, POSE_SCHEME } from './geometry-labels.js';

export const LANDMARK_EXPORT_FORMATS = ['pts', 'wflw', 'aflw19', 'json'] as const;
export const POSE_EXPORT_FORMATS = ['csv', 'json', 'mat'] as const;
export type LandmarkExportFormat = (typeof LANDMARK_EXPORT_FORMATS)[number];
export type PoseExportFormat = (typeof POSE_EXPORT_FORMATS)[number];

/** The scheme a landmark format holds: .pts and json any (300W's 68 by default), WFLW's and AFLW's their own. */
export const FORMAT_SCHEME: Record<LandmarkExportFormat, LandmarkScheme | null> = {
  pts: null,
  wflw: 'wflw-98',
  aflw19: 'aflw-19',
  json: null,
};

export interface ExportRequest {
  dataset: number;
  task: 'landmarks' | 'pose';
  format: string;
  /** Landmarks: the scheme (required by nothing but pts and json; checked against wflw and aflw19). */
  scheme?: string;
  out: string;
}

export interface ExportReport {
  task: 'landmarks' | 'pose';
  format: string;
  scheme: string;
  out: string;
  /** The annotation files written (a list or CSV counts once; .pts and .mat once per image). */
  files: string[];
  /** Faces written. */
  faces: number;
  /** Images left out, with why. */
  skipped: { path: string; reason: string }[];
  /** How `camd finetune` reads the export back, when it does. */
  readBack: string | null;
}

type Located = { relPath: string; width: number; height: number };
type LandmarkRow = Extract<GeometryLabel, { task: 'landmarks' }> & Located;
type PoseRow = Extract<GeometryLabel, { task: 'pose' }> & Located;

/** The points' box: x_min, y_min, x_max, y_max. */
function boxOf(points: readonly (readonly [number, number])[]): [number, number, number, number] {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

const num = (v: number) => String(Math.round(v * 1000) / 1000);

/** The dataset's root, or a refusal naming the id. */
function datasetRoot(db: Database.Database, id: number): string {
  const r = db.prepare('SELECT root FROM datasets WHERE id = ?').get(id) as { root: string } | undefined;
  if (!r) throw new CamdError('input', `there is no dataset ${id} in the store`, 'dataset');
  return r.root;
}

/** The image's copy in OUT (a path inside OUT even for a hostile relative path). */
function inside(out: string, relPath: string): string {
  const abs = resolve(out, relPath);
  if (!abs.startsWith(`${resolve(out)}${sep}`))
    throw new CamdError('input', `the image path '${relPath}' leaves the export folder`, 'image');
  return abs;
}

/** Copies the image to its place in OUT (once), making its folder. */
function copyImage(root: string, out: string, relPath: string): string {
  const to = inside(out, relPath);
  mkdirSync(dirname(to), { recursive: true });
  if (resolve(root, relPath) !== to) copyFileSync(join(root, relPath), to);
  return to;
}

const stemPath = (p: string, ext: string) => p.slice(0, p.length - extname(p).length) + ext;

function exportLandmarks(
  db: Database.Database,
  req: ExportRequest,
  root: string,
  scheme: LandmarkScheme,
  rows: LandmarkRow[],
): ExportReport {
  const out = req.out;
  const files: string[] = [];
  const base = {
    task: 'landmarks' as const,
    format: req.format,
    scheme,
    out,
    skipped: [] as ExportReport['skipped'],
    faces: rows.length,
  };
  switch (req.format as LandmarkExportFormat) {
    case 'pts': {
      for (const r of rows) {
        const img = copyImage(root, out, r.relPath);
        const file = stemPath(img, '.pts');
        writeFileAtomic(file, Buffer.from(formatPts(r.value.points.flat()), 'utf8'));
        files.push(file);
      }
      return {
        ...base,
        files,
        readBack: scheme === '300w-68' ? `camd finetune --task landmarks --format 300w --data ${out}` : null,
      };
    }
    case 'wflw': {
      // the list is split on white space: a path with a space in it cannot be written
      const skipped = rows
        .filter((r) => /\s/.test(r.relPath))
        .map((r) => ({ path: r.relPath, reason: 'a WFLW list cannot hold a path with white space in it' }));
      const kept = rows.filter((r) => !/\s/.test(r.relPath));
      if (!kept.length)
        throw new CamdError(
          'input',
          `every annotated image's path has white space in it: ${skipped[0]!.reason}`,
          'format',
        );
      const lines = kept.map((r) => {
        const [x0, y0, x1, y1] = boxOf(r.value.points);
        return [
          ...r.value.points.flat().map(num),
          num(x0),
          num(y0),
          num(x1),
          num(y1),
          '0',
          '0',
          '0',
          '0',
          '0',
          '0',
          r.relPath,
        ].join(' ');
      });
      const file = join(out, 'list_98pt_rect_attr.txt');
      writeFileAtomic(file, Buffer.from(`${lines.join('\n')}\n`, 'utf8'));
      return {
        ...base,
        faces: kept.length,
        skipped,
        files: [file],
        readBack: `camd finetune --task landmarks --format wflw --data ${file} --images ${root}`,
      };
    }
    case 'aflw19': {
      const header = ['image_name', 'scale', 'box_size', 'center_w', 'center_h'];
      for (let i = 0; i < 19; i++) header.push(`x${i}`, `y${i}`);
      const lines = rows.map((r) => {
        const [x0, y0, x1, y1] = boxOf(r.value.points);
        const size = Math.max(1, Math.sqrt((x1 - x0) * (y1 - y0)));
        const name = /[",\n]/.test(r.relPath) ? `"${r.relPath.replaceAll('"', '""')}"` : r.relPath;
        return [
          name,
          num(size / 200),
          num(size),
          num((x0 + x1) / 2),
          num((y0 + y1) / 2),
          ...r.value.points.flat().map(num),
        ].join(',');
      });
      const file = join(out, 'aflw19.csv');
      writeFileAtomic(file, Buffer.from(`${[header.join(','), ...lines].join('\n')}\n`, 'utf8'));
      return {
        ...base,
        files: [file],
        readBack: `camd finetune --task landmarks --format aflw19 --data ${file} --images ${root}`,
      };
    }
    case 'json': {
      const file = join(out, `landmarks-${scheme}.json`);
      const doc = {
        scheme,
        root,
        coordinates: 'photo pixels, 0-based (the centre of the top-left pixel is 0, 0)',
        faces: rows.map((r) => ({
          image: r.relPath,
          width: r.width,
          height: r.height,
          points: r.value.points,
          source: r.source,
          labeller: r.labeller,
          updatedAt: r.updatedAt,
          pose: poseOf(db, r.imageId),
        })),
      };
      writeFileAtomic(file, Buffer.from(`${JSON.stringify(doc, null, 1)}\n`, 'utf8'));
      return { ...base, files: [file], readBack: null };
    }
  }
  throw new CamdError(
    'usage',
    `landmarks are exported as ${LANDMARK_EXPORT_FORMATS.join(', ')}; got '${req.format}'`,
    'format',
  );
}

function poseOf(db: Database.Database, imageId: number): { yaw: number; pitch: number; roll: number } | null {
  const p = geometryLabel(db, imageId, 'pose', POSE_SCHEME);
  return p?.task === 'pose' ? { yaw: p.value.yaw, pitch: p.value.pitch, roll: p.value.roll } : null;
}

/** The image's saved landmarks for pt2d: 300W's 68 first, else any scheme's. */
function pointsOf(db: Database.Database, imageId: number): [number, number][] | null {
  for (const s of LANDMARK_SCHEMES) {
    const l = geometryLabel(db, imageId, 'landmarks', s);
    if (l?.task === 'landmarks') return l.value.points;
  }
  return null;
}

/**
 * A 300W-LP-style .mat (as pose/pseudo-pose.ts writes the face model's): Pose_Para 1×7 = pitch,
 * yaw, roll in radians and four zeros, pt2d 2×N. Written here rather than through pseudo-pose.ts so
 * that the app's main process, which exports, never loads the face model's modules.
 */
function poseMatOf(
  a: { yaw: number; pitch: number; roll: number },
  points: readonly (readonly [number, number])[],
): Buffer {
  const r = Math.PI / 180;
  return formatMat(
    [
      { name: 'Pose_Para', rows: 1, cols: 7, rowMajor: [a.pitch * r, a.yaw * r, a.roll * r, 0, 0, 0, 0] },
      {
        name: 'pt2d',
        rows: 2,
        cols: points.length,
        rowMajor: [...points.map((p) => p[0]), ...points.map((p) => p[1])],
      },
    ],
    { description: 'camd annotations export (landmarks and head pose a person annotated)' },
  );
}

function exportPose(db: Database.Database, req: ExportRequest, root: string, rows: PoseRow[]): ExportReport {
  const out = req.out;
  const base = { task: 'pose' as const, format: req.format, scheme: POSE_SCHEME, out };
  switch (req.format as PoseExportFormat) {
    case 'csv': {
      const file = join(out, 'pose.csv');
      const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
      const lines = rows.map((r) =>
        [q(r.relPath), num(r.value.yaw), num(r.value.pitch), num(r.value.roll), r.value.from].join(','),
      );
      writeFileAtomic(file, Buffer.from(`${['image,yaw,pitch,roll,from', ...lines].join('\n')}\n`, 'utf8'));
      return { ...base, files: [file], faces: rows.length, skipped: [], readBack: null };
    }
    case 'json': {
      const file = join(out, 'pose.json');
      const doc = {
        convention:
          "degrees, 300W-LP's: positive yaw turns the nose to the image's left, positive pitch raises the face, positive roll lowers the eye on the image's right",
        root,
        faces: rows.map((r) => ({
          image: r.relPath,
          ...r.value,
          source: r.source,
          labeller: r.labeller,
          updatedAt: r.updatedAt,
        })),
      };
      writeFileAtomic(file, Buffer.from(`${JSON.stringify(doc, null, 1)}\n`, 'utf8'));
      return { ...base, files: [file], faces: rows.length, skipped: [], readBack: null };
    }
    case 'mat': {
      const files: string[] = [];
      const skipped: { path: string; reason: string }[] = [];
      for (const r of rows) {
        const pts = pointsOf(db, r.imageId);
        if (!pts) {
          skipped.push({
            path: r.relPath,
            reason: 'no saved landmarks for pt2d (300W-LP keeps the 2-D points with the pose)',
          });
          continue;
        }
        const img = copyImage(root, out, r.relPath);
        const file = stemPath(img, '.mat');
        writeFileAtomic(file, poseMatOf(r.value, pts));
        files.push(file);
      }
      return {
        ...base,
        files,
        faces: files.length,
        skipped,
        readBack: `camd finetune --task pose --format 300w-lp --data ${out}`,
      };
    }
  }
  throw new CamdError(
    'usage',
    `poses are exported as ${POSE_EXPORT_FORMATS.join(', ')}; got '${req.format}'`,
    'format',
  );
}

/** Writes the dataset's saved landmarks or poses in a dataset format into `out` (made when missing). */
export function exportGeometry(db: Database.Database, req: ExportRequest): ExportReport {
  const root = datasetRoot(db, req.dataset);
  if (req.task === 'landmarks' && !(LANDMARK_EXPORT_FORMATS as readonly string[]).includes(req.format))
    throw new CamdError(
      'usage',
      `landmarks are exported as ${LANDMARK_EXPORT_FORMATS.join(', ')}; got '${req.format}'`,
      'format',
    );
  if (req.task === 'pose' && !(POSE_EXPORT_FORMATS as readonly string[]).includes(req.format))
    throw new CamdError(
      'usage',
      `poses are exported as ${POSE_EXPORT_FORMATS.join(', ')}; got '${req.format}'`,
      'format',
    );
  if (req.task !== 'landmarks' && req.task !== 'pose')
    throw new CamdError('usage', `the task is landmarks or pose; got '${req.task as string}'`, 'task');
  if (existsSync(req.out) && resolve(req.out) === resolve(root))
    throw new CamdError('input', 'export into another folder than the dataset itself', 'out');
  mkdirSync(req.out, { recursive: true });
  if (req.task === 'pose') {
    const rows = geometryLabelsOfDataset(db, req.dataset, 'pose', POSE_SCHEME) as PoseRow[];
    if (!rows.length) throw new CamdError('input', `dataset ${req.dataset} has no saved head poses`, 'dataset');
    return exportPose(db, req, root, rows);
  }
  const fixed = FORMAT_SCHEME[req.format as LandmarkExportFormat];
  const scheme = (req.scheme ?? fixed ?? '300w-68') as LandmarkScheme;
  if (fixed && scheme !== fixed)
    throw new CamdError('usage', `the ${req.format} format holds ${fixed} points; got --scheme ${scheme}`, 'scheme');
  const rows = geometryLabelsOfDataset(db, req.dataset, 'landmarks', scheme) as LandmarkRow[];
  if (!rows.length) throw new CamdError('input', `dataset ${req.dataset} has no saved ${scheme} landmarks`, 'dataset');
  return exportLandmarks(db, req, root, scheme, rows);
}
