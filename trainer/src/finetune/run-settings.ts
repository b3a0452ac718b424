/**
 * A fine-tuning run's settings: the spec with the defaults filled in, and the encoder it starts
 * from, read before the run folder is touched so that a bad --init or --img-size is refused first.
 */
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { ModelConfigSchema, presetConfig, type ModelConfig } from '../model/config.js';
import { FINETUNE_DEFAULTS } from '../protocol/defaults.js';
import type { FinetuneSpec } from '../protocol/specs.js';
import { UserError } from '../util/errors.js';
import { readEncoder } from './classifier.js';
import { DEFAULT_AUG, type AugOptions } from './transforms.js';

const DEFAULTS = FINETUNE_DEFAULTS;

export type Encoder = ReturnType<typeof readEncoder>;

export interface FinetuneSettings {
  task: FinetuneSpec['task'];
  seed: number;
  epochs: number;
  aug: AugOptions;
  maxPixels: number;
  /** The encoder's architecture at the run's input size (`model.imgSize`). */
  model: ModelConfig;
  /** The starting weights; null: random init. */
  encoder: Encoder | null;
  linearProbe: boolean;
}

/** The encoder's architecture at the requested input size, and its weights (null: random init). */
function encoderOf(spec: FinetuneSpec): { model: ModelConfig; encoder: Encoder | null } {
  let model: ModelConfig;
  let encoder: Encoder | null = null;
  if (spec.init === 'none') model = presetConfig(spec.preset ?? DEFAULTS.preset).model;
  else {
    try {
      encoder = readEncoder(spec.init);
    } catch (e) {
      throw new UserError((e as Error).message, 2, 'init');
    }
    model = encoder.model;
  }
  const S = spec.imgSize ?? model.imgSize;
  const m2 = ModelConfigSchema.safeParse({ ...model, imgSize: S });
  if (!m2.success) throw new UserError(`--img-size ${S}: ${m2.error.issues[0]!.message}`, 2, 'imgSize');
  return { model: m2.data, encoder };
}

export function resolveSettings(spec: FinetuneSpec): FinetuneSettings {
  const task = spec.task;
  const seed = spec.seed ?? DEFAULTS.seed;
  const epochs = spec.epochs ?? DEFAULTS.epochs;
  const aug: AugOptions = {
    randAugment: spec.randAugment ?? DEFAULT_AUG.randAugment,
    reprob: spec.reprob ?? DEFAULT_AUG.reprob,
    minCropScale: spec.minCropScale ?? DEFAULT_AUG.minCropScale,
  };
  const maxPixels = spec.maxPixels ?? DEFAULT_MAX_PIXELS;
  const { model, encoder } = encoderOf(spec);
  return { task, seed, epochs, aug, maxPixels, model, encoder, linearProbe: Boolean(spec.linearProbe) };
}
