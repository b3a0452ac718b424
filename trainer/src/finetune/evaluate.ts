/** `camd eval`: a fine-tuned classifier alone on a labelled dataset's validation and test splits, recorded as an `eval` run. */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { selectBackend } from '../backends/ladder.js';
import { Store } from '../store/store.js';
import { DecodeCache } from '../data/decode-cache.js';
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { loadLabeled } from './dataset.js';
import { evalSide } from './transforms.js';
import { baselineFields, farMetrics, ferMetrics, type FarMetrics, type FerMetrics } from './metrics.js';
import { logitsOver } from './eval-batches.js';
import { loadClassifier } from './classifier-file.js';
import type { EventSink } from '../protocol/events.js';
import type { EvalSpec } from '../protocol/specs.js';
import { UserError } from '../util/errors.js';
import { cacheDirFor, defaultDbPath } from '../util/paths.js';
import { currentProcess } from '../util/process-identity.js';

export interface EvalResult {
  runId: string;
  /** By split; a stop before a split leaves it out. */
  results: Record<string, FarMetrics | FerMetrics>;
  outcome: 'completed' | 'stopped';
}

export async function evaluateCheckpoint(spec: EvalSpec, emit: EventSink, signal: AbortSignal): Promise<EvalResult> {
  let sel;
  try {
    sel = await selectBackend(spec.backend ?? 'auto');
  } catch (e) {
    throw new UserError((e as Error).message, 2, 'backend');
  }
  const { clf, task, names, imgSize: S } = loadClassifier(spec.checkpoint);
  try {
    if (task !== spec.task)
      throw new UserError(`${spec.checkpoint} was fine-tuned for ${task}, not ${spec.task}`, 2, 'task');
    const dbPath = spec.db ?? defaultDbPath();
    const store = new Store(dbPath);
    try {
      store.reapDeadRuns();
      const t0 = performance.now();
      const ds = await loadLabeled(store, spec.format, spec.data, {
        split: spec.split,
        seed: spec.seed ?? 0,
        maxPixels: DEFAULT_MAX_PIXELS,
        onProgress: (done, total) => emit({ type: 'progress', phase: 'scanning', done, total }),
        schema: spec.schema,
        labels: spec.labels,
      });
      for (const n of ds.notes) emit({ type: 'log', level: 'warn', message: n });
      if (ds.set.names.join('\n') !== names.join('\n'))
        throw new UserError(
          `the dataset's ${ds.set.task === 'far' ? 'attributes' : 'classes'} differ from the checkpoint's`,
          2,
          'data',
        );
      const cache = new DecodeCache(cacheDirFor(dbPath), evalSide(S));
      const cres = await cache.ensure(
        ds.items.map((i) => ({ abs: join(ds.root, i.path), sha256: i.sha256 })),
        DEFAULT_MAX_PIXELS,
        (done, total) => emit({ type: 'progress', phase: 'decoding', done, total }),
      );
      if (cres.failed.length) throw new UserError(`cannot decode ${cres.failed[0]!.path}: ${cres.failed[0]!.reason}`);
      const runId = spec.runId ?? randomUUID();
      const splits = (['val', 'test'] as const)
        .map((split) => ({ split, items: ds.items.filter((i) => i.split === split) }))
        .filter((s) => s.items.length);
      const config = { checkpoint: spec.checkpoint, task, format: ds.set.format };
      if (store.run(runId)) store.updateRun(runId, { config: JSON.stringify(config), dataset_id: ds.datasetId });
      else store.createRun({ id: runId, kind: 'eval', datasetId: ds.datasetId, config, seed: spec.seed ?? 0 });
      store.claimRun(runId, currentProcess(), { backend: sel.backend, started_at: new Date().toISOString() });
      emit({
        type: 'start',
        kind: 'eval',
        run_id: runId,
        out_dir: null,
        db: dbPath,
        backend: sel.backend,
        checkpoint: spec.checkpoint,
        task,
        format: ds.set.format,
        val: splits.find((s) => s.split === 'val')?.items.length ?? 0,
        test: splits.find((s) => s.split === 'test')?.items.length ?? 0,
      });
      const results: Record<string, FarMetrics | FerMetrics> = {};
      for (const { split, items } of splits) {
        if (signal.aborted) break;
        const logits = await logitsOver(
          clf,
          items,
          cache,
          S,
          names.length,
          (done) => emit({ type: 'progress', phase: 'evaluating', done, total: items.length }),
          signal,
        );
        if (signal.aborted) break;
        const r =
          task === 'far'
            ? farMetrics(
                logits,
                items.map((i) => i.labels),
                names,
              )
            : ferMetrics(
                logits,
                items.map((i) => i.labels[0]!),
                names,
              );
        results[split] = r;
        store.addEvaluation({
          run_id: runId,
          dataset_id: ds.datasetId,
          epoch: null,
          split,
          metric: r.metric,
          value: r.value,
          detail: r,
          selected: true,
        });
        emit({
          type: 'eval',
          epoch: null,
          split,
          metric: r.metric,
          value: r.value,
          n: items.length,
          ...baselineFields(r),
        });
      }
      const stopped = Object.keys(results).length < splits.length;
      store.updateRun(runId, { status: stopped ? 'stopped' : 'done', finished_at: new Date().toISOString() });
      emit({
        type: 'done',
        kind: 'eval',
        reason: stopped ? 'interrupted' : 'completed',
        seconds: (performance.now() - t0) / 1000,
        results: Object.fromEntries(
          Object.entries(results).map(([k, r]) => [k, { metric: r.metric, value: r.value, n: r.n }]),
        ),
      });
      return { runId, results, outcome: stopped ? 'stopped' : 'completed' };
    } finally {
      store.close();
    }
  } finally {
    clf.dispose();
  }
}
