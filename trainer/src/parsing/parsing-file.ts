/**
 * The face-parsing model file (`parsing.safetensors` of `camd finetune --task parsing`): format
 * "camd-parsing", the encoder, fc_norm and head (`decode.*`) tensors, and the class scheme, the
 * class names, the head's width and tapped blocks and the model's configuration (with its input
 * size) in its state. Loaded by `camd eval` and read by `camd export`.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { ModelConfigSchema } from '../model/config.js';
import { readTensorFile } from '../store/checkpoint.js';
import { UserError } from '../util/errors.js';
import { CLASS_MAPS, type ParsingScheme } from './parsing-classes.js';
import { ParsingModel, tapBlocks } from './parsing-model.js';
import { PARSING_FILE_FORMAT } from './parsing-run.js';

export const ParsingState = z
  .object({
    task: z.literal('parsing'),
    scheme: z.enum(Object.keys(CLASS_MAPS) as [ParsingScheme, ...ParsingScheme[]]),
    classes: z.array(z.string()).min(2),
    model: ModelConfigSchema,
    head: z.object({ width: z.number().int().positive(), taps: z.array(z.number().int().nonnegative()) }),
  })
  .passthrough();
export type ParsingState = z.infer<typeof ParsingState>;

export interface LoadedParsingModel {
  model: ParsingModel;
  scheme: ParsingScheme;
  names: string[];
}

/** Loads a face-parsing model written by `camd finetune --task parsing`; refuses any other file in words. */
export function loadParsingModel(file: string): LoadedParsingModel {
  if (!existsSync(file)) throw new UserError(`${file} does not exist`);
  let f;
  try {
    f = readTensorFile(file, PARSING_FILE_FORMAT);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const s = ParsingState.safeParse(f.state);
  if (!s.success) throw new UserError(`${file}: the face-parsing model's metadata is invalid`);
  const { scheme, classes, model: config, head } = s.data;
  if (CLASS_MAPS[scheme].names.join('\n') !== classes.join('\n'))
    throw new UserError(`${file}: its ${classes.length} classes are not the scheme ${scheme}'s`);
  if (tapBlocks(config.depth).join() !== head.taps.join())
    throw new UserError(`${file}: the head taps blocks ${head.taps.join(', ')}, not this version's`);
  const model = new ParsingModel(config, classes.length, head.width, 0, 0);
  try {
    model.clf.loadEncoder(f.tensors, file);
    model.clf.loadParams(f.tensors, ['fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias'], file);
    for (const n of model.head.names()) {
      const t = f.tensors.get(n);
      if (!t) throw new Error(`${file} has no tensor ${n}`);
      model.head.setValues(n, t.data);
    }
  } catch (e) {
    model.dispose();
    throw new UserError((e as Error).message);
  }
  return { model, scheme, names: classes };
}
