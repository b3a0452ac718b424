/**
 * A labelled dataset ready for fine-tuning: parse the label files of a format, index the images
 * (store), record the labels, and resolve every item to a cached image.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { FORMATS, checkDuplicates, fewShot, LabelError, parseCelebA, parseCsv, parseFerplus, parseFerplusRaw, parseFolders, parseLfwa, parseRafdb, type LabeledSet, type LabelFormat, type LfwaSplit, type Split } from './labels.js';
import { scanDataset } from '../data/scan.js';
import type { Store } from '../store/store.js';
import { camdHome } from '../util/paths.js';
import { UserError } from '../util/errors.js';

export interface ResolvedItem {
  path: string;
  sha256: string;
  labels: number[];
  split: Split;
}

export interface ResolvedDataset {
  root: string;
  datasetId: number;
  set: LabeledSet;
  items: ResolvedItem[];
  /** Items whose image is missing or unreadable (dropped), with the reason. */
  dropped: { path: string; reason: string }[];
  /** What the user should know: label-file warnings, the first dropped items by name. */
  notes: string[];
}

/** The raw FERPlus CSV pair becomes PNG files once, under CAMD_HOME/derived, in the generator's folder names. */
async function materialiseFerplusRaw(root: string): Promise<{ root: string; set: LabeledSet }> {
  const { set, pixels } = parseFerplusRaw(root);
  const hash = createHash('sha256').update(readFileSync(join(root, 'fer2013new.csv'))).digest('hex').slice(0, 16);
  const out = join(camdHome(), 'derived', `ferplus-${hash}`);
  const done = join(out, '.complete');
  if (!existsSync(done)) {
    for (const [path, px] of pixels) {
      const file = join(out, path);
      mkdirSync(join(file, '..'), { recursive: true });
      await sharp(Buffer.from(px), { raw: { width: 48, height: 48, channels: 1 } }).png().toFile(file);
    }
    writeFileSync(done, `${pixels.size}\n`);
  }
  return { root: out, set };
}

export async function loadLabeled(store: Store, format: string, dataIn: string, opts: { split?: LfwaSplit; seed: number; fewShot?: number; maxPixels: number; onProgress?: (done: number, total: number) => void }): Promise<ResolvedDataset> {
  if (!(FORMATS as readonly string[]).includes(format)) throw new UserError(`--format must be one of ${FORMATS.join(', ')}, got '${format}'`);
  const data = resolve(dataIn);
  if (!existsSync(data)) throw new UserError(`the folder ${dataIn} does not exist`);
  let root = data;
  let set: LabeledSet;
  try {
    switch (format as LabelFormat) {
      case 'celeba':
        set = parseCelebA(data);
        break;
      case 'lfwa':
        set = parseLfwa(data, opts.split ?? 'random', opts.seed);
        break;
      case 'rafdb':
        set = parseRafdb(data);
        break;
      case 'ferplus':
        if (existsSync(join(data, 'Labels'))) set = parseFerplus(data);
        else ({ root, set } = await materialiseFerplusRaw(data));
        break;
      case 'folders':
        set = parseFolders(data, opts.seed);
        break;
      case 'csv': {
        const file = data.endsWith('.csv') ? data : join(data, 'labels.csv');
        root = data.endsWith('.csv') ? join(data, '..') : data;
        set = parseCsv(file, opts.seed, root);
        break;
      }
    }
    set = checkDuplicates(set);
  } catch (e) {
    if (e instanceof LabelError) throw new UserError(e.message);
    throw e;
  }
  if (opts.fewShot !== undefined) {
    try {
      set = fewShot(set, opts.fewShot, opts.seed);
    } catch (e) {
      throw new UserError((e as Error).message);
    }
  }
  const report = await scanDataset(store, root, { maxPixels: opts.maxPixels, onProgress: opts.onProgress });
  const rows = new Map(store.images(report.datasetId).map((r) => [r.rel_path, r]));
  const items: ResolvedItem[] = [];
  const dropped: { path: string; reason: string }[] = [];
  for (const it of set.items) {
    const row = rows.get(it.path);
    if (!row) dropped.push({ path: it.path, reason: 'image not found' });
    else if (row.status !== 'ok' || !row.sha256) dropped.push({ path: it.path, reason: row.error ?? 'unreadable' });
    else items.push({ path: it.path, sha256: row.sha256, labels: it.labels, split: it.split });
  }
  // labels in the store, for the app
  store.addLabels(
    items.flatMap((it) => {
      const image_id = rows.get(it.path)!.id;
      return set.task === 'far' ? it.labels.map((v, k) => ({ image_id, task: 'far', name: set.names[k]!, value: v, split: it.split })) : [{ image_id, task: 'fer', name: 'class', value: it.labels[0]!, split: it.split }];
    }),
  );
  if (!items.some((i) => i.split === 'train')) throw new UserError(`no usable training image in ${dataIn}${dropped.length ? ` (${dropped.length} listed image(s) missing or unreadable, e.g. ${dropped[0]!.path}: ${dropped[0]!.reason})` : ''}`);
  if (!items.some((i) => i.split !== 'train')) throw new UserError(`no validation or test image in ${dataIn}: nothing to evaluate on`);
  const notes = [...(set.warnings ?? [])];
  if (dropped.length) notes.push(`${dropped.length} listed image(s) missing or unreadable, left out: ${dropped.slice(0, 5).map((d) => `${d.path} (${d.reason})`).join(', ')}${dropped.length > 5 ? ', …' : ''}`);
  return { root, datasetId: report.datasetId, set, items, dropped, notes };
}
