/**
 * `camd cluster-pack RUN_DIR --out DIR`: what a GPU box needs to pre-train a local run's setup
 * with the authors' released code under `torchrun`: the run's images in the layout the released
 * loader reads (`data/train/<class>/…`, ImageFolder; symbolic links, or copies with `copy`), and
 * `run.sh` with the `torchrun --nproc_per_node=N CAMD_pretrain.py …` line whose flags reproduce
 * the run's settings (docs/interop.md has the table, flag by flag), plus `flags.json`; and the run's
 * newest checkpoint as `output/checkpoint-latest.pth` in the released layout with its AdamW state
 * (interop/camd-released.ts), which CAMD_pretrain.py's auto-resume from `--output_dir` continues —
 * at the epoch after the last one the run completed — until the cluster writes its own.
 *
 * The released models_CAMD.py defines ViT-B/16, ViT-L/16 and ViT-H/14 only: a tiny or small run is
 * packed at the size `preset` names (base when not given), without its checkpoint, said in a line
 * of the report — or at its own size under `modelName`, a model function the user added there.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { presetConfig, type PresetName } from '../model/config.js';
import { UserError } from '../util/errors.js';
import { CHECKPOINT_FORMAT, readTensorFile } from '../train/checkpoint.js';
import { releasedCheckpoint } from './camd-released.js';
import { writeTorchFile } from './torch-write.js';

const RELEASED: Partial<Record<PresetName, string>> = { base: 'CAMD_vit_base_patch16', large: 'CAMD_vit_large_patch16', huge: 'CAMD_vit_huge_patch14' };

const RunFile = z.object({ settings: z.object({ preset: z.string(), imgSize: z.number().int(), maskRatio: z.number(), batch: z.number().int(), epochs: z.number().nullable().optional(), steps: z.number().int().nullable().optional(), blr: z.number(), warmupEpochs: z.number(), seed: z.number().int() }).passthrough() }).passthrough();
const ImagesFile = z.object({ root: z.string(), images: z.array(z.object({ path: z.string(), sha256: z.string() })) });

export interface PackReport {
  out: string;
  images: number;
  model: string;
  flags: Record<string, string | number | number[] | true>;
  /** The run's checkpoint in the box, when packed: its step and the last epoch it completed (0-based, as the released scripts count). */
  resume: { from: string; file: string; step: number; epoch: number } | null;
  notes: string[];
}

