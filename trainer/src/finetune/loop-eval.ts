/**
 * The evaluation after each fine-tuning epoch (method.md §5): the validation split for selection
 * and the test split reported, each recorded in the store; the selected model written as
 * best.safetensors, and the model as it is (last.safetensors) when a run stops.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { encodeTensorFile, writeFileAtomic } from '../store/checkpoint.js';
import { CLASSIFIER_FORMAT } from './classifier-file.js';
import type { ResolvedItem } from './dataset.js';
import { logitsOver } from './eval-batches.js';
import type { FinetuneContext } from './loop-context.js';
import { featuresOf, type FrozenFeatures } from './loop-step.js';
import { baselineFields, metricsOf, type FarMetrics, type FerMetrics } from './metrics.js';

/** The evaluated epochs, the selected model so far, and whether a stop has arrived. */
export interface LoopState {
  history: { epoch: number; val: number | null; test: number }[];
  bestFile: string | null;
  bestSel: number;
  /** The epoch in which a stop arrived. */
  stoppedIn: number | null;
}

/** The task's metric over items: the head on frozen features (linear probe), or the whole classifier on evaluation views. */
async function evaluateOn(
  c: FinetuneContext,
  features: FrozenFeatures | null,
  items: ResolvedItem[],
): Promise<FarMetrics | FerMetrics> {
  let logits: Float32Array;
  if (features) {
    const f = featuresOf(c, features, items);
    const l = tf.tidy(() => c.clf.head(f));
    logits = (await l.data()) as Float32Array;
    tf.dispose([f, l]);
  } else
    logits = await logitsOver(c.clf, items, c.cache, c.S, c.names.length, (done) =>
      c.send({ type: 'progress', phase: 'evaluating', done, total: items.length }),
    );
  return metricsOf(c.task, logits, items, c.names);
}

/** The classifier as it is now, written as `role`.safetensors and recorded as the run's checkpoint of that role. */
export async function writeModel(c: FinetuneContext, epoch: number, role: 'best' | 'last'): Promise<string> {
  const { runId, send } = c;
  const file = join(c.outDir, `${role}.safetensors`);
  send({ type: 'progress', phase: 'checkpoint', done: 0, total: 1 });
  const state = {
    kind: CLASSIFIER_FORMAT,
    run_id: runId,
    epoch,
    step: c.step,
    task: c.task,
    names: c.names,
    spec: c.clf.spec,
    normalisation: c.normalisation,
    img_size: c.S,
  };
  const { bytes, sha256 } = encodeTensorFile(CLASSIFIER_FORMAT, state, await c.clf.exportTensors());
  writeFileAtomic(file, bytes);
  c.store.replaceCheckpoint({
    run_id: runId,
    step: c.step,
    kind: role === 'best' ? 'classifier' : 'last',
    path: file,
    sha256,
    bytes: bytes.length,
  });
  send({ type: 'progress', phase: 'checkpoint', done: 1, total: 1 });
  send({ type: 'checkpoint', role, epoch, step: c.step, path: file, sha256 });
  return file;
}

/** Evaluates the model after `epoch`; selection is by validation when the dataset has one, else the last epoch. */
export async function evaluateEpoch(
  c: FinetuneContext,
  features: FrozenFeatures | null,
  epoch: number,
  s: LoopState,
): Promise<void> {
  const { val, test, store, runId } = c;
  const rec = (split: 'val' | 'test', r: FarMetrics | FerMetrics, n: number) => {
    store.addEvaluation({
      run_id: runId,
      dataset_id: c.datasetId,
      epoch,
      split,
      metric: r.metric,
      value: r.value,
      detail: r,
    });
    c.send({ type: 'eval', epoch, split, metric: r.metric, value: r.value, n, ...baselineFields(r) });
  };
  const v = val.length ? await evaluateOn(c, features, val) : null;
  if (v) rec('val', v, val.length);
  const te = await evaluateOn(c, features, test.length ? test : val);
  rec(test.length ? 'test' : 'val', te, test.length || val.length);
  s.history.push({ epoch, val: v?.value ?? null, test: te.value });
  const selValue = v ? v.value : te.value;
  if (v ? selValue > s.bestSel : epoch === c.epochs) {
    s.bestSel = selValue;
    s.bestFile = await writeModel(c, epoch, 'best');
  }
  store.updateRun(runId, { last_step: c.step });
  if (c.signal.aborted && epoch < c.epochs) s.stoppedIn = epoch + 1; // the stop arrived during the evaluation
}
