/**
 * The fields of a pre-training run, declared once. Each says what values it takes (the zod schema
 * that every boundary checks), what it is for (its role), its `camd pretrain` flag and help text,
 * and its default (protocol/defaults.ts). From this one table come:
 *   - the spec the library, the worker and the app validate (specs.ts `PretrainSpec`);
 *   - the CLI's flags, their help with the defaults, and how their text is read (cli/pretrain.ts);
 *   - the run record: the settings fixed once a run has a checkpoint (train/run-settings.ts
 *     `RunSettings`, `COMPUTATION_FLAGS`) and the options saved beside them (train/run-folder.ts);
 *   - the pre-training form's labels and tooltips (renderer/src/views/PretrainView.vue and its parts).
 * No Node import: the renderer uses it. What a field is, and what is made from a table of them, is
 * in fields.ts (shared with the fine-tuning fields).
 */
import { z } from 'zod';
import { BACKEND_NAMES } from '../backends/names.js';
import { FORMATS } from './formats.js';
import { PRETRAIN_DEFAULTS } from './defaults.js';
import { defaultOf, helpOf as fieldHelp, type Field as AnyField } from './fields.js';
import {
  absPath,
  atLeast1,
  backend,
  format,
  fraction,
  nonNegInt,
  positive,
  preset,
  recompute,
  runId,
  threads,
} from './values.js';

export { flagName, shapeOfRole, specOf, type FieldRole } from './fields.js';

/** How the CLI reads a flag's text: a number, a path (made absolute), a word, a thread count. */
export type FieldRead = 'int' | 'float' | 'path' | 'word' | 'threads';

export type Field = AnyField<FieldRead>;

const field = <const F extends Field>(f: F): F => f;

