/**
 * A dataset's saved parsing label maps (geometry_labels, task 'parsing') written in LaPa's layout:
 * `images/<image's path>` (the image file copied as it is) and `labels/<image's path, .png>` (the
 * map as an 8-bit greyscale PNG, one class index per pixel, the image's size), the layout
 * parsing/read-lapa.ts reads as one set (`camd finetune --task parsing --format lapa`). Only LaPa's
 * 11-class scheme is written: a `--format lapa` folder is read as LaPa's classes, and a
 * CelebAMask-HQ map's 19 would not fit them. The folder written must be new or empty, so an export
 * never mixes with older files.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type Database from 'better-sqlite3';
import { CamdError } from '../util/errors.js';
import { classCounts, labelMapOfPng, writeLabelPng } from '../parsing/label-png.js';
import { CLASS_MAPS, type ParsingScheme } from '../parsing/parsing-classes.js';
import { lapaLabelOf } from '../parsing/read-lapa.js';
import { geometryLabelsOfDataset } from './geometry-labels.js';

export interface ParsingExport {
  out: string;
  scheme: ParsingScheme;
  /** Images written with their label map. */
  written: number;
  /** The files written, relative to `out` (each image, then its label map). */
  files: string[];
  /** Saved maps not written, with the reason (the image file gone, a map that no longer fits it). */
  skipped: { path: string; reason: string }[];
}

/** Writes dataset `datasetId`'s saved `scheme` label maps under `out` in LaPa's layout. */
export async function exportParsingLabels(
  db: Database.Database,
  datasetId: number,
  scheme: string,
  out: string,
): Promise<ParsingExport> {
  if (scheme !== 'lapa-11')
    throw new CamdError(
      'input',
      `LaPa's layout holds LaPa's 11 classes (lapa-11); '${scheme}' label maps are not written in it`,
      'scheme',
    );
  const ds = db.prepare('SELECT root FROM datasets WHERE id = ?').get(datasetId) as { root: string } | undefined;
  if (!ds) throw new CamdError('input', `dataset ${datasetId} is not in the store`, 'dataset');
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0))
    throw new CamdError(
      'input',
      `${out}: not an empty folder (an export writes images/ and labels/ into a new one)`,
      'out',
    );
  const labels = geometryLabelsOfDataset(db, datasetId, 'parsing', scheme);
  const classes = CLASS_MAPS[scheme].names.length;
  const imagesDir = join(out, 'images');
  mkdirSync(imagesDir, { recursive: true });
  mkdirSync(join(out, 'labels'), { recursive: true });
  const result: ParsingExport = { out, scheme, written: 0, files: [], skipped: [] };
  for (const g of labels) {
    if (g.task !== 'parsing') continue;
    const src = join(ds.root, g.relPath);
    if (!existsSync(src)) {
      result.skipped.push({ path: g.relPath, reason: `the image file is gone (${src})` });
      continue;
    }
    let map;
    try {
      map = await labelMapOfPng(g.mask, g.relPath);
      if (map.width !== g.width || map.height !== g.height)
        throw new Error(`the label map is ${map.width}×${map.height}, the image ${g.width}×${g.height}`);
      classCounts(map, classes, g.relPath);
    } catch (e) {
      result.skipped.push({ path: g.relPath, reason: (e as Error).message });
      continue;
    }
    const image = join(imagesDir, g.relPath);
    mkdirSync(dirname(image), { recursive: true });
    copyFileSync(src, image);
    const label = lapaLabelOf(out, imagesDir, image);
    mkdirSync(dirname(label), { recursive: true });
    await writeLabelPng(label, map);
    result.files.push(relative(out, image), relative(out, label));
    result.written++;
  }
  return result;
}
