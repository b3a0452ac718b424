/**
 * `camd cluster-pack RUN_DIR --out DIR`: what a GPU box needs to pre-train a local run with the
 * authors' released code under `torchrun`: the run's images in the layout the released loader reads
 * (`data/train/<class>/…`, ImageFolder; symbolic links, or copies with `copy`); `camd_launch.py`
 * (cluster-launcher.ts), which runs the released `CAMD_pretrain.py` from `$CAMD_CODE` as it is and
 * supplies what it lacks (the input size, our presets' model sizes, the engine's unpack, where to
 * start); `run.sh` with the `torchrun --nproc_per_node=N camd_launch.py …` line whose flags
 * reproduce the run's settings (released-args.ts; docs/interop.md has the table), plus
 * `flags.json`; and the run's newest checkpoint as `start/checkpoint.pth` in the released layout
 * with its AdamW state and these flags as its `args` (interop/camd-released.ts), which the launcher
 * starts from while `output/` holds no checkpoint of the cluster's own — so the cluster's own always
 * win on a re-run.
 *
 * The run goes at its own size (any preset, its input size) with its checkpoint; `preset` packs
 * another size (base, large, huge at 224 px: a new run there, without the checkpoint).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { PRESET_NAMES, presetConfig, runConfig, type CamdConfig, type PresetName } from '../model/config.js';
import { UserError } from '../util/errors.js';
import { CHECKPOINT_FORMAT, readTensorFile } from '../store/checkpoint.js';
import { releasedCheckpoint } from './camd-released.js';
import { writeTorchFile } from './torch-write.js';
import { RELEASED_MODELS, releasedArgs, releasedFlags, type FlagValue, type ReleasedRun } from './released-args.js';
import { launcherScript, type LaunchedModel } from './cluster-launcher.js';
import { PACKED_START, runScript } from './cluster-run-script.js';
import { makeFolder } from '../util/system-errors.js';

const RunFile = z
  .object({
    settings: z
      .object({
        preset: z.enum(PRESET_NAMES),
        imgSize: z.number().int(),
        maskRatio: z.number(),
        batch: z.number().int(),
        epochs: z.number().nullable().optional(),
        steps: z.number().int().nullable().optional(),
        blr: z.number(),
        warmupEpochs: z.number(),
        seed: z.number().int(),
      })
      .passthrough(),
  })
  .passthrough();
const ImagesFile = z.object({ root: z.string(), images: z.array(z.object({ path: z.string(), sha256: z.string() })) });

export { PACKED_START } from './cluster-run-script.js';

export interface PackReport {
  out: string;
  images: number;
  model: string;
  flags: Record<string, FlagValue>;
  /** The run's checkpoint in the box, when packed: its step and the last epoch it completed (0-based, as the released scripts count). */
  resume: { from: string; file: string; step: number; epoch: number } | null;
  notes: string[];
}

type RunSettings = z.infer<typeof RunFile>['settings'];
type ImageList = z.infer<typeof ImagesFile>;

/** run.json and images.json of a camd pretrain run folder, as camd pretrain writes them. */
function readRunFolder(runDir: string): { s: RunSettings; list: ImageList } {
  const read = <T>(file: string, schema: z.ZodType<T>): T => {
    if (!existsSync(file))
      throw new UserError(`${runDir} has no ${basename(file)}: not a camd pretrain run folder`, 2, 'run');
    const r = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!r.success) throw new UserError(`${file} is not as camd pretrain writes it`, 2, 'run');
    return r.data;
  };
  const run = read(join(runDir, 'run.json'), RunFile);
  const list = read(join(runDir, 'images.json'), ImagesFile);
  return { s: run.settings, list };
}

/** What the box runs, and the notes on where it differs from the run. */
interface PackPlan {
  preset: PresetName;
  /** The run's own size (and so its checkpoint can go along). */
  ownSize: boolean;
  cfg: CamdConfig;
  gpus: number;
  epochs: number;
  box: ReleasedRun;
  flags: Record<string, FlagValue>;
  notes: string[];
}

