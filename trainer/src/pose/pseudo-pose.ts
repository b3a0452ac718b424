/**
 * Pseudo-labels for head pose on a folder of faces (the crops of `camd scan --faces`, or any face
 * photos): the bundled face model's head pose written as a 300W-LP-style `.mat` beside each image
 * (MAT v5: `Pose_Para` 1×7 = pitch, yaw, roll in radians then four zeros — no translation or scale
 * — and `pt2d` 2×68, the face's 68 points), so that the folder reads as a 300W-LP dataset
 * (`camd finetune --task pose --format 300w-lp`). They are a model's guesses, not annotations: good
 * for trying the task on one's own faces and for tests, not for reporting benchmark numbers.
 *
 * The pose is @vladmandic/human's (FaceMesh's 3-D mesh → a rotation → Euler angles; DetectedFace.pose,
 * degrees). Its yaw and roll have 300W-LP's signs and its pitch the opposite one, measured on real
 * faces (bench/pose-signs.mjs, docs/finetuning.md "Head pose"): positive yaw with the nose left of the
 * jaw's middle, positive roll with the eye on the image's right lower — as 300W-LP — and positive
 * pitch with the nose tip nearer the mouth (the face lowered), where 300W-LP's positive pitch raises
 * the face. So Pose_Para = (−pitch, yaw, roll) of Human's angles, in radians.
 */
import { defaultDetections } from '../faces/detection-cache.js';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { decodeRgb } from '../data/image-io.js';
import { walk } from '../data/walk.js';
import { formatMat } from '../geometry/mat-file.js';
import type { PoseAngles } from './rotation.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { DetectedFace } from '../faces/detector.js';
import { detectorId } from '../faces/model-files.js';

export interface PseudoPoseReport {
  root: string;
  /** Images given a .mat file (written now), and those whose .mat was there already (kept, unless `overwrite`). */
  labelled: number;
  kept: number;
  /** Images where the model found no face, by path (relative to the root). */
  noFace: string[];
  unreadable: { path: string; reason: string }[];
  source: string;
}

/** The .mat file beside an image (`a/b.face0.png` → `a/b.face0.mat`). */
export function matFileOf(image: string): string {
  return join(dirname(image), `${basename(image, extname(image))}.mat`);
}

/** A detected face's pose in the 300W-LP convention (degrees): Human's pitch negated. */
export function poseOfFace(face: Pick<DetectedFace, 'pose'>): PoseAngles {
  return { yaw: face.pose.yaw, pitch: -face.pose.pitch, roll: face.pose.roll };
}

/** The 300W-LP-style .mat of a face: Pose_Para (radians) and pt2d (2×68). */
export function poseMat(angles: PoseAngles, points: readonly (readonly [number, number])[]): Buffer {
  const r = Math.PI / 180;
  return formatMat(
    [
      {
        name: 'Pose_Para',
        rows: 1,
        cols: 7,
        rowMajor: [angles.pitch * r, angles.yaw * r, angles.roll * r, 0, 0, 0, 0],
      },
      {
        name: 'pt2d',
        rows: 2,
        cols: points.length,
        rowMajor: [...points.map((p) => p[0]), ...points.map((p) => p[1])],
      },
    ],
    { description: `camd pseudo-label --task pose (pseudo-labels from ${detectorId()})` },
  );
}

export async function pseudoPose(
  root: string,
  opts: { overwrite?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<PseudoPoseReport> {
  const found = await walk(root);
  const facesOf = defaultDetections();
  const report: PseudoPoseReport = {
    root,
    labelled: 0,
    kept: 0,
    noFace: [],
    unreadable: [],
    source: `${detectorId()} (head pose from the face mesh: pseudo-labels)`,
  };
  let done = 0;
  for (const f of found.files) {
    const mat = matFileOf(f.abs);
    if (!opts.overwrite && existsSync(mat)) report.kept++;
    else {
      let faces;
      try {
        const bytes = readFileSync(f.abs);
        faces = await facesOf(bytes, () => decodeRgb(bytes));
      } catch (e) {
        report.unreadable.push({ path: f.rel, reason: (e as Error).message });
        opts.onProgress?.(++done, found.files.length);
        continue;
      }
      // the face of the image: the largest one found (a crop holds one face, sometimes part of another)
      const face = faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
      if (!face) report.noFace.push(f.rel);
      else {
        writeFileAtomic(mat, poseMat(poseOfFace(face), face.landmarks68));
        report.labelled++;
      }
    }
    opts.onProgress?.(++done, found.files.length);
  }
  return report;
}