export const PRETRAIN_FIELDS = {
  runId: field({ schema: runId, role: 'control', flag: null, read: 'word', help: 'the run id the caller chose' }),
  data: field({
    schema: absPath,
    role: 'setting',
    flag: '--data <dir>',
    read: 'path',
    help: "folder of face images (required unless --resume); 'sample': the sample faces that come with the installed packages",
    label: 'Dataset',
  }),
  preset: field({
    schema: preset,
    role: 'setting',
    flag: '--preset <name>',
    read: 'word',
    help: 'model size: tiny | small | base | large | huge',
    label: 'Model',
  }),
  imgSize: field({
    schema: atLeast1('pixels'),
    role: 'setting',
    flag: '--img-size <px>',
    read: 'int',
    help: 'input size in pixels, a multiple of the patch size',
    defaultText: "default: the preset's, 112 for tiny",
    label: 'Image size (px)',
  }),
  maskRatio: field({
    schema: fraction('(', ')'),
    role: 'setting',
    flag: '--mask-ratio <r>',
    read: 'float',
    help: 'fraction of patches masked in view 1',
    defaultText: 'default 118/196 ≈ 0.602',
    label: 'Masking ratio',
  }),
  batch: field({
    schema: atLeast1('images per step'),
    role: 'setting',
    flag: '--batch <n>',
    read: 'int',
    help: 'images per step',
    label: 'Batch (images per step)',
  }),
  epochs: field({
    schema: positive,
    role: 'setting',
    flag: '--epochs <n>',
    read: 'float',
    help: 'length of the run in epochs',
    label: 'Epochs',
  }),
  steps: field({
    schema: atLeast1('the length of the run'),
    role: 'setting',
    flag: '--steps <n>',
    read: 'int',
    help: 'length of the run in steps (instead of --epochs)',
    label: 'Steps',
  }),
  blr: field({
    schema: positive,
    role: 'setting',
    flag: '--blr <x>',
    read: 'float',
    help: 'base learning rate; lr = blr × batch / 256',
    defaultText: 'default 1.6e-3: lr 1e-4 at batch 16, measured in docs/quality.md',
    label: 'Base learning rate',
  }),
  warmupEpochs: field({
    schema: z.number().refine((v) => v >= 0, { message: 'must be 0 or more' }),
    role: 'setting',
    flag: '--warmup-epochs <n>',
    read: 'float',
    help: 'linear warm-up length in epochs',
    label: 'Warm-up (epochs)',
  }),
  seed: field({
    schema: nonNegInt,
    role: 'setting',
    flag: '--seed <n>',
    read: 'int',
    help: 'seed of every random draw',
    label: 'Seed',
  }),
  backend: field({
    schema: backend,
    role: 'option',
    flag: '--backend <name>',
    read: 'word',
    help: ['auto', ...BACKEND_NAMES].join(' | '),
    label: 'Compute',
  }),
  threads: field({
    schema: threads,
    role: 'option',
    flag: '--threads <n>',
    read: 'threads',
    help: "wasm threads: 'auto' (1 where OpenBLAS does the matMuls on every core, else one per core) or a count",
  }),
  probeData: field({
    schema: absPath,
    role: 'probe',
    flag: '--probe-data <dir>',
    read: 'path',
    help: 'a labelled folder whose k-NN and linear-probe accuracy is measured during the run (teacher and online encoders)',
    label: 'Probe set',
  }),
  probeFormat: field({
    schema: format,
    role: 'probe',
    flag: '--probe-format <f>',
    read: 'word',
    help: `its labels: ${FORMATS.slice(0, -1).join(', ')} or ${FORMATS.at(-1)}`,
  }),
  probeSchema: field({
    schema: z.string().min(1).max(200),
    role: 'probe',
    flag: '--probe-schema <name|id>',
    read: 'word',
    help: 'with --probe-format store: the label schema',
    label: 'Labels',
  }),
  probeEvery: field({
    schema: atLeast1('epochs between probes'),
    role: 'probe',
    flag: '--probe-every <epochs>',
    read: 'int',
    help: 'epochs between probes, and always at the end',
    defaultText: 'default: a tenth of the run',
    label: 'Probe every (epochs)',
  }),
  recompute: field({
    schema: recompute,
    role: 'option',
    flag: '--recompute <mode>',
    read: 'word',
    help: 'recompute activations in the backward pass to save memory: auto (when the step would not fit the wasm heap otherwise), on, off',
  }),
  out: field({
    schema: absPath,
    role: 'place',
    flag: '--out <dir>',
    read: 'path',
    help: 'run folder for checkpoints and the encoder',
    defaultText: 'default runs/pretrain-<time>',
    required: true,
  }),
  db: field({
    schema: absPath,
    role: 'place',
    flag: '--db <file>',
    read: 'path',
    help: 'store that records the run',
    defaultText: 'default ~/.camd/camd.db',
  }),
  resume: field({
    schema: z.boolean(),
    role: 'control',
    flag: '--resume <dir>',
    read: 'path',
    help: 'continue the run in this folder from its last checkpoint',
  }),
  continueFrom: field({
    schema: absPath,
    role: 'start',
    flag: '--continue <file>',
    read: 'path',
    help: "a new run that carries on another's checkpoint (a CAMD_pretrain.py checkpoint-*.pth or a camd step-*.ckpt): its weights, AdamW state, settings and epoch",
  }),
  init: field({
    schema: absPath,
    role: 'start',
    flag: '--init <file>',
    read: 'path',
    help: "a new run that starts from a checkpoint's weights (fresh optimiser, step 1, its own settings)",
  }),
  checkpointEvery: field({
    schema: atLeast1('steps between checkpoints'),
    role: 'option',
    flag: '--checkpoint-every <n>',
    read: 'int',
    help: 'steps between checkpoints',
    label: 'Checkpoint every (steps)',
  }),
  keepCheckpoints: field({
    schema: atLeast1('a run keeps at least its newest checkpoint'),
    role: 'option',
    flag: '--keep-checkpoints <n>',
    read: 'int',
    help: 'how many recent checkpoints to keep',
  }),
  maxPixels: field({
    schema: atLeast1('pixels'),
    role: 'setting',
    flag: '--max-pixels <n>',
    read: 'int',
    help: 'refuse images with more pixels than this',
  }),
  stopAt: field({
    schema: atLeast1('the step after which to stop'),
    role: 'control',
    flag: '--stop-at <step>',
    read: 'int',
    help: 'stop after this step with a checkpoint, resumable with --resume',
  }),
};
export type PretrainField = keyof typeof PRETRAIN_FIELDS;

/** The default of a pre-training field, where it has one of its own. */
export function pretrainDefault(key: PretrainField): unknown {
  return defaultOf(PRETRAIN_DEFAULTS, key);
}

/** The help text of a flag: what it does, then its default. */
export function helpOf(key: PretrainField): string {
  return fieldHelp(PRETRAIN_FIELDS, PRETRAIN_DEFAULTS, key);
}