/** The size packed: the run's own, or a released one with `preset`; noted where the released code is given another. */
function packSize(
  s: RunSettings,
  presetGiven: PresetName | undefined,
  notes: string[],
): { preset: PresetName; imgSize: number; ownSize: boolean; cfg: CamdConfig } {
  const preset = presetGiven ?? s.preset;
  const ownSize = preset === s.preset;
  if (!ownSize && !RELEASED_MODELS[preset])
    throw new UserError(
      `--preset packs a new run at one of the released sizes: base, large or huge (the run itself, ${s.preset}, goes at its own size without --preset)`,
      2,
      'preset',
    );
  const imgSize = ownSize ? s.imgSize : presetConfig(preset).model.imgSize;
  // the run's configuration as camd pretrain builds it, at the size packed
  const cfg = runConfig({ ...s, preset, imgSize });
  if (!ownSize)
    notes.push(
      `packed as a new ${preset} run at ${imgSize} px (--preset): the run's ${s.preset} checkpoint cannot be loaded there`,
    );
  if (!RELEASED_MODELS[preset])
    notes.push(
      `${preset} at ${imgSize} px: camd_launch.py gives the released code this model size and input size, which its models_CAMD.py and mask generator do not have`,
    );
  else if (imgSize !== 224)
    notes.push(
      `${imgSize} px: camd_launch.py gives the released model and mask generator this input size (they are fixed at 224 px as released)`,
    );
  return { preset, imgSize, ownSize, cfg };
}

/** The schedule in the released flags' whole epochs, and the batch split over the GPUs; noted where they round. */
function packSchedule(
  s: RunSettings,
  images: number,
  gpus: number,
  notes: string[],
): { epochs: number; warmupEpochs: number; perGpu: number } {
  const itersPerEpoch = Math.max(1, Math.floor(images / s.batch));
  const epochs =
    s.epochs != null ? Math.ceil(s.epochs - 1e-9) : Math.max(1, Math.ceil((s.steps ?? itersPerEpoch) / itersPerEpoch));
  if (s.epochs == null) notes.push(`the run was ${s.steps} steps, ${itersPerEpoch} an epoch: ${epochs} epochs there`);
  else if (epochs !== s.epochs)
    notes.push(`the run was ${s.epochs} epochs: ${epochs} there (the released --epochs is a whole number)`);
  const warmupEpochs = Math.round(s.warmupEpochs);
  if (warmupEpochs !== s.warmupEpochs)
    notes.push(
      `warm-up ${s.warmupEpochs} epochs: ${warmupEpochs} there (the released --warmup_epochs is a whole number)`,
    );
  const perGpu = Math.max(1, Math.round(s.batch / gpus));
  if (perGpu * gpus !== s.batch)
    notes.push(
      `batch ${s.batch} over ${gpus} GPUs: ${perGpu} a GPU, ${perGpu * gpus} in all (lr = blr × ${perGpu * gpus} / 256 there)`,
    );
  return { epochs, warmupEpochs, perGpu };
}

/** The run's settings as the released flags, on `gpus` GPUs, at the size packed. */
function planPack(s: RunSettings, images: number, o: { gpus?: number; preset?: PresetName }): PackPlan {
  const notes: string[] = [];
  const gpus = o.gpus ?? 8;
  if (!Number.isInteger(gpus) || gpus < 1)
    throw new UserError(`--gpus must be a positive integer, got ${gpus}`, 2, 'gpus');
  const { preset, imgSize, ownSize, cfg } = packSize(s, o.preset, notes);
  const { epochs, warmupEpochs, perGpu } = packSchedule(s, images, gpus, notes);
  if (cfg.loss.agmdWeightAbove1 !== 0.01)
    notes.push(
      `the released engine weighs L_AGMD > 1 by 0.01, hard-coded; this run's weight ${cfg.loss.agmdWeightAbove1} has no flag there`,
    );
  const box: ReleasedRun = { preset, imgSize, batchPerGpu: perGpu, gpus, epochs, warmupEpochs, seed: s.seed };
  const flags: Record<string, FlagValue> = {
    ...releasedFlags(cfg, box),
    data_path: './data',
    output_dir: './output',
    log_dir: './output',
    // the cluster's own checkpoint-latest.pth every epoch: the released auto-resume prefers it to checkpoint-N.pth
    save_latest_freq: 1,
  };
  return { preset, ownSize, cfg, gpus, epochs, box, flags, notes };
}

