/**
 * The fine-tuned classifier file (`best.safetensors`, `last.safetensors`): format "camd-classifier",
 * the encoder, fc_norm and head tensors, and the task, class names, spec and input size in its state.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { ModelConfigSchema } from '../model/config.js';
import { readTensorFile } from '../store/checkpoint.js';
import { Classifier } from './classifier.js';
import type { Task } from '../labels/label-files.js';
import { UserError } from '../util/errors.js';

export const CLASSIFIER_FORMAT = 'camd-classifier';

const ClassifierState = z
  .object({
    kind: z.literal(CLASSIFIER_FORMAT),
    task: z.enum(['far', 'fer']),
    names: z.array(z.string()),
    spec: z.object({ model: ModelConfigSchema, outputs: z.number().int(), dropPath: z.number() }),
    img_size: z.number().int(),
  })
  .passthrough();

/** Loads a fine-tuned classifier written by `camd finetune`. */
export function loadClassifier(file: string): { clf: Classifier; task: Task; names: string[]; imgSize: number } {
  if (!existsSync(file)) throw new UserError(`checkpoint ${file} does not exist`);
  let f;
  try {
    f = readTensorFile(file, CLASSIFIER_FORMAT);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const s = ClassifierState.safeParse(f.state);
  if (!s.success) throw new UserError(`${file}: classifier metadata is invalid`);
  const clf = new Classifier({ ...s.data.spec, dropPath: 0 }, 0);
  try {
    clf.loadEncoder(f.tensors, file);
    clf.loadParams(f.tensors, ['fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias'], file);
  } catch (e) {
    clf.dispose();
    throw new UserError((e as Error).message);
  }
  return { clf, task: s.data.task, names: s.data.names, imgSize: s.data.img_size };
}
