/** A fine-tuning run's schedule (method.md §5): batches per epoch, learning rates, and what is trained at which rate. */
import type * as tf from '@tensorflow/tfjs';
import { FINETUNE_DEFAULTS } from '../protocol/defaults.js';
import type { FinetuneSpec } from '../protocol/specs.js';
import type { Classifier } from './classifier.js';
import type { FinetuneSettings } from './run-settings.js';

const DEFAULTS = FINETUNE_DEFAULTS;

export type EpochPlan = { stepsPerEpoch: number; droppedPerEpoch: number; keptPartial: boolean };

/** Training images that fit in whole batches, and whether the last partial batch is kept (tiny sets). */
export function epochPlan(trainCount: number, batch: number): EpochPlan {
  const full = Math.floor(trainCount / batch);
  const rest = trainCount - full * batch;
  // drop_last as the reference, except where whole batches would leave out a large part of a tiny set
  const keptPartial = rest > 0 && full < 4;
  return { stepsPerEpoch: full + (keptPartial ? 1 : 0), droppedPerEpoch: keptPartial ? 0 : rest, keptPartial };
}

/** Images a step: the requested batch, at most the training set. */
export function batchSize(spec: FinetuneSpec, trainCount: number): number {
  return Math.min(spec.batch ?? DEFAULTS.batch, trainCount);
}

export interface Schedule {
  batch: number;
  plan: EpochPlan;
  blr: number;
  /** The peak learning rate, blr · batch / 256. */
  lr0: number;
  warmup: number;
  minLr: number;
  decay: number;
  /** The trained variables by name: the head alone for a linear probe. */
  vars: Map<string, tf.Variable>;
  /** Layer-wise decay of each trained variable's learning rate. */
  lrScale: Map<string, number>;
}

export function scheduleOf(
  spec: FinetuneSpec,
  settings: FinetuneSettings,
  clf: Classifier,
  trainCount: number,
  batch: number,
): Schedule {
  const plan = epochPlan(trainCount, batch);
  const blr = spec.blr ?? DEFAULTS.blr;
  const lr0 = (blr * batch) / 256;
  const warmup = spec.warmupEpochs ?? DEFAULTS.warmupEpochs;
  const minLr = spec.minLr ?? DEFAULTS.minLr;
  const decay = spec.layerDecay ?? DEFAULTS.layerDecay;
  const L = settings.model.depth + 1;
  const trainable = settings.linearProbe ? ['head.weight', 'head.bias'] : clf.params.names();
  const vars = new Map(trainable.map((n) => [n, clf.params.get(n)]));
  const lrScale = new Map(trainable.map((n) => [n, Math.pow(decay, L - clf.layerId(n))])); // §5: 0.65^(L − id)
  return { batch, plan, blr, lr0, warmup, minLr, decay, vars, lrScale };
}