/** The run's images as data/train/faces/… in the box: symbolic links, or copies with `copy`. */
function placeImages(out: string, list: ImageList, copy: boolean | undefined): void {
  makeFolder(out, 'the folder');
  makeFolder(join(out, 'data', 'train', 'faces'), 'the folder');
  const taken = new Set<string>();
  for (const im of list.images) {
    // flat, unique names (folders of the dataset joined by "__"), so one class folder holds them all
    let name = im.path.replace(/[\\/]/g, '__');
    if (taken.has(name)) name = `${im.sha256.slice(0, 12)}__${name}`;
    taken.add(name);
    const target = join(out, 'data', 'train', 'faces', name);
    if (existsSync(target)) continue;
    const src = join(list.root, im.path);
    if (!existsSync(src))
      throw new UserError(`${src}, an image of the run, is gone: scan the folder again or pack another run`, 2, 'run');
    if (copy) copyFileSync(src, target);
    else symlinkSync(src, target);
  }
}

/** The newest checkpoint, where the launcher starts from it (only at the run's own size: other widths would not load). */
async function packCheckpoint(runDir: string, out: string, plan: PackPlan): Promise<PackReport['resume']> {
  const { notes, epochs } = plan;
  const ckDir = join(runDir, 'checkpoints');
  const newest = existsSync(ckDir)
    ? readdirSync(ckDir)
        .filter((f) => /^step-\d{8}\.ckpt$/.test(f))
        .sort()
        .at(-1)
    : undefined;
  if (!newest) {
    notes.push('the run has no checkpoint yet: the cluster run starts from scratch');
    return null;
  }
  if (!plan.ownSize) return null;
  const from = join(ckDir, newest);
  let r;
  try {
    r = releasedCheckpoint(readTensorFile(from, CHECKPOINT_FORMAT), from, { args: releasedArgs(plan.flags, plan.box) });
  } catch (e) {
    throw new UserError(
      `${(e as Error).message.replace(/ is not a usable CAMD checkpoint:/, ':')} (pack another run, or resume this one to write a sound checkpoint)`,
      2,
      'run',
    );
  }
  mkdirSync(join(out, 'start'), { recursive: true });
  const file = join(out, PACKED_START);
  await writeTorchFile(file, r.value);
  const next =
    r.epoch + 1 < epochs
      ? `the cluster run starts from it at epoch ${r.epoch + 2}${r.stepsIntoEpoch > 0 ? ` (the ${r.stepsIntoEpoch} step(s) it had made into that epoch are made again)` : ''}`
      : `the run is complete: raise --epochs in run.sh to train it further there`;
  notes.push(
    `${PACKED_START} is the run at step ${r.step} (${r.epoch + 1} of ${epochs} epochs done), with its AdamW state: ${next}`,
  );
  return { from, file, step: r.step, epoch: r.epoch };
}

/** The model camd_launch.py registers for the released code: none for a released size, else our preset's. */
function launchedModels(plan: PackPlan): LaunchedModel[] {
  const m = plan.cfg.model;
  return RELEASED_MODELS[plan.preset]
    ? []
    : [
        {
          name: String(plan.flags['model']),
          preset: plan.preset,
          patchSize: m.patchSize,
          embedDim: m.embedDim,
          depth: m.depth,
          numHeads: m.numHeads,
          decoderHeads: m.decoderHeads,
          mlpRatio: m.mlpRatio,
        },
      ];
}

export async function clusterPack(
  runDir: string,
  out: string,
  o: { gpus?: number; preset?: PresetName; copy?: boolean } = {},
): Promise<PackReport> {
  const { s, list } = readRunFolder(runDir);
  const plan = planPack(s, list.images.length, o);
  const { gpus, epochs, flags, notes } = plan;
  placeImages(out, list, o.copy);
  const resume = await packCheckpoint(runDir, out, plan);
  writeFileSync(join(out, 'camd_launch.py'), launcherScript(launchedModels(plan)), { mode: 0o755 });
  writeFileSync(join(out, 'run.sh'), runScript({ runDir, gpus, epochs, flags, resume }), { mode: 0o755 });
  writeFileSync(
    join(out, 'flags.json'),
    `${JSON.stringify({ from: runDir, images: list.images.length, flags, resume, notes }, null, 2)}\n`,
  );
  return { out, images: list.images.length, model: flags.model as string, flags, resume, notes };
}
