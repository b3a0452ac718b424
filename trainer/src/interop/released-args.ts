/**
 * A run's settings as the released `CAMD_pretrain.py`'s flags (its argparse names and values):
 * what `camd cluster-pack` writes on run.sh's torchrun line and what the checkpoints we write in the
 * released layout carry as their `args`, so that the box, `camd import-run` and `camd pretrain
 * --continue` all read one set of settings. docs/interop.md has the table, flag by flag.
 */
import type { CamdConfig, PresetName } from '../model/config.js';
import { absoluteLr } from '../optim/schedule.js';

/** The model functions of the released models_CAMD.py; other presets are registered by the box's launcher (cluster-launcher.ts). */
export const RELEASED_MODELS: Partial<Record<PresetName, string>> = {
  base: 'CAMD_vit_base_patch16',
  large: 'CAMD_vit_large_patch16',
  huge: 'CAMD_vit_huge_patch14',
};

/** The released function of a preset, or the name the launcher gives it (`CAMD_vit_tiny_patch16`, …), which run-origin.ts reads back. */
export function releasedModelName(preset: PresetName, patchSize: number): string {
  return RELEASED_MODELS[preset] ?? `CAMD_vit_${preset}_patch${patchSize}`;
}

export type FlagValue = string | number | number[] | boolean | null;

export interface ReleasedRun {
  preset: PresetName;
  imgSize: number;
  /** Per GPU (the released --batch_size), and the GPUs: the total batch is their product. */
  batchPerGpu: number;
  gpus: number;
  /** Epochs and warm-up epochs (whole numbers on run.sh's line: the released flags are integers). */
  epochs: number;
  warmupEpochs: number;
  seed: number;
}

/**
 * The released flags that reproduce `cfg` (model, losses, optimiser, masking) for run `r`, in the
 * order run.sh writes them. `true` is a bare switch (`--with_blockwise_mask`).
 */
export function releasedFlags(cfg: CamdConfig, r: ReleasedRun): Record<string, FlagValue> {
  const m = cfg.model;
  const N = (r.imgSize / m.patchSize) ** 2;
  return {
    model: releasedModelName(r.preset, m.patchSize),
    input_size: r.imgSize,
    decoder_embed_dim: m.decoderDim,
    projector_depth: m.projectorDepth,
    predictor_depth: m.predictorDepth,
    ...(m.trainPatchEmbed ? { train_patch_embed: true } : {}),
    batch_size: r.batchPerGpu,
    epochs: r.epochs,
    warmup_epochs: r.warmupEpochs,
    blr: cfg.optim.blr,
    min_lr: cfg.optim.minLr,
    weight_decay: cfg.optim.weightDecay,
    beta2: cfg.optim.beta2,
    clip_grad: cfg.optim.clipGrad,
    mm: cfg.optim.momentum,
    mmschedule: cfg.optim.momentumSchedule,
    crop_min: 0.08,
    crop_max: 0.6,
    with_blockwise_mask: true,
    blockwise_num_masking_patches: Math.round(cfg.mask.ratio * N),
    loss_type: 'CAMD',
    neg_weight: cfg.loss.negWeight,
    xi_1: cfg.loss.denseWeight,
    xi_2: cfg.loss.globalWeight,
    beta_dis: cfg.loss.agmdWeightBelow1,
    select_top_k: m.topK,
    dis_lay: m.distillLayers,
    seed: r.seed,
  };
}

/**
 * The `args` a checkpoint in the released layout carries: the flags, and what the released script
 * derives from them (`lr` = blr × total batch / 256, `world_size`, `accum_iter`). A plain dict, not
 * an argparse.Namespace: `torch.load(weights_only=True)` (the default from PyTorch 2.6) reads a dict
 * of plain values and refuses a Namespace; the released scripts never read `args` back, and ours
 * read either.
 */
export function releasedArgs(flags: Record<string, FlagValue>, r: ReleasedRun): Record<string, FlagValue> {
  return { ...flags, lr: absoluteLr(Number(flags['blr']), r.batchPerGpu * r.gpus), world_size: r.gpus, accum_iter: 1 };
}

/** The flags as an argument vector for the released argparse (`--k v`, switches bare, lists spread; false and null left out). */
export function releasedArgv(flags: Record<string, FlagValue>): string[] {
  return Object.entries(flags).flatMap(([k, v]) =>
    v === false || v === null ? [] : v === true ? [`--${k}`] : [`--${k}`, ...(Array.isArray(v) ? v : [v]).map(String)],
  );
}
