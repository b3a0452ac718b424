/**
 * Pseudo-labels for face parsing on a folder of faces (the crops of `camd scan --faces`, or any
 * face photos): the bundled FaceMesh's regions (mesh-regions.ts) filled into a label map in LaPa's
 * 11-class order — skin (the face oval, under everything else), nose, brows, eyes, upper lip, lower
 * lip, inner mouth — and written as LaPa's layout: `labels/<image's path, .png>` in the folder, the
 * images staying where they are (under `images/` when the folder has one). The folder then reads
 * as `--format lapa`. Hair (class 10) is never labelled: the mesh does not reach it (hair inside
 * the face oval is labelled skin, hair outside it background). "Left" is the image's left, as
 * LaPa's classes are read (parsing-classes.ts). These are a model's guesses, not human
 * annotations: good for trying the task and for tests, not for benchmark numbers.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';
import { decodeRgb } from '../data/image-io.js';
import { walk } from '../data/walk.js';
import { detectorId } from '../faces/model-files.js';
import type { LabelMap } from './label-png.js';
import { writeLabelPng } from './label-png.js';
import { MESH_REGIONS, type MeshRegion } from './mesh-regions.js';
import { fillPolygon, type Vertex } from './polygon-fill.js';
import { lapaImagesDir, lapaLabelOf } from './read-lapa.js';

export interface PseudoParsingReport {
  root: string;
  /** Images given a label map now, and those whose label map was there already (kept, unless `overwrite`). */
  labelled: number;
  kept: number;
  noFace: string[];
  unreadable: { path: string; reason: string }[];
  source: string;
}

const meanX = (mesh: readonly Vertex[], idx: readonly number[]) =>
  idx.reduce((s, i) => s + mesh[i]![0], 0) / idx.length;

/** The LaPa label map of one face's 468 mesh points (image pixels) on a width × height image. */
export function meshLabelMap(mesh: readonly Vertex[], width: number, height: number): LabelMap {
  const m: LabelMap = { width, height, data: new Uint8Array(width * height) };
  const fill = (r: MeshRegion, cls: number) =>
    fillPolygon(
      m,
      MESH_REGIONS[r].map((i) => mesh[i]!),
      cls,
    );
  // LaPa's "left" is the image's left: the side whose region lies at smaller x
  const rightBrowIsLeft = meanX(mesh, MESH_REGIONS.rightBrow) < meanX(mesh, MESH_REGIONS.leftBrow);
  const rightEyeIsLeft = meanX(mesh, MESH_REGIONS.rightEye) < meanX(mesh, MESH_REGIONS.leftEye);
  fill('face', 1);
  fill('nose', 6);
  fill('rightBrow', rightBrowIsLeft ? 2 : 3);
  fill('leftBrow', rightBrowIsLeft ? 3 : 2);
  fill('rightEye', rightEyeIsLeft ? 4 : 5);
  fill('leftEye', rightEyeIsLeft ? 5 : 4);
  fill('upperLip', 7);
  fill('lowerLip', 9);
  fill('innerMouth', 8);
  return m;
}

export async function pseudoParsing(
  root: string,
  opts: { overwrite?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<PseudoParsingReport> {
  const imagesDir = lapaImagesDir(root);
  const found = (await walk(imagesDir)).files.filter(
    (f) => !relative(root, f.abs).split(sep).join('/').startsWith('labels/'),
  );
  const { FaceDetector } = await import('../faces/detector.js');
  const det = await FaceDetector.create();
  const report: PseudoParsingReport = {
    root,
    labelled: 0,
    kept: 0,
    noFace: [],
    unreadable: [],
    source: `${detectorId()} (face mesh regions, LaPa's 11 classes without hair: pseudo-labels)`,
  };
  let done = 0;
  for (const f of found) {
    const label = lapaLabelOf(root, imagesDir, f.abs);
    if (!opts.overwrite && existsSync(label)) report.kept++;
    else {
      let img;
      try {
        img = await decodeRgb(readFileSync(f.abs));
      } catch (e) {
        report.unreadable.push({ path: f.rel, reason: (e as Error).message });
        opts.onProgress?.(++done, found.length);
        continue;
      }
      // the face of the image: the largest one found
      const face = (await det.detect(img, { mesh: true })).sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
      if (!face?.mesh) report.noFace.push(f.rel);
      else {
        mkdirSync(dirname(label), { recursive: true });
        await writeLabelPng(label, meshLabelMap(face.mesh, img.width, img.height));
        report.labelled++;
      }
    }
    opts.onProgress?.(++done, found.length);
  }
  return report;
}
