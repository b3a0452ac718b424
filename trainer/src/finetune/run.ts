/**
 * `camd finetune`: fine-tune (or linear-probe) an encoder on a labelled face dataset and evaluate
 * it every epoch (method.md §5). This module prepares a run — the encoder, the run folder and its
 * lock, the store record, the labelled data and its decode cache, the backend, the classifier and
 * its optimiser — and loop.ts runs its epochs.
 */
import { appendFileSync } from 'node:fs';
import type { AdamW } from '../optim/adamw.js';
import type { EventSink } from '../protocol/events.js';
import type { FinetuneSpec } from '../protocol/specs.js';
import { Store } from '../store/store.js';
import { defaultDbPath } from '../util/paths.js';
import { predictForLabelling } from './label-predictions.js';
import { finetuneLoop, type FinetuneContext, type FinetuneOutcome } from './loop.js';
import { prepareData } from './run-data.js';
import { openRunFolder } from './run-folder.js';
import { chooseBackend, createClassifier, loadStartingWeights } from './run-model.js';
import { recordFailure, recordHardExit, recordRun, type RecordedRun, type RunInputs } from './run-record.js';
import { batchSize, scheduleOf } from './run-schedule.js';
import { resolveSettings } from './run-settings.js';

export { epochPlan } from './run-schedule.js';

export interface FinetuneResult {
  outcome: FinetuneOutcome;
  runId: string;
  outDir: string;
}

/** Where the loop writes and what it answers to. */
interface RunIo {
  store: Store;
  outDir: string;
  send: EventSink;
  signal: AbortSignal;
}

/** The store opened (the run folder released when it cannot be); runs whose process is gone are marked interrupted. */
function openStore(dbPath: string, release: () => void, emit: EventSink): Store {
  let store: Store;
  try {
    store = new Store(dbPath);
  } catch (e) {
    release();
    throw e;
  }
  for (const r of store.reapDeadRuns())
    emit({
      type: 'log',
      level: 'info',
      message: `run ${r.id} was shown as running, but its process (pid ${r.pid}) is gone: marked interrupted`,
    });
  return store;
}

function loopContext(r: RunInputs, run: RecordedRun, opt: AdamW, io: RunIo): FinetuneContext {
  const { settings, data, schedule } = r;
  return {
    task: settings.task,
    names: data.ds.set.names,
    model: settings.model,
    S: settings.model.imgSize,
    train: data.train,
    val: data.val,
    test: data.test,
    datasetId: data.ds.datasetId,
    cache: data.cache,
    clf: r.clf,
    opt,
    vars: schedule.vars,
    lrScale: schedule.lrScale,
    linearProbe: settings.linearProbe,
    aug: settings.aug,
    epochs: settings.epochs,
    batch: schedule.batch,
    stepsPerEpoch: schedule.plan.stepsPerEpoch,
    lr0: schedule.lr0,
    warmup: schedule.warmup,
    minLr: schedule.minLr,
    seed: settings.seed,
    normalisation: run.config.normalisation,
    store: io.store,
    runId: run.runId,
    outDir: io.outDir,
    send: io.send,
    signal: io.signal,
    step: 0,
  };
}

/** How the epochs treat a last partial batch, then the run's `start` event. */
function announceStart(
  r: RunInputs,
  run: RecordedRun,
  send: EventSink,
  where: { outDir: string; db: string; backend: string },
): void {
  const { spec, settings, data, schedule } = r;
  const { train } = data;
  const { batch, plan } = schedule;
  if (plan.keptPartial)
    send({
      type: 'log',
      level: 'info',
      message: `${train.length} training images are not a multiple of the batch ${batch}: each epoch ends with a batch of ${train.length - (plan.stepsPerEpoch - 1) * batch} (kept: the set is smaller than 4 batches)`,
    });
  else if (plan.droppedPerEpoch)
    send({
      type: 'log',
      level: 'info',
      message: `each epoch leaves out ${plan.droppedPerEpoch} of ${train.length} training images (the last partial batch is dropped, as in the reference recipe; a different ${plan.droppedPerEpoch} each epoch)`,
    });
  send({
    type: 'start',
    kind: 'finetune',
    run_id: run.runId,
    out_dir: where.outDir,
    db: where.db,
    backend: where.backend,
    task: settings.task,
    format: data.ds.set.format,
    classes: data.ds.set.names.length,
    train: train.length,
    val: data.val.length,
    test: data.test.length,
    dropped: data.ds.dropped.length,
    init: spec.init,
    pos_embed: r.posNote,
    epochs: settings.epochs,
    steps_per_epoch: plan.stepsPerEpoch,
    batch,
    dropped_per_epoch: plan.droppedPerEpoch,
    linear_probe: settings.linearProbe,
  });
}

/** Runs a fine-tuning run; `spec` is validated (protocol/specs.ts). */
export async function finetune(spec: FinetuneSpec, emit: EventSink, signal: AbortSignal): Promise<FinetuneResult> {
  const settings = resolveSettings(spec);
  const outDir = spec.out;
  const folder = openRunFolder(outDir);
  const dbPath = spec.db ?? defaultDbPath();
  const store = openStore(dbPath, folder.release, emit);
  try {
    const data = await prepareData(store, dbPath, spec, settings, emit);
    const batch = batchSize(spec, data.train.length);
    const { sel, recompute } = await chooseBackend(spec, settings, batch, emit);
    const { clf, opt } = createClassifier(spec, settings, data.ds.set.names.length, recompute);
    try {
      const posNote = loadStartingWeights(clf, settings.encoder, spec.init);
      const schedule = scheduleOf(spec, settings, clf, data.train.length, batch);
      const inputs: RunInputs = { spec, settings, data, schedule, clf, posNote };
      const run = recordRun(inputs, { store, dbPath, outDir }, sel);
      const send: EventSink = (e) => {
        if (e.type !== 'progress') appendFileSync(run.eventsFile, `${JSON.stringify(e)}\n`);
        emit(e);
      };
      const ctx = loopContext(inputs, run, opt, { store, outDir, send, signal });
      const { ds } = data;
      if (ds.set.format === 'store')
        ctx.afterTraining = (bestFile) =>
          predictForLabelling(bestFile, {
            store,
            schemaId: ds.schemaId,
            runId: run.runId,
            root: ds.root,
            send,
            signal,
            maxPixels: settings.maxPixels,
          });
      const offHardExit = recordHardExit(store, run, folder.lock, () => ctx.step);
      try {
        announceStart(inputs, run, send, { outDir, db: dbPath, backend: sel.backend });
        const outcome = await finetuneLoop(ctx);
        return { outcome, runId: run.runId, outDir };
      } catch (e) {
        recordFailure(store, run, ctx.step, e);
      } finally {
        offHardExit();
      }
    } finally {
      clf.dispose();
      opt.dispose();
    }
  } finally {
    store.close();
    folder.release();
  }
}
