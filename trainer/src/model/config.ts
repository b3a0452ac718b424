/**
 * Model, loss and optimisation configuration with the presets of method.md "Our decisions".
 * Everything a run needs to rebuild the same computation lives here and is validated with zod
 * at every boundary (CLI flags, checkpoints, messages from the app).
 */
import { z } from 'zod';

export const PRESET_NAMES = ['micro', 'tiny', 'small', 'base', 'large', 'huge'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export const ModelConfigSchema = z
  .object({
    imgSize: z.number().int().min(8).max(1024),
    patchSize: z.number().int().min(2).max(64),
    embedDim: z.number().int().min(4).max(4096),
    depth: z.number().int().min(1).max(64),
    numHeads: z.number().int().min(1).max(64),
    mlpRatio: z.number().positive().max(16),
    /** D: width of projector / predictor / targets (method.md §2; defaults to embedDim). */
    decoderDim: z.number().int().min(4).max(4096),
    /** Heads of the BatchNorm projector/predictor blocks (16 in the release, §2). */
    decoderHeads: z.number().int().min(1).max(64),
    projectorDepth: z.number().int().min(1).max(8),
    predictorDepth: z.number().int().min(1).max(16),
    /** 0-based encoder block indices distilled by AGMD (§3.3; {2,5,8,11} at depth 12). */
    distillLayers: z.array(z.number().int().min(0)).min(1),
    /** k of the attention-guided top-k (§3.3). */
    topK: z.number().int().min(1).max(64),
    /** Patch embedding stays frozen unless this is set (§2, `--train_patch_embed`). */
    trainPatchEmbed: z.boolean(),
  })
  .superRefine((c, ctx) => {
    if (c.imgSize % c.patchSize !== 0)
      ctx.addIssue({ code: 'custom', message: `imgSize ${c.imgSize} is not a multiple of patchSize ${c.patchSize}` });
    if (c.embedDim % c.numHeads !== 0)
      ctx.addIssue({ code: 'custom', message: `embedDim ${c.embedDim} is not divisible by numHeads ${c.numHeads}` });
    if (c.decoderDim % c.decoderHeads !== 0)
      ctx.addIssue({
        code: 'custom',
        message: `decoderDim ${c.decoderDim} is not divisible by decoderHeads ${c.decoderHeads}`,
      });
    if (c.decoderDim % 4 !== 0)
      ctx.addIssue({
        code: 'custom',
        message: `decoderDim ${c.decoderDim} must be a multiple of 4 (2-D sin-cos tables, §1.4)`,
      });
    if (c.embedDim % 4 !== 0)
      ctx.addIssue({
        code: 'custom',
        message: `embedDim ${c.embedDim} must be a multiple of 4 (2-D sin-cos tables, §1.4)`,
      });
    for (const l of c.distillLayers) {
      if (l >= c.depth) ctx.addIssue({ code: 'custom', message: `distill layer ${l} is outside depth ${c.depth}` });
    }
    const n = (c.imgSize / c.patchSize) ** 2;
    if (c.topK > n) ctx.addIssue({ code: 'custom', message: `topK ${c.topK} exceeds the ${n} target tokens` });
  });
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

export const LossConfigSchema = z.object({
  /** ξ₁, ξ₂ of §3.4 (script values 1 and 0.25). */
  denseWeight: z.number().nonnegative(),
  globalWeight: z.number().nonnegative(),
  /** λ = neg_weight of §3.1 / §3.2. */
  negWeight: z.number().nonnegative(),
  /** w_d when L_AGMD > 1 and when L_AGMD < 1 (§3.4). */
  agmdWeightAbove1: z.number().nonnegative(),
  agmdWeightBelow1: z.number().nonnegative(),
  /** Normalise the global-loss target with the teacher LN (off = as released, §3.2 / Our decisions). */
  globalNormalisedTarget: z.boolean(),
});
export type LossConfig = z.infer<typeof LossConfigSchema>;

export const OptimConfigSchema = z.object({
  /** Base learning rate; lr = blr × batch / 256 (§4). */
  blr: z.number().positive(),
  beta1: z.number().min(0).lt(1),
  beta2: z.number().min(0).lt(1),
  eps: z.number().positive(),
  weightDecay: z.number().nonnegative(),
  warmupEpochs: z.number().nonnegative(),
  minLr: z.number().nonnegative(),
  /** Global L2 gradient-norm clip (§4); 0 disables. */
  clipGrad: z.number().nonnegative(),
  /** Base EMA momentum and its schedule (§2.1). */
  momentum: z.number().min(0).max(1),
  momentumSchedule: z.enum(['cosine', 'const']),
});
export type OptimConfig = z.infer<typeof OptimConfigSchema>;

export const MaskConfigSchema = z.object({
  /** Fraction of patches masked: round(ratio · N) (Our decisions; default 118/196). */
  ratio: z.number().gt(0).lt(1),
});
export type MaskConfig = z.infer<typeof MaskConfigSchema>;

export const CamdConfigSchema = z.object({
  preset: z.enum(PRESET_NAMES).optional(),
  model: ModelConfigSchema,
  loss: LossConfigSchema,
  optim: OptimConfigSchema,
  mask: MaskConfigSchema,
});
export type CamdConfig = z.infer<typeof CamdConfigSchema>;

/** AGMD layers spread over the depth like {2,5,8,11} at depth 12 (§3.3). */
export function defaultDistillLayers(depth: number): number[] {
  const out = new Set<number>();
  for (let k = 1; k <= 4; k++) out.add(Math.max(0, Math.ceil((depth * k) / 4) - 1));
  return [...out].sort((a, b) => a - b);
}

interface Arch {
  embedDim: number;
  depth: number;
  numHeads: number;
  patchSize: number;
  imgSize: number;
  decoderHeads: number;
}

/** Presets of method.md "Our decisions"; `micro` is a test-only size. */
const ARCH: Record<PresetName, Arch> = {
  micro: { embedDim: 32, depth: 2, numHeads: 2, patchSize: 8, imgSize: 32, decoderHeads: 4 },
  tiny: { embedDim: 192, depth: 12, numHeads: 3, patchSize: 16, imgSize: 112, decoderHeads: 16 },
  small: { embedDim: 384, depth: 12, numHeads: 6, patchSize: 16, imgSize: 112, decoderHeads: 16 },
  base: { embedDim: 768, depth: 12, numHeads: 12, patchSize: 16, imgSize: 224, decoderHeads: 16 },
  large: { embedDim: 1024, depth: 24, numHeads: 16, patchSize: 16, imgSize: 224, decoderHeads: 16 },
  huge: { embedDim: 1280, depth: 32, numHeads: 16, patchSize: 14, imgSize: 224, decoderHeads: 16 },
};

export const DEFAULT_MASK_RATIO = 118 / 196;

export function defaultLossConfig(): LossConfig {
  return {
    denseWeight: 1, // ξ₁, §3.4 script value
    globalWeight: 0.25, // ξ₂, §3.4 script value
    negWeight: 0.02, // λ, §3.1
    agmdWeightAbove1: 0.01, // §3.4
    agmdWeightBelow1: 0.1, // β_dis, §3.4
    globalNormalisedTarget: false,
  };
}

export function defaultOptimConfig(): OptimConfig {
  return {
    blr: 3.125e-5, // §4
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: 0.05,
    warmupEpochs: 5,
    minLr: 0,
    clipGrad: 1.0,
    momentum: 0.995,
    momentumSchedule: 'cosine',
  };
}

export interface PresetOverrides {
  imgSize?: number;
  patchSize?: number;
  decoderDim?: number;
  maskRatio?: number;
}

/**
 * A pre-training run's configuration from its recorded settings: the preset at the run's image size
 * and mask ratio, with its base learning rate and warm-up (what `camd pretrain` trains, and what
 * `camd cluster-pack` turns into the released flags).
 */
export function runConfig(s: {
  preset: PresetName;
  imgSize: number;
  maskRatio: number;
  blr: number;
  warmupEpochs: number;
}): CamdConfig {
  const cfg = presetConfig(s.preset, { imgSize: s.imgSize, maskRatio: s.maskRatio });
  cfg.optim.blr = s.blr;
  cfg.optim.warmupEpochs = s.warmupEpochs;
  return cfg;
}

/** Full configuration of a preset, with optional size overrides. */
/** The preset of a ViT's shape (width, depth, patch size), as its weights show it; undefined when none has it. */
export function presetOfShape(embedDim: number, depth: number, patchSize: number): PresetName | undefined {
  return PRESET_NAMES.find(
    (n) => ARCH[n].embedDim === embedDim && ARCH[n].depth === depth && ARCH[n].patchSize === patchSize,
  );
}

export function presetConfig(name: PresetName, o: PresetOverrides = {}): CamdConfig {
  const a = ARCH[name];
  const patch = o.patchSize ?? a.patchSize;
  if (o.imgSize !== undefined && o.imgSize % patch !== 0) {
    const fits = [112, 224].filter((v) => v % patch === 0);
    const hint = fits.length ? ` (${fits.join(' and ')} ${fits.length > 1 ? 'are' : 'is'})` : '';
    throw new Error(`the image size ${o.imgSize} is not a multiple of the ${patch}-px patches of ${name}${hint}`);
  }
  const model: ModelConfig = {
    imgSize: o.imgSize ?? a.imgSize,
    patchSize: patch,
    embedDim: a.embedDim,
    depth: a.depth,
    numHeads: a.numHeads,
    mlpRatio: 4,
    decoderDim: o.decoderDim ?? a.embedDim,
    decoderHeads: a.decoderHeads,
    projectorDepth: 2,
    predictorDepth: 4,
    distillLayers: defaultDistillLayers(a.depth),
    topK: 2,
    trainPatchEmbed: false,
  };
  return parseConfig({
    preset: name,
    model,
    loss: defaultLossConfig(),
    optim: defaultOptimConfig(),
    mask: { ratio: o.maskRatio ?? DEFAULT_MASK_RATIO },
  });
}

/** Validate untrusted configuration (from a file, a checkpoint or the app); throws one readable line. */
export function parseConfig(raw: unknown): CamdConfig {
  const r = CamdConfigSchema.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first?.path.length ? `${first.path.join('.')}: ` : '';
    throw new Error(`invalid CAMD configuration: ${where}${first?.message ?? 'unknown error'}`);
  }
  return r.data;
}

