/**
 * The fine-tuning loop (method.md §5): epochs of optimiser steps, an evaluation after each epoch on
 * the validation (selection) and test splits, the selected model kept as best.safetensors. A stop
 * finishes the step and writes the model as it is (last.safetensors). Selection is by validation
 * when the dataset has one ("Our decisions"); the best test value over epochs is reported too,
 * labelled as such.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Store } from '../store/store.js';
import type { DecodeCache } from '../data/decode-cache.js';
import type { ModelConfig } from '../model/config.js';
import type { AdamW } from '../optim/adamw.js';
import { learningRateAt } from '../optim/schedule.js';
import { encodeTensorFile, writeFileAtomic } from '../store/checkpoint.js';
import type { Classifier } from './classifier.js';
import type { ResolvedItem } from './dataset.js';
import { drawTrain, trainTransform, type AugOptions } from './transforms.js';
import { baselineFields, farMetrics, ferMetrics, type FarMetrics, type FerMetrics } from './metrics.js';
import type { Task } from '../labels/label-files.js';
import { cachedImage, evalBatches, labelTensor, logitsOver, lossOf } from './eval-batches.js';
import { CLASSIFIER_FORMAT } from './classifier-file.js';
import type { EventSink } from '../protocol/events.js';
import { Rng } from '../util/rng.js';

export interface FinetuneContext {
  task: Task;
  names: string[];
  model: ModelConfig;
  /** Input size. */
  S: number;
  train: ResolvedItem[];
  val: ResolvedItem[];
  test: ResolvedItem[];
  datasetId: number;
  cache: DecodeCache;
  clf: Classifier;
  opt: AdamW;
  vars: Map<string, tf.Variable>;
  lrScale: Map<string, number>;
  linearProbe: boolean;
  aug: AugOptions;
  epochs: number;
  batch: number;
  stepsPerEpoch: number;
  lr0: number;
  warmup: number;
  minLr: number;
  seed: number;
  normalisation: unknown;
  store: Store;
  runId: string;
  outDir: string;
  send: EventSink;
  signal: AbortSignal;
  /** Completed optimiser steps (read by the hard-exit hook). */
  step: number;
  /** After a completed run, before it is marked done: given the selected model's file (predictions for labelling). */
  afterTraining?: (bestFile: string) => Promise<void>;
}

export type FinetuneOutcome = 'completed' | 'stopped' | 'diverged';

/** Features of every item under the frozen encoder (linear probe), computed once. */
async function frozenFeatures(c: FinetuneContext): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  const all = [...c.train, ...c.val, ...c.test];
  let done = 0;
  for (const part of [c.train, c.val, c.test]) {
    for await (const b of evalBatches(part, c.cache, c.S, 32)) {
      const f = tf.tidy(() => c.clf.features(tf.tensor4d(b.x, [b.n, c.S, c.S, 3])));
      const data = (await f.data()) as Float32Array;
      f.dispose();
      const D = c.model.embedDim;
      b.items.forEach((it, k) => out.set(it.path, data.slice(k * D, (k + 1) * D)));
      done += b.n;
      c.send({ type: 'progress', phase: 'features', done, total: all.length });
    }
  }
  return out;
}

/** One optimiser step on the loss `f`; returns the loss value (no gradient clipping in fine-tuning, §5). */
async function optimiserStep(c: FinetuneContext, f: () => tf.Scalar, lr: number): Promise<number> {
  const v = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(f, [...c.vars.values()]);
    const byName = new Map<string, tf.Tensor>();
    for (const [n, va] of c.vars) if (grads[va.name]) byName.set(n, grads[va.name]!);
    c.opt.apply(c.vars, byName, lr, c.lrScale);
    return value;
  });
  const out = (await v.data())[0]!;
  v.dispose();
  return out;
}

