/**
 * Events of a fine-tuning run: what `camd finetune --json` prints, one JSON object per line, and
 * what is appended to the run folder's events.jsonl. One schema, validated where read back.
 */
import { z } from 'zod';
import { ErrorEvent, LogEvent } from '../train/events.js';

const Metric = z.enum(['mean_acc', 'top1']);

export const FinetuneEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), phase: z.enum(['scan', 'cache', 'features']), done: z.number(), total: z.number() }),
  z.object({
    type: z.literal('start'),
    run_id: z.string(),
    out_dir: z.string(),
    db: z.string(),
    backend: z.string(),
    task: z.enum(['far', 'fer']),
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
  }),
  z.object({ type: z.literal('step'), step: z.number().int(), epoch: z.number().int(), loss: z.number(), lr: z.number(), images_per_s: z.number() }),
  z.object({ type: z.literal('eval'), epoch: z.number().int(), split: z.enum(['val', 'test']), metric: Metric, value: z.number() }),
  z.object({ type: z.literal('checkpoint'), epoch: z.number().int(), step: z.number().int(), kind: z.enum(['best', 'last']), path: z.string() }),
  z.object({
    type: z.literal('done'),
    reason: z.enum(['completed', 'interrupted']),
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
    seconds: z.number(),
  }),
  ErrorEvent,
  LogEvent,
]);
export type FinetuneEvent = z.infer<typeof FinetuneEvent>;
