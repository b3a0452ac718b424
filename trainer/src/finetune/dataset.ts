/**
 * A labelled dataset ready for fine-tuning: parse the label files of a format, index the images
 * (store), record the labels (labels/exchange.ts: a schema of the dataset, labeller
 * `import:<format>`), and resolve every item to a cached image. `--format store` reads the labels
 * made in the app instead: the dataset folder's schema, resolved (labels/resolve.ts), split from
 * the seed where faces have no split yet.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import {
  FORMATS,
  checkDuplicates,
  fewShot,
  LabelError,
  parseCelebA,
  parseCsv,
  parseFerplus,
  parseFerplusRaw,
  parseFolders,
  parseLfwa,
  parseRafdb,
  type LabeledSet,
  type LabelFormat,
  type LfwaSplit,
  type Split,
} from '../labels/label-files.js';
import { scanDataset } from '../data/scan.js';
import type { Store } from '../store/store.js';
import { camdHome } from '../util/paths.js';
import { UserError } from '../util/errors.js';
import { importLabeled } from '../labels/exchange.js';
import { datasetOfFolder, schemaOfDataset } from '../labels/store-dataset.js';
import { leftOutNote, resolveLabels, type LabelUse } from '../labels/resolve.js';
import { makeSplit } from '../labels/split.js';

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
  /** The schema the labels are in, and the field behind each name (predictions map back through them). */
  schemaId: number;
  fieldIds: number[];
}

