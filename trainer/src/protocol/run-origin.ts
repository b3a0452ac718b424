/**
 * The settings a run started from would lend a new one, read from what records it: the released
 * scripts' `args` (CAMD_pretrain.py's argparse Namespace, in its checkpoints and in a torchrun run's
 * store record) or a local run's recorded settings. Pure (no Node import): the trainer's
 * `--continue`, the app's service and its pre-train form read them alike.
 */
import { PRESET_NAMES, presetConfig, type PresetName } from '../model/config.js';

/** The released model functions, and the tiny/small ones people add beside them (cluster-pack --model-name). */
const RELEASED_MODEL = /^CAMD_vit_(tiny|small|base|large|huge)_patch\d+$/;

export interface LentSettings {
  preset?: PresetName;
  imgSize?: number;
  maskRatio?: number;
  epochs?: number;
  blr?: number;
  warmupEpochs?: number;
  seed?: number;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const only = (s: LentSettings): LentSettings =>
  Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as LentSettings;

/**
 * The released args as our settings, where they say them: the preset from `--model`, the input
 * size, the mask ratio from `--blockwise_num_masking_patches` over the patch grid (`patchSize`: the
 * weights', else the preset's), or `--mask_ratio`; epochs, blr, warm-up, seed.
 */
export function settingsOfReleasedArgs(a: Record<string, unknown>, patchSize?: number): LentSettings {
  const named = typeof a['model'] === 'string' ? RELEASED_MODEL.exec(a['model']) : null;
  const preset = named ? (named[1] as PresetName) : undefined;
  const imgSize = num(a['input_size']);
  const patch = patchSize ?? (preset ? presetConfig(preset).model.patchSize : undefined);
  const tokens = imgSize && patch ? (imgSize / patch) ** 2 : undefined;
  const masked = a['with_blockwise_mask'] === true ? num(a['blockwise_num_masking_patches']) : undefined;
  const ratio = masked !== undefined && tokens ? masked / tokens : num(a['mask_ratio']);
  return only({
    preset,
    imgSize,
    maskRatio: ratio !== undefined && ratio > 0 && ratio < 1 ? ratio : undefined,
    epochs: num(a['epochs']),
    blr: num(a['blr']),
    warmupEpochs: num(a['warmup_epochs']),
    seed: Number.isInteger(a['seed']) ? (a['seed'] as number) : undefined,
  });
}

/** A run's store record (its `config`): a torchrun run's args, or a local run's settings; `cluster` says which. */
export function settingsOfRun(config: Record<string, unknown>): LentSettings & { cluster: boolean } {
  if (config['source'] === 'torchrun')
    return { cluster: true, ...settingsOfReleasedArgs((config['args'] ?? {}) as Record<string, unknown>) };
  const st = (config['settings'] ?? {}) as Record<string, unknown>;
  const preset =
    typeof st['preset'] === 'string' && (PRESET_NAMES as readonly string[]).includes(st['preset'])
      ? (st['preset'] as PresetName)
      : undefined;
  return {
    cluster: false,
    ...only({
      preset,
      imgSize: num(st['imgSize']),
      maskRatio: num(st['maskRatio']),
      epochs: num(st['epochs']),
      blr: num(st['blr']),
      warmupEpochs: num(st['warmupEpochs']),
      seed: num(st['seed']),
    }),
  };
}
