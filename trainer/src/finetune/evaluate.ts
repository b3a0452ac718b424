/** `camd eval`: a fine-tuned classifier alone on a labelled dataset's validation and test splits. */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_CHOICES_TEXT, isBackendChoice, selectBackend } from '../backends/ladder.js';
import { Store } from '../store/store.js';
import { DecodeCache } from '../data/decode-cache.js';
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { loadLabeled } from './dataset.js';
import { evalSide } from './transforms.js';
import { farMetrics, ferMetrics, type FarMetrics, type FerMetrics } from './metrics.js';
import { evalBatches, loadClassifier } from './run.js';
import type { LfwaSplit } from './labels.js';
import { UserError } from '../util/errors.js';
import { cacheDirFor, defaultDbPath } from '../util/paths.js';

export interface EvalFlags {
  checkpoint: string;
  task: string;
  format: string;
  data: string;
  split?: string;
  seed?: number;
  backend?: string;
  db?: string;
}

export async function evaluateCheckpoint(flags: EvalFlags): Promise<{ run_id: string; results: Record<string, FarMetrics | FerMetrics>; notes: string[] }> {
  const backend = flags.backend ?? 'auto';
  if (!isBackendChoice(backend)) throw new UserError(`--backend must be ${BACKEND_CHOICES_TEXT}, got '${backend}'`);
  try {
    await selectBackend(backend);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const { clf, task, names, imgSize: S } = loadClassifier(resolve(flags.checkpoint));
  if (task !== flags.task) throw new UserError(`${flags.checkpoint} was fine-tuned for ${task}, not ${flags.task}`);
  const dbPath = resolve(flags.db ?? defaultDbPath());
  const store = new Store(dbPath);
  store.reapDeadRuns();
  try {
    const ds = await loadLabeled(store, flags.format, flags.data, { split: flags.split as LfwaSplit | undefined, seed: flags.seed ?? 0, maxPixels: DEFAULT_MAX_PIXELS });
    if (ds.set.names.join('\n') !== names.join('\n')) throw new UserError(`the dataset's ${ds.set.task === 'far' ? 'attributes' : 'classes'} differ from the checkpoint's`);
    const cache = new DecodeCache(cacheDirFor(dbPath), evalSide(S));
    await cache.ensure(ds.items.map((i) => ({ abs: join(ds.root, i.path), sha256: i.sha256 })), DEFAULT_MAX_PIXELS);
    const runId = randomUUID();
    store.createRun({ id: runId, kind: 'eval', datasetId: ds.datasetId, config: { checkpoint: resolve(flags.checkpoint), task, format: ds.set.format }, seed: flags.seed ?? 0 });
    const results: Record<string, FarMetrics | FerMetrics> = {};
    for (const split of ['val', 'test'] as const) {
      const items = ds.items.filter((i) => i.split === split);
      if (!items.length) continue;
      const K = names.length;
      const logits = new Float32Array(items.length * K);
      let o = 0;
      for await (const b of evalBatches(items, cache, S, 32)) {
        const l = tf.tidy(() => clf.logits(tf.tensor4d(b.x, [b.n, S, S, 3])));
        logits.set(await l.data(), o);
        o += b.n * K;
        l.dispose();
      }
      const r = task === 'far' ? farMetrics(logits, items.map((i) => i.labels), names) : ferMetrics(logits, items.map((i) => i.labels[0]!), names);
      results[split] = r;
      store.addEvaluation({ run_id: runId, dataset_id: ds.datasetId, epoch: null, split, metric: r.metric, value: r.value, detail: r, selected: true });
    }
    store.updateRun(runId, { status: 'done', finished_at: new Date().toISOString() });
    clf.dispose();
    return { run_id: runId, results, notes: ds.notes };
  } finally {
    store.close();
  }
}