/** The labels made in the app: the dataset of this folder, its schema by name or id. */
async function fromStore(
  store: Store,
  data: string,
  opts: {
    seed: number;
    schema?: string;
    labels?: LabelUse;
    maxPixels: number;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<{ set: LabeledSet; schemaId: number; fieldIds: number[]; notes: string[] }> {
  const { root, datasetId } = datasetOfFolder(store, data, 'and label it first');
  // the files as they are now (labels follow moved files by content)
  await scanDataset(store, root, { maxPixels: opts.maxPixels, onProgress: opts.onProgress });
  const s = schemaOfDataset(store, datasetId, opts.schema ?? '', root);
  const use = opts.labels ?? 'human';
  const notes: string[] = [];
  let r = resolveLabels(store.db, s.id, use);
  if (r.items.some((i) => !i.split)) {
    const seed = s.split_seed ?? opts.seed;
    const c = makeSplit(store.db, s.id, { seed, use });
    notes.push(
      `${c.assigned} labelled face(s) had no split: assigned from seed ${seed} (stratified by class where there are classes)`,
    );
    r = resolveLabels(store.db, s.id, use);
  }
  const left = leftOutNote(r);
  if (left) notes.push(left);
  if (r.items.length === 0)
    throw new UserError(`the schema '${s.name}' has no usable labels yet${left ? ` (${left})` : ''}`, 2, 'schema');
  const set: LabeledSet = {
    task: r.task,
    format: 'store',
    names: r.names,
    items: r.items.map((i) => ({ path: i.rel_path, labels: i.labels, split: i.split! })),
    splitNote: `the store's split of '${s.name}' (seed ${store.db.prepare('SELECT split_seed FROM label_schemas WHERE id = ?').pluck().get(s.id) ?? opts.seed}); labels: ${use === 'human' ? "people's and files'" : "people's, files' and accepted predictions"}`,
  };
  return { set, schemaId: s.id, fieldIds: r.fieldIds, notes };
}

/** The raw FERPlus CSV pair becomes PNG files once, under CAMD_HOME/derived, in the generator's folder names. */
async function materialiseFerplusRaw(root: string): Promise<{ root: string; set: LabeledSet }> {
  const { set, pixels } = parseFerplusRaw(root);
  const hash = createHash('sha256')
    .update(readFileSync(join(root, 'fer2013new.csv')))
    .digest('hex')
    .slice(0, 16);
  const out = join(camdHome(), 'derived', `ferplus-${hash}`);
  const done = join(out, '.complete');
  if (!existsSync(done)) {
    for (const [path, px] of pixels) {
      const file = join(out, path);
      mkdirSync(join(file, '..'), { recursive: true });
      await sharp(Buffer.from(px), { raw: { width: 48, height: 48, channels: 1 } })
        .png()
        .toFile(file);
    }
    writeFileSync(done, `${pixels.size}\n`);
  }
  return { root: out, set };
}

export interface LabeledOptions {
  split?: LfwaSplit;
  seed: number;
  fewShot?: number;
  maxPixels: number;
  onProgress?: (done: number, total: number) => void;
  schema?: string;
  labels?: LabelUse;
}

/** A labelled dataset for training: its labels read and recorded, with a training split and something to evaluate on. */
export async function loadLabeled(
  store: Store,
  format: string,
  dataIn: string,
  opts: LabeledOptions,
): Promise<ResolvedDataset> {
  const ds = await readLabels(store, format, dataIn, opts);
  const { items, dropped } = ds;
  if (!items.some((i) => i.split === 'train'))
    throw new UserError(
      `no usable training image in ${dataIn}${dropped.length ? ` (${dropped.length} listed image(s) missing or unreadable, e.g. ${dropped[0]!.path}: ${dropped[0]!.reason})` : ''}`,
    );
  if (!items.some((i) => i.split !== 'train'))
    throw new UserError(`no validation or test image in ${dataIn}: nothing to evaluate on`);
  return ds;
}

/** The labels of a dataset folder in a format: parsed, checked, the folder indexed, the labels recorded in the store (a schema of the dataset, labeller `import:<format>`). */
export async function readLabels(
  store: Store,
  format: string,
  dataIn: string,
  opts: LabeledOptions,
): Promise<ResolvedDataset> {
  if (!(FORMATS as readonly string[]).includes(format))
    throw new UserError(`--format must be one of ${FORMATS.join(', ')}, got '${format}'`);
  const data = resolve(dataIn);
  if (!existsSync(data)) throw new UserError(`the folder ${dataIn} does not exist`);
  let root = data;
  let set!: LabeledSet;
  let fromApp: Awaited<ReturnType<typeof fromStore>> | null = null;
  try {
    switch (format as LabelFormat) {
      case 'store':
        fromApp = await fromStore(store, data, {
          seed: opts.seed,
          schema: opts.schema,
          labels: opts.labels,
          maxPixels: opts.maxPixels,
          onProgress: opts.onProgress,
        });
        root = realpathSync(data);
        set = fromApp.set;
        break;
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
  const report = fromApp
    ? { datasetId: store.datasetByRoot(root)!.id }
    : await scanDataset(store, root, { maxPixels: opts.maxPixels, onProgress: opts.onProgress });
  const rows = new Map(store.images(report.datasetId).map((r) => [r.rel_path, r]));
  const items: ResolvedItem[] = [];
  const dropped: { path: string; reason: string }[] = [];
  for (const it of set.items) {
    const row = rows.get(it.path);
    if (!row) dropped.push({ path: it.path, reason: 'image not found' });
    else if (row.status !== 'ok' || !row.sha256) dropped.push({ path: it.path, reason: row.error ?? 'unreadable' });
    else items.push({ path: it.path, sha256: row.sha256, labels: it.labels, split: it.split });
  }
  // a label file's labels land in the store, as a schema of the dataset, for the app
  let schemaId: number;
  let fieldIds: number[];
  if (fromApp) ({ schemaId, fieldIds } = fromApp);
  else {
    const usable = new Set(items.map((i) => i.path));
    const imported = importLabeled(
      store.db,
      report.datasetId,
      { ...set, items: set.items.filter((i) => usable.has(i.path)) },
      (p) => rows.get(p)?.id,
    );
    schemaId = imported.schema.id;
    const main = imported.schema.fields.filter((f) => f.kind === (set.task === 'far' ? 'attribute' : 'class'));
    fieldIds = set.names.map((n) => main.find((f) => f.name === n)!.id);
  }
  const notes = [...(fromApp?.notes ?? []), ...(set.warnings ?? [])];
  if (dropped.length)
    notes.push(
      `${dropped.length} listed image(s) missing or unreadable, left out: ${dropped
        .slice(0, 5)
        .map((d) => `${d.path} (${d.reason})`)
        .join(', ')}${dropped.length > 5 ? ', …' : ''}`,
    );
  return { root, datasetId: report.datasetId, set, items, dropped, notes, schemaId, fieldIds };
}
