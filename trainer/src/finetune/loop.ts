/**
 * The fine-tuning loop (method.md §5): epochs of optimiser steps, an evaluation after each epoch on
 * the validation (selection) and test splits, the selected model kept as best.safetensors. A stop
 * finishes the step and writes the model as it is (last.safetensors). Selection is by validation
 * when the dataset has one ("Our decisions"); the best test value over epochs is reported too,
 * labelled as such.
 */
import { learningRateAt } from '../optim/schedule.js';
import { Rng } from '../util/rng.js';
import type { FinetuneContext, FinetuneOutcome } from './loop-context.js';
import { evaluateEpoch, writeModel, type LoopState } from './loop-eval.js';
import { frozenFeatures, trainStep, type FrozenFeatures } from './loop-step.js';

export type { FinetuneContext, FinetuneOutcome } from './loop-context.js';

/** The steps of one epoch; 'stopped' when a stop arrived during a step (the step is finished first). */
async function trainEpoch(
  c: FinetuneContext,
  features: FrozenFeatures | null,
  epoch: number,
): Promise<'trained' | 'stopped' | 'diverged'> {
  const { train, store, runId, send } = c;
  const order = new Rng(c.seed).fork(`ft-epoch-${epoch}`).shuffle([...train.keys()]);
  for (let it = 0; it < c.stepsPerEpoch; it++) {
    const ts = performance.now();
    const rng = new Rng(c.seed).fork(`ft-step-${c.step}`);
    const items = order.slice(it * c.batch, (it + 1) * c.batch).map((k) => train[k]!);
    const t = epoch - 1 + it / c.stepsPerEpoch;
    const lr = learningRateAt(t, c.lr0, c.warmup, c.epochs, c.minLr);
    const loss = await trainStep(c, features, items, rng, lr);
    c.step++;
    if (!Number.isFinite(loss)) {
      const msg = `the loss became ${loss} at step ${c.step} (epoch ${epoch}); fine-tuning stopped. Try a lower --blr.`;
      store.updateRun(runId, {
        status: 'failed',
        error: msg,
        finished_at: new Date().toISOString(),
        last_step: c.step,
      });
      send({ type: 'error', message: msg, cause: 'diverged', step: c.step });
      return 'diverged';
    }
    store.addMetrics(runId, [
      { step: c.step, epoch: t + 1 / c.stepsPerEpoch, name: 'loss', value: loss },
      { step: c.step, epoch: t + 1 / c.stepsPerEpoch, name: 'lr', value: lr },
    ]);
    send({
      type: 'step',
      kind: 'finetune',
      step: c.step,
      epoch,
      loss,
      lr,
      images_per_s: (items.length * 1000) / (performance.now() - ts),
    });
    if (c.signal.aborted) return 'stopped';
    await new Promise((r) => setImmediate(r)); // let signals in between steps
  }
  return 'trained';
}

/** A stop: the model as it is now; selection among the evaluated epochs, recorded with the best test value over epochs; the run marked done or stopped. */
async function finish(c: FinetuneContext, s: LoopState, t0: number): Promise<FinetuneOutcome> {
  const { store, runId } = c;
  const metricName = c.task === 'far' ? 'mean_acc' : 'top1';
  const { history, bestFile, stoppedIn } = s;
  const lastFile = stoppedIn !== null ? await writeModel(c, stoppedIn, 'last') : null;
  const byVal = c.val.length > 0;
  const selected =
    history.length === 0
      ? null
      : byVal
        ? history.reduce((a, b) => ((b.val ?? -1) > (a.val ?? -1) ? b : a))
        : history[history.length - 1]!;
  const bestTest = history.length === 0 ? null : history.reduce((a, b) => (b.test > a.test ? b : a));
  if (selected && bestTest) {
    store.selectEvaluationEpoch(runId, selected.epoch);
    store.addEvaluation({
      run_id: runId,
      dataset_id: c.datasetId,
      epoch: bestTest.epoch,
      split: 'test',
      metric: `${metricName}_best_over_epochs`,
      value: bestTest.test,
      detail: { note: 'maximum test value over epochs, the released protocol; not a model selection' },
    });
  }
  if (stoppedIn === null && bestFile && c.afterTraining) await c.afterTraining(bestFile);
  store.updateRun(runId, {
    status: stoppedIn !== null ? 'stopped' : 'done',
    finished_at: new Date().toISOString(),
    last_step: c.step,
  });
  c.send({
    type: 'done',
    kind: 'finetune',
    reason: stoppedIn !== null ? 'interrupted' : 'completed',
    step: c.step,
    selected_epoch: selected?.epoch ?? null,
    selected_by: selected ? (byVal ? 'val' : 'last') : null,
    test_at_selected: selected?.test ?? null,
    best_test: bestTest?.test ?? null,
    best_test_epoch: bestTest?.epoch ?? null,
    metric: metricName,
    checkpoint: bestFile,
    last: lastFile,
    seconds: (performance.now() - t0) / 1000,
  });
  return stoppedIn !== null ? 'stopped' : 'completed';
}

export async function finetuneLoop(c: FinetuneContext): Promise<FinetuneOutcome> {
  const features = c.linearProbe ? await frozenFeatures(c) : null;
  const s: LoopState = { history: [], bestFile: null, bestSel: -Infinity, stoppedIn: null };
  const t0 = performance.now();
  for (let epoch = 1; epoch <= c.epochs && s.stoppedIn === null; epoch++) {
    const trained = await trainEpoch(c, features, epoch);
    if (trained === 'diverged') return 'diverged';
    if (trained === 'stopped') {
      s.stoppedIn = epoch;
      break;
    }
    await evaluateEpoch(c, features, epoch, s);
  }
  return finish(c, s, t0);
}