export async function finetuneLoop(c: FinetuneContext): Promise<FinetuneOutcome> {
  const { task, names, S, train, val, test, clf, store, runId, send, signal } = c;
  const K = names.length;
  const D = c.model.embedDim;
  const features = c.linearProbe ? await frozenFeatures(c) : null;
  const featuresOf = (items: ResolvedItem[]) =>
    tf.tensor2d(
      items.flatMap((it) => [...features!.get(it.path)!]),
      [items.length, D],
    );

  const evaluate = async (items: ResolvedItem[]): Promise<FarMetrics | FerMetrics> => {
    let logits: Float32Array;
    if (features) {
      const f = featuresOf(items);
      const l = tf.tidy(() => clf.head(f));
      logits = (await l.data()) as Float32Array;
      tf.dispose([f, l]);
    } else
      logits = await logitsOver(clf, items, c.cache, S, K, (done) =>
        send({ type: 'progress', phase: 'evaluating', done, total: items.length }),
      );
    return task === 'far'
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
  };

  const writeModel = async (epoch: number, role: 'best' | 'last'): Promise<string> => {
    const file = join(c.outDir, `${role}.safetensors`);
    send({ type: 'progress', phase: 'checkpoint', done: 0, total: 1 });
    const state = {
      kind: CLASSIFIER_FORMAT,
      run_id: runId,
      epoch,
      step: c.step,
      task,
      names,
      spec: clf.spec,
      normalisation: c.normalisation,
      img_size: S,
    };
    const { bytes, sha256 } = encodeTensorFile(CLASSIFIER_FORMAT, state, await clf.exportTensors());
    writeFileAtomic(file, bytes);
    store.replaceCheckpoint({
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
  };

  const history: { epoch: number; val: number | null; test: number }[] = [];
  const metricName = task === 'far' ? 'mean_acc' : 'top1';
  const t0 = performance.now();
  let bestFile: string | null = null;
  let bestSel = -Infinity;
  let stoppedIn: number | null = null; // the epoch in which a stop arrived
  for (let epoch = 1; epoch <= c.epochs && stoppedIn === null; epoch++) {
    const order = new Rng(c.seed).fork(`ft-epoch-${epoch}`).shuffle([...train.keys()]);
    for (let it = 0; it < c.stepsPerEpoch; it++) {
      const ts = performance.now();
      const rng = new Rng(c.seed).fork(`ft-step-${c.step}`);
      const items = order.slice(it * c.batch, (it + 1) * c.batch).map((k) => train[k]!);
      const t = epoch - 1 + it / c.stepsPerEpoch;
      const lr = learningRateAt(t, c.lr0, c.warmup, c.epochs, c.minLr);
      const y = labelTensor(task, items, K);
      let loss: number;
      if (features) {
        const f = featuresOf(items);
        loss = await optimiserStep(c, () => lossOf(task, clf.head(f), y), lr);
        f.dispose();
      } else {
        const draws = items.map((x) => {
          const img = cachedImage(c.cache, x);
          return drawTrain(img.width, img.height, S, rng, c.aug);
        });
        const views = await Promise.all(
          items.map((x, b) =>
            trainTransform(cachedImage(c.cache, x), S, draws[b]!, (s) => {
              const g = new Rng(s);
              return () => g.normal();
            }),
          ),
        );
        const xb = new Float32Array(items.length * S * S * 3);
        views.forEach((v, b) => xb.set(v, b * S * S * 3));
        const x = tf.tensor4d(xb, [items.length, S, S, 3]);
        const masks = clf.dropPathMasks(items.length, rng);
        loss = await optimiserStep(c, () => lossOf(task, clf.logits(x, masks), y), lr);
        tf.dispose([x, ...(masks ?? []).flat()]);
      }
      y.dispose();
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
      if (signal.aborted) {
        stoppedIn = epoch;
        break;
      }
      await new Promise((r) => setImmediate(r)); // let signals in between steps
    }
    if (stoppedIn !== null) break;
    // ---- evaluation every epoch ----
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
      send({ type: 'eval', epoch, split, metric: r.metric, value: r.value, n, ...baselineFields(r) });
    };
    const v = val.length ? await evaluate(val) : null;
    if (v) rec('val', v, val.length);
    const te = await evaluate(test.length ? test : val);
    rec(test.length ? 'test' : 'val', te, test.length || val.length);
    history.push({ epoch, val: v?.value ?? null, test: te.value });
    const selValue = v ? v.value : te.value;
    if (v ? selValue > bestSel : epoch === c.epochs) {
      bestSel = selValue;
      bestFile = await writeModel(epoch, 'best');
    }
    store.updateRun(runId, { last_step: c.step });
    if (signal.aborted && epoch < c.epochs) stoppedIn = epoch + 1; // the stop arrived during the evaluation
  }
  // ---- a stop: the model as it is now; selection among the evaluated epochs ----
  const lastFile = stoppedIn !== null ? await writeModel(stoppedIn, 'last') : null;
  const byVal = val.length > 0;
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
  send({
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