export async function clusterPack(runDir: string, out: string, o: { gpus?: number; preset?: PresetName; copy?: boolean; modelName?: string } = {}): Promise<PackReport> {
  const read = <T>(file: string, schema: z.ZodType<T>): T => {
    if (!existsSync(file)) throw new UserError(`${runDir} has no ${basename(file)}: not a camd pretrain run folder`, 2, 'run');
    const r = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!r.success) throw new UserError(`${file} is not as camd pretrain writes it`, 2, 'run');
    return r.data;
  };
  const run = read(join(runDir, 'run.json'), RunFile);
  const list = read(join(runDir, 'images.json'), ImagesFile);
  const s = run.settings;
  const notes: string[] = [];
  const gpus = o.gpus ?? 8;
  if (!Number.isInteger(gpus) || gpus < 1) throw new UserError(`--gpus must be a positive integer, got ${gpus}`, 2, 'gpus');
  if (o.modelName !== undefined && o.preset !== undefined) throw new UserError('--model-name packs the run at its own size: leave out --preset', 2, 'preset');
  if (o.modelName !== undefined && !/^[A-Za-z_]\w*$/.test(o.modelName)) throw new UserError(`--model-name must be a Python name (a function of models_CAMD.py), got '${o.modelName}'`, 2, 'modelName');
  let preset = (o.preset ?? s.preset) as PresetName;
  if (o.modelName !== undefined) notes.push(`packed at the run's own size (${s.preset}) as ${o.modelName}: models_CAMD.py must define it (docs/interop.md)`);
  else if (!RELEASED[preset]) {
    const asked = o.preset !== undefined;
    if (asked) throw new UserError(`the released models_CAMD.py defines ViT-B/16, ViT-L/16 and ViT-H/14 only: --preset base, large or huge`, 2, 'preset');
    notes.push(`the run is ${s.preset}; the released code defines base, large and huge only: packed as base (--preset large or huge for more)`);
    preset = 'base';
  }
  const cfg = presetConfig(preset, { maskRatio: s.maskRatio });
  const m = cfg.model;
  if (s.imgSize !== m.imgSize && RELEASED[s.preset as PresetName]) notes.push(`input size ${s.imgSize} px as the run had it`);
  const ownSize = o.modelName !== undefined || (RELEASED[s.preset as PresetName] !== undefined && preset === s.preset);
  const imgSize = RELEASED[s.preset as PresetName] || o.modelName !== undefined ? s.imgSize : m.imgSize;
  const N = (imgSize / m.patchSize) ** 2;
  const itersPerEpoch = Math.max(1, Math.floor(list.images.length / s.batch));
  const epochs = s.epochs ?? Math.max(1, Math.ceil((s.steps ?? itersPerEpoch) / itersPerEpoch));
  if (s.epochs == null) notes.push(`the run was ${s.steps} steps, ${itersPerEpoch} an epoch: ${epochs} epochs there`);
  const perGpu = Math.max(1, Math.round(s.batch / gpus));
  if (perGpu * gpus !== s.batch) notes.push(`batch ${s.batch} over ${gpus} GPUs: ${perGpu} a GPU, ${perGpu * gpus} in all (lr = blr × ${perGpu * gpus} / 256 there)`);
  if (cfg.loss.agmdWeightAbove1 !== 0.01) notes.push(`the released engine weighs L_AGMD > 1 by 0.01, hard-coded; this run's weight ${cfg.loss.agmdWeightAbove1} has no flag there`);
  const flags: PackReport['flags'] = {
    model: o.modelName ?? RELEASED[preset]!,
    input_size: imgSize,
    decoder_embed_dim: m.decoderDim,
    projector_depth: m.projectorDepth,
    predictor_depth: m.predictorDepth,
    batch_size: perGpu,
    epochs,
    warmup_epochs: Math.round(s.warmupEpochs),
    blr: s.blr,
    weight_decay: cfg.optim.weightDecay,
    beta2: cfg.optim.beta2,
    clip_grad: cfg.optim.clipGrad,
    mm: cfg.optim.momentum,
    mmschedule: cfg.optim.momentumSchedule,
    crop_min: 0.08,
    crop_max: 0.6,
    with_blockwise_mask: true,
    blockwise_num_masking_patches: Math.round(s.maskRatio * N),
    loss_type: 'CAMD',
    neg_weight: cfg.loss.negWeight,
    xi_1: cfg.loss.denseWeight,
    xi_2: cfg.loss.globalWeight,
    beta_dis: cfg.loss.agmdWeightBelow1,
    select_top_k: m.topK,
    dis_lay: m.distillLayers,
    seed: s.seed,
    data_path: './data',
    output_dir: './output',
    log_dir: './output',
  };
  mkdirSync(join(out, 'data', 'train', 'faces'), { recursive: true });
  const taken = new Set<string>();
  for (const im of list.images) {
    // flat, unique names (folders of the dataset joined by "__"), so one class folder holds them all
    let name = im.path.replace(/[\\/]/g, '__');
    if (taken.has(name)) name = `${im.sha256.slice(0, 12)}__${name}`;
    taken.add(name);
    const target = join(out, 'data', 'train', 'faces', name);
    if (existsSync(target)) continue;
    const src = join(list.root, im.path);
    if (!existsSync(src)) throw new UserError(`${src}, an image of the run, is gone: scan the folder again or pack another run`, 2, 'run');
    if (o.copy) copyFileSync(src, target);
    else symlinkSync(src, target);
  }
  // the newest checkpoint, for the released auto-resume (only at the run's own size: other widths would not load)
  let resume: PackReport['resume'] = null;
  const ckDir = join(runDir, 'checkpoints');
  const newest = existsSync(ckDir) ? readdirSync(ckDir).filter((f) => /^step-\d{8}\.ckpt$/.test(f)).sort().at(-1) : undefined;
  if (!newest) notes.push('the run has no checkpoint yet: the cluster run starts from scratch');
  else if (!ownSize) notes.push(`its checkpoint (${s.preset}) is not packed: a ${preset} model cannot load it; the cluster run starts from scratch`);
  else {
    const from = join(ckDir, newest);
    let r;
    try {
      r = releasedCheckpoint(readTensorFile(from, CHECKPOINT_FORMAT), from);
    } catch (e) {
      throw new UserError(`${(e as Error).message.replace(/ is not a usable CAMD checkpoint:/, ':')} (pack another run, or resume this one to write a sound checkpoint)`, 2, 'run');
    }
    mkdirSync(join(out, 'output'), { recursive: true });
    const file = join(out, 'output', 'checkpoint-latest.pth');
    await writeTorchFile(file, r.value);
    resume = { from, file, step: r.step, epoch: r.epoch };
    const next = r.epoch + 1 < epochs ? `CAMD_pretrain.py resumes from it at epoch ${r.epoch + 2}${r.stepsIntoEpoch > 0 ? ` (the ${r.stepsIntoEpoch} step(s) it had made into that epoch are made again)` : ''}` : `the run is complete: raise --epochs in run.sh to train it further there`;
    notes.push(`output/checkpoint-latest.pth is the run at step ${r.step} (${r.epoch + 1} of ${epochs} epochs done), with its AdamW state: ${next}`);
  }
  const line = Object.entries(flags)
    .map(([k, v]) => (v === true ? `--${k}` : Array.isArray(v) ? `--${k} ${v.join(' ')}` : `--${k} ${typeof v === 'string' && /[^\w./:-]/.test(v) ? `'${v}'` : v}`))
    .join(' \\\n    ');
  const sh = `#!/bin/sh
# Pre-train with the authors' released code (github.com/mumumu-wss/CAMD) on ${gpus} GPU(s) — made by camd cluster-pack
# from ${runDir}. On the GPU box, with this folder copied there and a checkout of that repository:
#   CAMD_CODE=/path/to/CAMD NUM_GPUS=${gpus} sh run.sh
# It runs in this folder: data/ is read, output/ written. Then bring the run back:  camd import-run output
# (and carry it on locally: camd pretrain --continue output/checkpoint-latest.pth --data …)
${resume ? `# output/checkpoint-latest.pth holds ${runDir} at step ${resume.step} (${resume.epoch + 1} of ${epochs} epochs done): the released
# auto-resume from --output_dir continues it with its AdamW state (the cluster's own checkpoint-latest.pth replaces it
# every --save_latest_freq epochs).
` : ''}set -e
cd "$(dirname "$0")"
: "\${CAMD_CODE:?set CAMD_CODE to a checkout of github.com/mumumu-wss/CAMD}"
torchrun --nproc_per_node=\${NUM_GPUS:-${gpus}} "\$CAMD_CODE/CAMD_pretrain.py" \\
    ${line}
`;
  writeFileSync(join(out, 'run.sh'), sh, { mode: 0o755 });
  writeFileSync(join(out, 'flags.json'), JSON.stringify({ from: runDir, images: list.images.length, flags, resume, notes }, null, 2) + '\n');
  return { out, images: list.images.length, model: flags.model as string, flags, resume, notes };
}
