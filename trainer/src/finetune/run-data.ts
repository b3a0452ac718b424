/** A fine-tuning run's labelled data: read and split, checked against the task, decoded once into the cache. */
import { join } from 'node:path';
import { DecodeCache } from '../data/decode-cache.js';
import type { Split } from '../labels/label-files.js';
import type { EventSink } from '../protocol/events.js';
import type { FinetuneSpec } from '../protocol/specs.js';
import type { Store } from '../store/store.js';
import { UserError } from '../util/errors.js';
import { cacheDirFor } from '../util/paths.js';
import { loadLabeled, type ResolvedDataset, type ResolvedItem } from './dataset.js';
import type { FinetuneSettings } from './run-settings.js';
import { evalSide } from './transforms.js';

export interface LabelledData {
  ds: ResolvedDataset;
  train: ResolvedItem[];
  val: ResolvedItem[];
  test: ResolvedItem[];
  /** Every item decoded, at the side the transforms read. */
  cache: DecodeCache;
}

export async function prepareData(
  store: Store,
  dbPath: string,
  spec: FinetuneSpec,
  settings: FinetuneSettings,
  emit: EventSink,
): Promise<LabelledData> {
  const { task, seed, maxPixels } = settings;
  const ds: ResolvedDataset = await loadLabeled(store, spec.format, spec.data, {
    split: spec.split,
    seed,
    fewShot: spec.fewShot,
    maxPixels,
    onProgress: (done, total) => emit({ type: 'progress', phase: 'scanning', done, total }),
    schema: spec.schema,
    labels: spec.labels,
  });
  if (ds.set.task !== task)
    throw new UserError(
      `the ${ds.set.format === 'store' ? `schema's` : ds.set.format} labels are ${ds.set.task === 'far' ? 'attributes (far)' : 'classes (fer)'}, not ${task}`,
      2,
      'task',
    );
  for (const n of ds.notes) emit({ type: 'log', level: 'warn', message: n });
  const bySplit = (s: Split) => ds.items.filter((i) => i.split === s);
  const train = bySplit('train');
  const val = bySplit('val');
  const test = bySplit('test');
  const cache = new DecodeCache(cacheDirFor(dbPath), evalSide(settings.model.imgSize));
  const cres = await cache.ensure(
    ds.items.map((i) => ({ abs: join(ds.root, i.path), sha256: i.sha256 })),
    maxPixels,
    (done, total) => emit({ type: 'progress', phase: 'decoding', done, total }),
  );
  if (cres.failed.length) throw new UserError(`cannot decode ${cres.failed[0]!.path}: ${cres.failed[0]!.reason}`);
  return { ds, train, val, test, cache };
}
