/**
 * The events of every run kind — pre-training, fine-tuning, evaluation — in one union: what
 * `camd … --json` prints one object a line, what `camd worker` sends to the app, and what each run
 * folder's events.jsonl keeps. One schema (zod), validated wherever events are read back.
 *
 *   progress    a named phase with done/total (scanning, decoding, features, evaluating, checkpoint)
 *   start       the run began (its kind, where, on what backend, how long)      — by run kind
 *   step        one optimiser step and its metrics                              — by run kind
 *   eval        one evaluation value of an epoch (or of a checkpoint, epoch null)
 *   checkpoint  a file was written: a full checkpoint, the selected (best) or the last model
 *   log         something to know that does not stop the run
 *   done        the run ended: completed, or stopped on request                — by run kind
 *   error       the run or command failed, with a typed cause (util/errors.ts)
 */
import { z } from 'zod';
import { ERROR_CAUSES } from '../util/errors.js';

export const RUN_KINDS = ['pretrain', 'finetune', 'eval'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export const PROGRESS_PHASES = [
  'scanning',
  'decoding',
  'features',
  'evaluating',
  'checkpoint',
  'predicting',
  'detecting',
] as const;
export const ProgressEvent = z.object({
  type: z.literal('progress'),
  phase: z.enum(PROGRESS_PHASES),
  done: z.number(),
  total: z.number(),
});

const startCommon = {
  type: z.literal('start'),
  run_id: z.string(),
  out_dir: z.string().nullable(),
  db: z.string(),
  backend: z.string(),
};

export const PretrainStart = z.object({
  ...startCommon,
  kind: z.literal('pretrain'),
  backend_package: z.string(),
  skipped_backends: z.array(z.string()),
  preset: z.string(),
  img_size: z.number(),
  batch: z.number(),
  images: z.number(),
  bad_images: z.number(),
  iters_per_epoch: z.number(),
  epochs: z.number(),
  total_steps: z.number(),
  first_step: z.number(),
  resumed_from: z.string().nullable(),
  /** Student activations recomputed in the backward pass (to fit the wasm heap, or asked for). */
  recompute: z.boolean().optional(),
  /** The wasm heap the step is estimated to need (wasm backend only). */
  wasm_heap_estimate_bytes: z.number().optional(),
});

export const FinetuneStart = z.object({
  ...startCommon,
  kind: z.literal('finetune'),
  /** landmarks: face alignment (landmarks/landmark-job.ts); `classes` is then its number of points, `val` 0. */
  task: z.enum(['far', 'fer', 'landmarks', 'pose', 'parsing']),
  format: z.string(),
  classes: z.number().int(),
  train: z.number().int(),
  val: z.number().int(),
  test: z.number().int(),
  dropped: z.number().int(),
  init: z.string(),
  pos_embed: z.string(),
  epochs: z.number().int(),
  steps_per_epoch: z.number().int(),
  batch: z.number().int(),
  /** Training images left out of every epoch by dropping the last partial batch (a different set each epoch). */
  dropped_per_epoch: z.number().int(),
  linear_probe: z.boolean(),
});

export const EvalStart = z.object({
  ...startCommon,
  kind: z.literal('eval'),
  checkpoint: z.string(),
  task: z.enum(['far', 'fer', 'landmarks', 'pose', 'parsing']),
  format: z.string(),
  val: z.number().int(),
  test: z.number().int(),
  /** A face-geometry model's test split, in words: the dataset's own test set, or the seeded share training held out. */
  split: z.string().optional(),
});

export const StartEvent = z.discriminatedUnion('kind', [PretrainStart, FinetuneStart, EvalStart]);

export const PretrainStep = z.object({
  type: z.literal('step'),
  kind: z.literal('pretrain'),
  step: z.number().int(),
  epoch: z.number().int(),
  loss: z.number(),
  loss_dense: z.number(),
  loss_global: z.number(),
  loss_agmd: z.number(),
  lr: z.number(),
  mm: z.number(),
  grad_norm: z.number(),
  images_per_s: z.number(),
});

export const FinetuneStep = z.object({
  type: z.literal('step'),
  kind: z.literal('finetune'),
  step: z.number().int(),
  epoch: z.number().int(),
  loss: z.number(),
  lr: z.number(),
  images_per_s: z.number(),
});

export const StepEvent = z.discriminatedUnion('kind', [PretrainStep, FinetuneStep]);

/**
 * mean_acc, top1: accuracies; nme (face alignment): the mean normalised mean error, lower is better;
 * mae (head pose): the mean absolute error of yaw, pitch and roll in degrees, lower is better;
 * mean_f1 (face parsing): the mean F1 over the classes other than background.
 */
export const EVAL_METRICS = ['mean_acc', 'top1', 'nme', 'mae', 'mean_f1'] as const;
export type EvalMetric = (typeof EVAL_METRICS)[number];
/** The headline metrics of the face-geometry tasks (one value per epoch, on the test set). */
export const GEOMETRY_METRICS: readonly EvalMetric[] = ['nme', 'mae', 'mean_f1'];
/** An error (and a loss) is better lower; an accuracy or an F1 higher. */
export const lowerIsBetter = (metric: string): boolean => metric === 'loss' || metric === 'nme' || metric === 'mae';
const Metric = z.enum(EVAL_METRICS);
/**
 * `epoch` null: the evaluation of a checkpoint alone (camd eval). `majority`: the value of always
 * giving the split's most common answer; `chance`: of guessing; `one_answer`: what the model says
 * for every face when it says one thing only (a class; for attributes, how many it never varies).
 */
export const EvalEvent = z.object({
  type: z.literal('eval'),
  epoch: z.number().int().nullable(),
  split: z.enum(['val', 'test']),
  metric: Metric,
  value: z.number(),
  n: z.number().int(),
  majority: z.number().optional(),
  chance: z.number().optional(),
  one_answer: z.string().nullable().optional(),
  /**
   * The evaluation's other figures, by name (tasks/task-job.ts): face alignment's failure_rate10 (the
   * share of faces over 10 % NME) and auc10 (the area under the CED up to 10 %).
   */
  values: z.record(z.string(), z.number()).optional(),
});

/** `role`: full (a resumable pre-training checkpoint), best (the selected fine-tuned model), last (the model when a run stopped). */
export const CheckpointEvent = z.object({
  type: z.literal('checkpoint'),
  role: z.enum(['full', 'best', 'last']),
  step: z.number().int(),
  epoch: z.number().int().optional(),
  path: z.string(),
  sha256: z.string(),
});

export const LogEvent = z.object({ type: z.literal('log'), level: z.enum(['info', 'warn']), message: z.string() });

const doneCommon = { type: z.literal('done'), reason: z.enum(['completed', 'interrupted']), seconds: z.number() };

export const PretrainDone = z.object({
  ...doneCommon,
  kind: z.literal('pretrain'),
  step: z.number().int(),
  checkpoint: z.string().nullable(),
  encoder: z.string().nullable(),
});

export const FinetuneDone = z.object({
  ...doneCommon,
  kind: z.literal('finetune'),
  step: z.number().int(),
  /** null when stopped before the first evaluation. */
  selected_epoch: z.number().int().nullable(),
  selected_by: z.enum(['val', 'last']).nullable(),
  test_at_selected: z.number().nullable(),
  best_test: z.number().nullable(),
  best_test_epoch: z.number().int().nullable(),
  metric: Metric,
  /** best.safetensors (the selected model), null when no epoch was evaluated. */
  checkpoint: z.string().nullable(),
  /** last.safetensors: the model when the run stopped (interrupted runs only). */
  last: z.string().nullable(),
});

export const EvalDone = z.object({
  ...doneCommon,
  kind: z.literal('eval'),
  results: z.record(z.string(), z.object({ metric: Metric, value: z.number(), n: z.number().int() })),
});

export const DoneEvent = z.discriminatedUnion('kind', [PretrainDone, FinetuneDone, EvalDone]);

/** Why a run or a command failed (util/errors.ts). */
export const ErrorCause = z.enum(ERROR_CAUSES);
/** `field`: the spec field at fault, for a form to point at. */
export const ErrorEvent = z.object({
  type: z.literal('error'),
  message: z.string(),
  cause: ErrorCause,
  step: z.number().int().optional(),
  field: z.string().optional(),
});

export const RunEvent = z.discriminatedUnion('type', [
  ProgressEvent,
  StartEvent,
  StepEvent,
  EvalEvent,
  CheckpointEvent,
  LogEvent,
  DoneEvent,
  ErrorEvent,
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventOf<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

/** Where a run's events go. */
export type EventSink = (e: RunEvent) => void;
