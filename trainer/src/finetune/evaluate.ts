/** `camd eval`: a fine-tuned classifier alone on a labelled dataset's validation and test splits, recorded as an `eval` run. */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { selectBackend, type Selection } from '../backends/ladder.js';
import { Store } from '../store/store.js';
import { DecodeCache } from '../data/decode-cache.js';
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { loadLabeled, type ResolvedDataset, type ResolvedItem } from './dataset.js';
import { evalSide } from './transforms.js';
import { baselineFields, metricsOf, type FarMetrics, type FerMetrics } from './metrics.js';
import { logitsOver } from './eval-batches.js';
import { loadClassifier } from './classifier-file.js';
import type { Classifier } from './classifier.js';
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

type Metrics = FarMetrics | FerMetrics;
type EvalSplit = { split: 'val' | 'test'; items: ResolvedItem[] };
/** The classifier under evaluation, as its file describes it. */
type Checkpoint = { clf: Classifier; task: NonNullable<EvalSpec['task']>; names: string[]; imgSize: number };

/** The labelled dataset, its classes checked against the checkpoint's, decoded into the cache at the checkpoint's input size. */
async function evalData(
  store: Store,
  dbPath: string,
  spec: EvalSpec,
  ck: Checkpoint,
  emit: EventSink,
): Promise<{ ds: ResolvedDataset; cache: DecodeCache }> {
  const ds = await loadLabeled(store, spec.format, spec.data, {
    split: spec.split,
    seed: spec.seed ?? 0,
    maxPixels: DEFAULT_MAX_PIXELS,
    onProgress: (done, total) => emit({ type: 'progress', phase: 'scanning', done, total }),
    schema: spec.schema,
    labels: spec.labels,
  });
  for (const n of ds.notes) emit({ type: 'log', level: 'warn', message: n });
  if (ds.set.names.join('\n') !== ck.names.join('\n'))
    throw new UserError(
      `the dataset's ${ds.set.task === 'far' ? 'attributes' : 'classes'} differ from the checkpoint's`,
      2,
      'data',
    );
  const cache = new DecodeCache(cacheDirFor(dbPath), evalSide(ck.imgSize));
  const cres = await cache.ensure(
    ds.items.map((i) => ({ abs: join(ds.root, i.path), sha256: i.sha256 })),
    DEFAULT_MAX_PIXELS,
    (done, total) => emit({ type: 'progress', phase: 'decoding', done, total }),
  );
  if (cres.failed.length) throw new UserError(`cannot decode ${cres.failed[0]!.path}: ${cres.failed[0]!.reason}`);
  return { ds, cache };
}

/** The `eval` run recorded and claimed, its splits (those with items) announced in its `start` event. */
function startEvalRun(
  store: Store,
  spec: EvalSpec,
  task: Checkpoint['task'],
  ds: ResolvedDataset,
  where: { dbPath: string; sel: Selection },
  emit: EventSink,
): { runId: string; splits: EvalSplit[] } {
  const runId = spec.runId ?? randomUUID();
  const splits = (['val', 'test'] as const)
    .map((split) => ({ split, items: ds.items.filter((i) => i.split === split) }))
    .filter((s) => s.items.length);
  const config = { checkpoint: spec.checkpoint, task, format: ds.set.format };
  if (store.run(runId)) store.updateRun(runId, { config: JSON.stringify(config), dataset_id: ds.datasetId });
  else store.createRun({ id: runId, kind: 'eval', datasetId: ds.datasetId, config, seed: spec.seed ?? 0 });
  store.claimRun(runId, currentProcess(), { backend: where.sel.backend, started_at: new Date().toISOString() });
  emit({
    type: 'start',
    kind: 'eval',
    run_id: runId,
    out_dir: null,
    db: where.dbPath,
    backend: where.sel.backend,
    checkpoint: spec.checkpoint,
    task,
    format: ds.set.format,
    val: splits.find((s) => s.split === 'val')?.items.length ?? 0,
    test: splits.find((s) => s.split === 'test')?.items.length ?? 0,
  });
  return { runId, splits };
}

/** Each split's metric, recorded as selected and emitted; a stop leaves out the split it arrives in and those after. */
async function evaluateSplits(
  ck: Checkpoint,
  splits: EvalSplit[],
  run: { store: Store; runId: string; datasetId: number; cache: DecodeCache },
  emit: EventSink,
  signal: AbortSignal,
): Promise<Record<string, Metrics>> {
  const { store, runId } = run;
  const results: Record<string, Metrics> = {};
  for (const { split, items } of splits) {
    if (signal.aborted) break;
    const logits = await logitsOver(
      ck.clf,
      items,
      run.cache,
      ck.imgSize,
      ck.names.length,
      (done) => emit({ type: 'progress', phase: 'evaluating', done, total: items.length }),
      signal,
    );
    if (signal.aborted) break;
    const r = metricsOf(ck.task, logits, items, ck.names);
    results[split] = r;
    store.addEvaluation({
      run_id: runId,
      dataset_id: run.datasetId,
      epoch: null,
      split,
      metric: r.metric,
      value: r.value,
      detail: r,
      selected: true,
    });
    emit({ type: 'eval', epoch: null, split, metric: r.metric, value: r.value, n: items.length, ...baselineFields(r) });
  }
  return results;
}

export async function evaluateCheckpoint(spec: EvalSpec, emit: EventSink, signal: AbortSignal): Promise<EvalResult> {
  let sel;
  try {
    sel = await selectBackend(spec.backend ?? 'auto');
  } catch (e) {
    throw new UserError((e as Error).message, 2, 'backend');
  }
  const ck: Checkpoint = loadClassifier(spec.checkpoint);
  try {
    // the task is the file's own; --task, when given, must be it
    if (spec.task !== undefined && ck.task !== spec.task)
      throw new UserError(`${spec.checkpoint} was fine-tuned for ${ck.task}, not ${spec.task}`, 2, 'task');
    const dbPath = spec.db ?? defaultDbPath();
    const store = new Store(dbPath);
    try {
      store.reapDeadRuns();
      const t0 = performance.now();
      const { ds, cache } = await evalData(store, dbPath, spec, ck, emit);
      const { runId, splits } = startEvalRun(store, spec, ck.task, ds, { dbPath, sel }, emit);
      const results = await evaluateSplits(ck, splits, { store, runId, datasetId: ds.datasetId, cache }, emit, signal);
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
    ck.clf.dispose();
  }
}
