/**
 * Events of a training run: what `camd pretrain --json` prints, one JSON object per line, and
 * what the app's main process will receive from the trainer child process. One schema, validated
 * wherever events are read back.
 */
import { z } from 'zod';
import { ERROR_CAUSES } from '../util/errors.js';

export const StartEvent = z.object({
  type: z.literal('start'),
  run_id: z.string(),
  out_dir: z.string(),
  db: z.string(),
  backend: z.string(),
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
});

export const StepEvent = z.object({
  type: z.literal('step'),
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

export const CheckpointEvent = z.object({ type: z.literal('checkpoint'), step: z.number().int(), path: z.string(), sha256: z.string() });

export const DoneEvent = z.object({
  type: z.literal('done'),
  step: z.number().int(),
  reason: z.enum(['completed', 'interrupted']),
  checkpoint: z.string().nullable(),
  encoder: z.string().nullable(),
  seconds: z.number(),
});

/** Why a run or a command failed (util/errors.ts ErrorCause). */
export const ErrorCause = z.enum(ERROR_CAUSES);

export const ErrorEvent = z.object({ type: z.literal('error'), message: z.string(), step: z.number().int().optional(), cause: ErrorCause.optional() });

/** Something the user should know that does not stop the run (removed leftovers, a warm-up covering most of a short run). */
export const LogEvent = z.object({ type: z.literal('log'), level: z.enum(['info', 'warn']), message: z.string() });

export const ProgressEvent = z.object({ type: z.literal('progress'), phase: z.enum(['scan', 'cache']), done: z.number(), total: z.number() });

export const PretrainEvent = z.discriminatedUnion('type', [StartEvent, StepEvent, CheckpointEvent, DoneEvent, ErrorEvent, ProgressEvent, LogEvent]);
export type PretrainEvent = z.infer<typeof PretrainEvent>;
export type StepEventT = z.infer<typeof StepEvent>;
