/**
 * LaPa's layout (JDAI-CV/lapa-dataset): `train/`, `val/` and `test/`, each with `images/*.jpg` and
 * `labels/*.png` (one 8-bit label map per image, same name, 11 classes) and `landmarks/*.txt`
 * (not read). `train` trains and `test` tests; `val` is not read. A folder without those splits is
 * read as one set: its images under `images/` (or, without `images/`, anywhere else in the folder,
 * as `camd pseudo-label --task parsing` leaves them) and `labels/<same relative path>.png`.
 * An image without its label map is skipped with the reason.
 */
import { existsSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { walk } from '../data/walk.js';
import { CamdError } from '../util/errors.js';
import type { ParsingDataset, ParsingSample } from './parsing-sample.js';

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** The label map of an image in a folder read as one set: labels/<path relative to the images folder, .png>. */
export function lapaLabelOf(root: string, imagesDir: string, image: string): string {
  const rel = relative(imagesDir, image).split(sep).join('/');
  return join(root, 'labels', `${rel.replace(/\.[^./]+$/, '')}.png`);
}

/** Where the images of a folder read as one set are: `images/` when there is one, else the folder itself. */
export function lapaImagesDir(root: string): string {
  return isDir(join(root, 'images')) ? join(root, 'images') : root;
}

async function readSet(root: string, split: ParsingSample['split'], out: ParsingDataset): Promise<void> {
  const imagesDir = lapaImagesDir(root);
  const found = await walk(imagesDir);
  for (const f of found.files) {
    const rel = relative(root, f.abs).split(sep).join('/');
    if (rel.startsWith('labels/')) continue; // the label maps, not images
    const label = lapaLabelOf(root, imagesDir, f.abs);
    if (!existsSync(label)) out.skipped.push({ path: f.abs, reason: `no label map (${label})` });
    else out.samples.push({ image: f.abs, labels: { kind: 'map', file: label }, split });
  }
}

export async function readLapa(root: string): Promise<ParsingDataset> {
  if (!isDir(root)) throw new CamdError('input', `${root}: not a folder (--format lapa reads the LaPa folder)`);
  const out: ParsingDataset = { scheme: 'lapa-11', samples: [], skipped: [], split: null };
  if (isDir(join(root, 'train')) && isDir(join(root, 'test'))) {
    for (const s of ['train', 'test'] as const) {
      const dir = join(root, s);
      if (!isDir(join(dir, 'images')) || !isDir(join(dir, 'labels')))
        throw new CamdError('input', `${dir}: LaPa's ${s}/ needs images/ and labels/`);
      await readSet(dir, s, out);
    }
    out.split = 'LaPa train/ and test/ (val/ not read)';
  } else {
    if (!isDir(join(root, 'labels')))
      throw new CamdError(
        'input',
        `${root}: no LaPa layout (train/ and test/ with images/ and labels/, or images/ with labels/ beside it)`,
      );
    await readSet(root, null, out);
  }
  return out;
}