/** Grid side G and token count N of the model. */
export function gridOf(m: ModelConfig): { grid: number; tokens: number } {
  const grid = m.imgSize / m.patchSize;
  return { grid, tokens: grid * grid };
}

/** Masked patches per sample: round(ratio · N) (Our decisions). */
export function maskedCount(ratio: number, tokens: number): number {
  const k = Math.round(ratio * tokens);
  return Math.min(tokens - 1, Math.max(1, k));
}

/** Parameter counts of a model, without building it (for the app and the README). */
export function parameterCounts(m: ModelConfig): { online: number; frozen: number; momentum: number } {
  const C = m.embedDim;
  const D = m.decoderDim;
  const block = (d: number) => {
    const h = Math.round(d * m.mlpRatio);
    return 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (d * h + h) + (h * d + d);
  };
  const patch = m.patchSize * m.patchSize * 3 * C + C;
  const encoder = C + m.depth * block(C); // cls + blocks
  const projector = C * D + D + m.projectorDepth * block(D);
  const rest = m.predictorDepth * block(D) + D + (D * D + D) + (2 * D * D + D) + 4 * (C * C + C);
  const online = encoder + projector + rest + (m.trainPatchEmbed ? patch : 0);
  return { online, frozen: m.trainPatchEmbed ? 0 : patch, momentum: patch + encoder + projector + D };
}
