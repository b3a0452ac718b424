/**
 * The face-alignment model file (`landmarks.safetensors` of `camd finetune --task landmarks`):
 * format "camd-landmarks", the encoder, fc_norm and heatmap-head tensors, and the point scheme, the
 * number of points and the model's configuration (with its input size) in its state.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { ModelConfigSchema } from '../model/config.js';
import { readTensorFile } from '../store/checkpoint.js';
import { UserError } from '../util/errors.js';
import type { LandmarkScheme } from '../geometry/landmark-schemes.js';
import { SCHEMES } from '../geometry/landmark-schemes.js';
import { LandmarkModel } from './landmark-model.js';

export const LANDMARKS_FORMAT = 'camd-landmarks';

export const LandmarkState = z
  .object({
    task: z.literal('landmarks'),
    scheme: z.enum(Object.keys(SCHEMES) as [LandmarkScheme, ...LandmarkScheme[]]),
    points: z.number().int().positive(),
    model: ModelConfigSchema,
  })
  .passthrough();

export interface LoadedLandmarkModel {
  model: LandmarkModel;
  scheme: LandmarkScheme;
}

/** Loads a face-alignment model written by `camd finetune --task landmarks`; refuses any other file in words. */
export function loadLandmarkModel(file: string): LoadedLandmarkModel {
  if (!existsSync(file)) throw new UserError(`${file} does not exist`);
  let f;
  try {
    f = readTensorFile(file, LANDMARKS_FORMAT);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const s = LandmarkState.safeParse(f.state);
  if (!s.success) throw new UserError(`${file}: the face-alignment model's metadata is invalid`);
  if (SCHEMES[s.data.scheme].points !== s.data.points)
    throw new UserError(`${file}: ${s.data.points} points do not fit the scheme ${s.data.scheme}`);
  const model = new LandmarkModel(s.data.model, s.data.points, 0, 0);
  try {
    model.clf.loadEncoder(f.tensors, file);
    model.clf.loadParams(f.tensors, ['fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias'], file);
  } catch (e) {
    model.dispose();
    throw new UserError((e as Error).message);
  }
  return { model, scheme: s.data.scheme };
}
