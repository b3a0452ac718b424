/**
 * Pseudo-labels for face alignment on a folder of faces (the crops of `camd scan --faces`, or any
 * face photos): the bundled face model's 68 points (FaceMesh through geometry/mesh68.ts, in the
 * 300W order) written as a 300W `.pts` file beside each image, so that the folder reads as a 300W
 * dataset (`camd finetune --task landmarks --format 300w`). They are a model's guesses, not human
 * annotations: good for trying the task on one's own faces and for tests, not for reporting
 * benchmark numbers. An image where no face is found gets no file and is named in the report.
 */
import { defaultDetections } from './detection-cache.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, basename } from 'node:path';
import { decodeRgb } from '../data/image-io.js';
import { walk } from '../data/walk.js';
import { detectorId } from './model-files.js';
import { writePts } from '../geometry/pts-file.js';

export interface PseudoLandmarkReport {
  root: string;
  /** Images given a .pts file (written now), and those whose .pts was there already (kept, unless `overwrite`). */
  labelled: number;
  kept: number;
  /** Images where the model found no face, by path (relative to the root). */
  noFace: string[];
  unreadable: { path: string; reason: string }[];
  source: string;
}

/** The .pts file beside an image (`a/b.face0.png` → `a/b.face0.pts`). */
export function ptsFileOf(image: string): string {
  return join(dirname(image), `${basename(image, extname(image))}.pts`);
}

export async function pseudoLandmarks(
  root: string,
  opts: { overwrite?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<PseudoLandmarkReport> {
  const found = await walk(root);
  const facesOf = defaultDetections();
  const report: PseudoLandmarkReport = {
    root,
    labelled: 0,
    kept: 0,
    noFace: [],
    unreadable: [],
    source: `${detectorId()} (68 points from the face mesh: pseudo-labels)`,
  };
  let done = 0;
  for (const f of found.files) {
    const pts = ptsFileOf(f.abs);
    if (!opts.overwrite && existsSync(pts)) report.kept++;
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
        writePts(pts, new Float32Array(face.landmarks68.flat()));
        report.labelled++;
      }
    }
    opts.onProgress?.(++done, found.files.length);
  }
  return report;
}
