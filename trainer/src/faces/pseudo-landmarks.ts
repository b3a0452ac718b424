/**
 * Pseudo-labels for face alignment on a folder of faces (the crops of `camd scan --faces`, or any
 * face photos): the bundled face model's 68 points (FaceMesh through geometry/mesh68.ts, in the
 * 300W order) written as a 300W `.pts` file beside each image, so that the folder reads as a 300W
 * dataset (`camd finetune --task landmarks --format 300w`). They are a model's guesses, not human
 * annotations: good for trying the task on one's own faces and for tests, not for reporting
 * benchmark numbers. An image where no face is found gets no file and is named in the report.
 */
import { dirname, extname, join, basename } from 'node:path';
import { type PseudoLabelOptions, type PseudoLabelReport, pseudoLabelFolder } from './pseudo-label-folder.js';
import { detectorId } from './model-files.js';
import { writePts } from '../geometry/pts-file.js';

export type PseudoLandmarkReport = PseudoLabelReport;

/** The .pts file beside an image (`a/b.face0.png` → `a/b.face0.pts`). */
export function ptsFileOf(image: string): string {
  return join(dirname(image), `${basename(image, extname(image))}.pts`);
}

export function pseudoLandmarks(root: string, opts: PseudoLabelOptions = {}): Promise<PseudoLandmarkReport> {
  return pseudoLabelFolder(root, opts, {
    source: `${detectorId()} (68 points from the face mesh: pseudo-labels)`,
    fileOf: ptsFileOf,
    write: (pts, face) => writePts(pts, new Float32Array(face.landmarks68.flat())),
  });
}
