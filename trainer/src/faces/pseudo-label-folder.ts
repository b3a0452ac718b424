/**
 * What every file-per-image pseudo-labeller does (faces/pseudo-landmarks.ts, pose/pseudo-pose.ts):
 * each image of a folder whose label file is not there yet (or all, with `overwrite`) has its faces
 * read through the detection cache, and the largest face — a crop holds one face, sometimes part of
 * another — is written as the label file beside it; an image without a face, or unreadable, is
 * named in the report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { decodeRgb } from '../data/image-io.js';
import { walk } from '../data/walk.js';
import { defaultDetections } from './detection-cache.js';
import type { DetectedFace } from './detector.js';

export interface PseudoLabelReport {
  root: string;
  /** Images given a label file (written now), and those whose file was there already (kept, unless `overwrite`). */
  labelled: number;
  kept: number;
  /** Images where the model found no face, by path (relative to the root). */
  noFace: string[];
  unreadable: { path: string; reason: string }[];
  source: string;
}

export interface PseudoLabelOptions {
  overwrite?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export async function pseudoLabelFolder(
  root: string,
  opts: PseudoLabelOptions,
  how: { source: string; fileOf: (image: string) => string; write: (file: string, face: DetectedFace) => void },
): Promise<PseudoLabelReport> {
  const found = await walk(root);
  const facesOf = defaultDetections();
  const report: PseudoLabelReport = { root, labelled: 0, kept: 0, noFace: [], unreadable: [], source: how.source };
  let done = 0;
  for (const f of found.files) {
    const file = how.fileOf(f.abs);
    if (!opts.overwrite && existsSync(file)) report.kept++;
    else {
      let faces: DetectedFace[] | null = null;
      try {
        const bytes = readFileSync(f.abs);
        faces = await facesOf(bytes, () => decodeRgb(bytes));
      } catch (e) {
        report.unreadable.push({ path: f.rel, reason: (e as Error).message });
      }
      if (faces) {
        const face = faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
        if (!face) report.noFace.push(f.rel);
        else {
          how.write(file, face);
          report.labelled++;
        }
      }
    }
    opts.onProgress?.(++done, found.files.length);
  }
  return report;
}
