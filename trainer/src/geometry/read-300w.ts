/**
 * 300W as distributed by iBUG: a folder (any depth: afw/, helen/trainset/, lfpw/testset/, ibug/,
 * 300W/01_Indoor/…) of images, each with a same-named .pts file beside it (pts-file.ts). The
 * folder is walked like any dataset folder (data/walk.ts: image extensions in any case, links to
 * folders followed once). An image without a .pts, a .pts beside images but without its own, and
 * an entry the walk cannot read are skipped with the reason; a malformed .pts is an error (the
 * .pts of a folder without images are not looked at). 300W's separate
 * bounding-box files (bounding_boxes_*.mat) are not read: the samples have no box.
 */
import { readdir, realpath } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { walk } from '../data/walk.js';
import { mapConcurrent } from '../util/async.js';
import { reasonOf } from '../util/system-errors.js';
import {
  type LandmarkDataset,
  type LandmarkSample,
  nonEmpty,
  requireFolder,
  type SkippedEntry,
} from './landmark-sample.js';
import { SCHEMES } from './landmark-schemes.js';
import { readPts } from './pts-file.js';

const stem = (name: string) => basename(name, extname(name));

/** The .pts files of one folder, by stem (the extension in any case). */
async function ptsFilesIn(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await readdir(dir)) {
    if (extname(name).toLowerCase() === '.pts' && !name.startsWith('.')) out.set(stem(name), name);
  }
  return out;
}

/** Reads a 300W folder: every image with a 68-point .pts beside it. */
export async function read300w(folder: string): Promise<LandmarkDataset> {
  await requireFolder(folder, '300W folder');
  // walked by its real path (as walk() needs), reported under the path the caller gave
  const root = resolve(folder);
  const found = await walk(await realpath(root));
  const skipped: SkippedEntry[] = found.unreadable.map((u) => ({ path: join(root, u.path), reason: u.reason }));
  const byFolder = new Map<string, string[]>();
  for (const f of found.files) {
    const abs = join(root, f.rel);
    const dir = dirname(abs);
    byFolder.set(dir, [...(byFolder.get(dir) ?? []), abs]);
  }
  const pairs: { image: string; pts: string }[] = [];
  for (const [dir, images] of byFolder) {
    let pts: Map<string, string>;
    try {
      pts = await ptsFilesIn(dir);
    } catch (e) {
      for (const image of images) skipped.push({ path: image, reason: `its folder cannot be read: ${reasonOf(e)}` });
      continue;
    }
    const used = new Set<string>();
    for (const image of images) {
      const name = pts.get(stem(image));
      if (name === undefined) {
        skipped.push({ path: image, reason: `no .pts file beside it (expected ${stem(image)}.pts)` });
        continue;
      }
      used.add(name);
      pairs.push({ image, pts: join(dir, name) });
    }
    for (const name of pts.values())
      if (!used.has(name)) skipped.push({ path: join(dir, name), reason: 'a .pts file without an image beside it' });
  }
  pairs.sort((a, b) => (a.image < b.image ? -1 : a.image > b.image ? 1 : 0));
  const expected = { points: SCHEMES['300w-68'].points, scheme: '300W (the iBUG 68-point scheme)' };
  const samples = await mapConcurrent(
    pairs,
    16,
    async ({ image, pts }): Promise<LandmarkSample> => ({
      image,
      points: await readPts(pts, expected),
      box: null,
      source: pts,
    }),
  );
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return nonEmpty({ scheme: '300w-68', samples, skipped }, folder);
}
