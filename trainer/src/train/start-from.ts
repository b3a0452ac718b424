/**
 * Where a new pre-training run starts when it does not start from random weights:
 *   --continue FILE   carries on another run: its weights, its AdamW moments when the file has them
 *                     (else a fresh optimiser), its settings as defaults, and its place in the
 *                     schedule (the epochs it completed, counted in this run's steps);
 *   --init FILE       its weights only: the run starts at step 1 with a fresh optimiser and its own
 *                     settings (the architecture is the file's).
 * FILE is a released CAMD pre-training checkpoint (`CAMD_pretrain.py`'s `checkpoint-*.pth`, or its
 * state dict as safetensors; interop/camd-released.ts maps it) or one of our checkpoints (`step-*.ckpt`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PRESET_NAMES, presetOfShape, type PresetName } from '../model/config.js';
import { fromReleased } from '../interop/camd-released.js';
import { readTorchFile } from '../interop/torch-file.js';
import { readSafetensors, weightsKind } from '../interop/weights-file.js';
import { CHECKPOINT_FORMAT, OPT_M, OPT_V, decodeTensorFile, type NamedArray } from '../store/checkpoint.js';
import { UserError } from '../util/errors.js';
import { settingsOfReleasedArgs, type LentSettings } from '../protocol/run-origin.js';

export type StartMode = 'continue' | 'init';

/** Settings a file suggests as this run's defaults (what the flags do not give). */
export type SuggestedSettings = LentSettings & { preset: PresetName };

export interface StartingPoint {
  file: string;
  sha256: string;
  /** released: a CAMD_pretrain.py checkpoint (or our export in its layout); camd: one of our checkpoints. */
  format: 'released' | 'camd';
  /** Our parameters and, when usable, our AdamW moments (`optim.m/…`, `optim.v/…`). */
  tensors: Map<string, NamedArray>;
  /** Epochs the file's run completed (0 when unknown). */
  epochsDone: number;
  optimizerStep: number;
  /** Why the optimiser starts afresh under --continue, or null when its state carries over. */
  optimizerNote: string | null;
  suggested: SuggestedSettings;
}

function presetOf(embedDim: number, depth: number, patchSize: number, file: string): PresetName {
  const p = presetOfShape(embedDim, depth, patchSize);
  if (!p)
    throw new UserError(
      `${file}: a ViT ${embedDim} wide and ${depth} deep with ${patchSize}-px patches matches no preset (${PRESET_NAMES.join(', ')})`,
      2,
      'preset',
    );
  return p;
}

const OurState = z.object({
  step: z.number().int().nonnegative(),
  optimizer_step: z.number().int().nonnegative(),
  schedule: z.object({ itersPerEpoch: z.number().int().positive() }),
  settings: z
    .object({
      preset: z.enum(PRESET_NAMES),
      imgSize: z.number().int(),
      maskRatio: z.number(),
      epochs: z.number().nullable(),
      blr: z.number(),
      warmupEpochs: z.number(),
      seed: z.number().int(),
    })
    .passthrough(),
});

/** Reads FILE (either kind); one line for the user when it is neither. */
export async function readStartingPoint(file: string): Promise<StartingPoint> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT'
        ? `${file} does not exist`
        : code === 'EISDIR'
          ? `${file} is a folder, not a checkpoint`
          : `cannot read ${file}: ${(e as Error).message}`,
      2,
      'from',
    );
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  // a torch.save zip archive, or a safetensors file not of ours (a state dict): the released layout; otherwise ours
  let root: unknown = null;
  try {
    const kind = weightsKind(file);
    if (kind === 'zip') root = (await readTorchFile(file)).root;
    else if (kind === 'safetensors') {
      const st = readSafetensors(file);
      if (!st.metadata['format']?.startsWith('camd-')) root = new Map([['model', st.tensors]]);
    }
  } catch (e) {
    throw new UserError((e as Error).message, 2, 'from');
  }
  if (root !== null) {
    let r;
    try {
      r = fromReleased(root, file);
    } catch (e) {
      throw new UserError((e as Error).message, 2, 'from');
    }
    // the input size from the args, else the weights' pos_embed; the preset from the args, else the shapes
    const args = r.args ?? {};
    const lent = settingsOfReleasedArgs(
      {
        ...args,
        input_size: typeof args['input_size'] === 'number' ? args['input_size'] : (r.arch.imgSize ?? undefined),
      },
      r.arch.patchSize,
    );
    return {
      file,
      sha256,
      format: 'released',
      tensors: r.tensors,
      epochsDone: r.epoch === null ? 0 : r.epoch + 1,
      optimizerStep: r.optimizerStep ?? 0,
      optimizerNote: r.optimizerNote,
      suggested: { ...lent, preset: lent.preset ?? presetOf(r.arch.embedDim, r.arch.depth, r.arch.patchSize, file) },
    };
  }
  let ck;
  try {
    ck = decodeTensorFile(bytes, file, CHECKPOINT_FORMAT);
  } catch (e) {
    throw new UserError(
      `${(e as Error).message} (--continue and --init take a camd pretrain checkpoint or a CAMD_pretrain.py checkpoint-*.pth)`,
      2,
      'from',
    );
  }
  const st = OurState.safeParse(ck.state);
  if (!st.success)
    throw new UserError(
      `${file}: its state has no step, schedule or settings (written by another version?)`,
      2,
      'from',
    );
  const s = st.data.settings;
  return {
    file,
    sha256,
    format: 'camd',
    tensors: ck.tensors,
    epochsDone: Math.floor(st.data.step / st.data.schedule.itersPerEpoch),
    optimizerStep: st.data.optimizer_step,
    optimizerNote: null,
    suggested: {
      preset: s.preset,
      imgSize: s.imgSize,
      maskRatio: s.maskRatio,
      ...(s.epochs !== null ? { epochs: s.epochs } : {}),
      blr: s.blr,
      warmupEpochs: s.warmupEpochs,
      seed: s.seed,
    },
  };
}

/** The tensors to load for a mode: --init keeps the weights only. */
export function tensorsFor(p: StartingPoint, mode: StartMode): Map<string, NamedArray> {
  if (mode === 'continue' && p.optimizerNote === null) return p.tensors;
  return new Map([...p.tensors].filter(([k]) => !k.startsWith(OPT_M) && !k.startsWith(OPT_V)));
}
