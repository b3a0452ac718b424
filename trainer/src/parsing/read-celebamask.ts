/**
 * CelebAMask-HQ's layout: `CelebA-HQ-img/<N>.jpg` (1024 px) and
 * `CelebAMask-HQ-mask-anno/<k>/<NNNNN>_<part>.png` (512 px, one binary mask per part present,
 * N zero-padded to 5 digits, k = ⌊N / 2000⌋ in the release; every sub-folder is searched, so k is
 * not relied on). The parts are merged into one label map as g_mask.py does: class = the part's
 * place in CELEBAMASK_PARTS + 1, later parts overwriting earlier ones. The split is the official
 * one when `CelebA-HQ-to-CelebA-mapping.txt` and CelebA's `list_eval_partition.txt` are in the
 * folder (partition 0 trains, 2 tests, 1 is not read); otherwise none (the run makes a seeded one).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CamdError } from '../util/errors.js';
import { CELEBAMASK_PARTS } from './parsing-classes.js';
import type { ParsingDataset, ParsingSample } from './parsing-sample.js';

export const CELEBAMASK_IMAGES = 'CelebA-HQ-img';
export const CELEBAMASK_ANNO = 'CelebAMask-HQ-mask-anno';
const MAPPING = 'CelebA-HQ-to-CelebA-mapping.txt';
const PARTITION = 'list_eval_partition.txt';

const PART_CLASS = new Map<string, number>(CELEBAMASK_PARTS.map((p, i) => [p, i + 1]));

/** The official split of each CelebA-HQ index, from the mapping file and CelebA's partition list. */
function officialSplit(root: string): Map<number, 'train' | 'val' | 'test'> | null {
  const mapFile = join(root, MAPPING);
  const partFile = join(root, PARTITION);
  if (!existsSync(mapFile) || !existsSync(partFile)) return null;
  const partition = new Map<string, string>();
  readFileSync(partFile, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (!line.trim()) return;
      const [file, p] = line.trim().split(/\s+/);
      if (!file || !['0', '1', '2'].includes(p ?? ''))
        throw new CamdError('input', `${partFile}:${i + 1}: expected "<image> <0|1|2>"`);
      partition.set(file, p!);
    });
  const out = new Map<number, 'train' | 'val' | 'test'>();
  readFileSync(mapFile, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      const f = line.trim().split(/\s+/);
      if (!line.trim() || (i === 0 && f[0] === 'idx')) return;
      const idx = Number(f[0]);
      const orig = f[2];
      if (f.length < 3 || !Number.isInteger(idx) || !orig)
        throw new CamdError('input', `${mapFile}:${i + 1}: expected "idx orig_idx orig_file"`);
      const p = partition.get(orig);
      if (p === undefined) throw new CamdError('input', `${mapFile}:${i + 1}: ${orig} is not in ${PARTITION}`);
      out.set(idx, p === '0' ? 'train' : p === '1' ? 'val' : 'test');
    });
  return out;
}

export async function readCelebAMask(root: string): Promise<ParsingDataset> {
  const imgDir = join(root, CELEBAMASK_IMAGES);
  const annoDir = join(root, CELEBAMASK_ANNO);
  for (const d of [imgDir, annoDir])
    if (!existsSync(d) || !statSync(d).isDirectory())
      throw new CamdError(
        'input',
        `${root}: no ${d.slice(root.length + 1)}/ (--format celebamask-hq reads the CelebAMask-HQ folder)`,
      );
  // every part mask, by image index: NNNNN_<part>.png in any sub-folder
  const parts = new Map<number, { cls: number; file: string }[]>();
  for (const sub of readdirSync(annoDir, { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    for (const f of readdirSync(join(annoDir, sub.name))) {
      const m = /^(\d+)_([a-z_]+)\.png$/.exec(f);
      if (!m) continue;
      const cls = PART_CLASS.get(m[2]!);
      if (cls === undefined) continue;
      const n = Number(m[1]);
      const list = parts.get(n) ?? [];
      list.push({ cls, file: join(annoDir, sub.name, f) });
      parts.set(n, list);
    }
  }
  const split = officialSplit(root);
  const out: ParsingDataset = {
    scheme: 'celebamask-19',
    samples: [],
    skipped: [],
    split: split ? `official (${MAPPING} + ${PARTITION}; partition 1 not read)` : null,
  };
  const images = readdirSync(imgDir)
    .filter((f) => /^\d+\.jpg$/i.test(f))
    .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  for (const f of images) {
    const n = Number.parseInt(f, 10);
    const image = join(imgDir, f);
    const list = parts.get(n);
    if (!list) {
      out.skipped.push({
        path: image,
        reason: `no part mask (${CELEBAMASK_ANNO}/*/${String(n).padStart(5, '0')}_*.png)`,
      });
      continue;
    }
    let s: ParsingSample['split'] = null;
    if (split) {
      const p = split.get(n);
      if (p === undefined) {
        out.skipped.push({ path: image, reason: `not in ${MAPPING}` });
        continue;
      }
      if (p === 'val') continue;
      s = p;
    }
    out.samples.push({ image, labels: { kind: 'parts', parts: list.sort((a, b) => a.cls - b.cls) }, split: s });
  }
  return out;
}
