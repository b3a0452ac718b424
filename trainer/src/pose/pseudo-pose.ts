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
import { basename, dirname, extname, join } from 'node:path';
import { type PseudoLabelOptions, type PseudoLabelReport, pseudoLabelFolder } from '../faces/pseudo-label-folder.js';
import { formatMat } from '../geometry/mat-file.js';
import type { PoseAngles } from './rotation.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { DetectedFace } from '../faces/detector.js';
import { detectorId } from '../faces/model-files.js';

export type PseudoPoseReport = PseudoLabelReport;

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

export function pseudoPose(root: string, opts: PseudoLabelOptions = {}): Promise<PseudoPoseReport> {
  return pseudoLabelFolder(root, opts, {
    source: `${detectorId()} (head pose from the face mesh: pseudo-labels)`,
    fileOf: matFileOf,
    write: (mat, face) => writeFileAtomic(mat, poseMat(poseOfFace(face), face.landmarks68)),
  });
}
