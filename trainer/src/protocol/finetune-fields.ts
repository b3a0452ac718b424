/**
 * The fields of a fine-tuning run and of an evaluation, declared once. Each says what values it
 * takes (the zod schema that every boundary checks), what it is for (its role), its `camd finetune`
 * (or `camd eval`) flag and help text, and its default (protocol/defaults.ts `FINETUNE_DEFAULTS`).
 * From these tables come:
 *   - the specs the library, the worker and the app validate (specs.ts `FinetuneFields`,
 *     `FinetuneSpec`, `EvalSpec`);
 *   - the CLI's flags, their help with the defaults, and how their text is read (cli/finetune-flags.ts);
 *   - the flag table of docs/finetuning.md, which tests/unit/finetune-fields.test.ts holds to them.
 * The declaration's order is the order --help lists the flags. No Node import: the renderer uses it.
 */
import { z } from 'zod';
import { BACKEND_NAMES } from '../backends/names.js';
import { FINETUNE_DEFAULTS } from './defaults.js';
import { defaultOf, field, helpOf } from './fields.js';
import { FORMATS } from './formats.js';
import {
  absPath,
  atLeast1,
  backend,
  format,
  fraction,
  labelUse,
  nonNegInt,
  positive,
  preset,
  recompute,
  runId,
  schemaRef,
  task,
  threads,
} from './values.js';

const zeroOrMore = () => z.number().refine((v) => v >= 0, { message: 'must be 0 or more' });
const split = z.enum(['random', 'lfwa-release'], { message: 'must be random or lfwa-release' });
const BACKEND_HELP = ['auto', ...BACKEND_NAMES].join(' | ');

export const FINETUNE_FIELDS = {
  runId: field({ schema: runId, role: 'control', flag: null, read: 'word', help: 'the run id the caller chose' }),
  task: field({
    schema: task,
    role: 'setting',
    flag: '--task <far|fer|landmarks|pose|parsing>',
    read: 'word',
    help: 'far: 40 binary attributes (BCE, mean accuracy); fer: one class (cross-entropy, top-1); landmarks: face alignment (NME); pose: head pose (yaw, pitch, roll MAE); parsing: face parsing (mean F1)',
    required: true,
  }),
  format: field({
    schema: format,
    role: 'setting',
    flag: '--format <name>',
    read: 'word',
    help: `${FORMATS.join(' | ')} (labels made in the app)`,
    required: true,
  }),
  data: field({
    schema: absPath,
    role: 'setting',
    flag: '--data <dir>',
    read: 'path',
    help: 'dataset root (for csv: the CSV file, or a folder with labels.csv)',
    required: true,
  }),
  /** Face alignment and head pose: the dataset's own test set (its test list or folder). */
  testData: field({
    schema: absPath,
    role: 'setting',
    flag: '--test-data <path>',
    read: 'path',
    help: "--task landmarks or pose: the dataset's own test set (WFLW's test list, AFLW-19's test CSV, a 300W test folder; AFLW2000 or BIWI for pose); default: a seeded 20 % of --data",
  }),
  /** --format store: the label schema of the dataset (its name, or its id). */
  schema: field({
    schema: schemaRef,
    role: 'setting',
    flag: '--schema <name|id>',
    read: 'word',
    help: "--format store: the dataset's label schema",
  }),
  /** --format store: people's and files' labels only (default), or accepted predictions too. */
  labels: field({
    schema: labelUse,
    role: 'setting',
    flag: '--labels <which>',
    read: 'word',
    help: "--format store: human (people's and files' labels, default) or human+accepted (accepted predictions too)",
  }),
  init: field({
    schema: z.union([z.literal('none'), absPath], { message: "must be 'none' or the absolute path of a checkpoint" }),
    role: 'start',
    flag: '--init <ckpt|none>',
    read: 'path|none',
    help: 'a camd pretrain checkpoint or encoder.safetensors, or none (random init)',
    required: true,
  }),
  preset: field({
    schema: preset,
    role: 'setting',
    flag: '--preset <name>',
    read: 'word',
    help: 'model size with --init none',
  }),
  fewShot: field({
    schema: fraction('(', ']'),
    role: 'setting',
    flag: '--few-shot <r>',
    read: 'float',
    help: 'train on a seeded fraction r of the training split',
  }),
  linearProbe: field({
    schema: z.boolean(),
    role: 'setting',
    flag: '--linear-probe',
    read: 'switch',
    help: 'frozen encoder, cached features, train the head only',
  }),
  epochs: field({ schema: atLeast1('epochs'), role: 'setting', flag: '--epochs <n>', read: 'int', help: 'epochs' }),
  batch: field({
    schema: atLeast1('images per step'),
    role: 'setting',
    flag: '--batch <n>',
    read: 'int',
    help: 'images per step',
  }),
  blr: field({
    schema: positive,
    role: 'setting',
    flag: '--blr <x>',
    read: 'float',
    help: 'base learning rate; lr = blr × batch / 256',
    defaultText: 'default 2.5e-4',
  }),
  imgSize: field({
    schema: atLeast1('pixels'),
    role: 'setting',
    flag: '--img-size <px>',
    read: 'int',
    help: "input size (default: the encoder's); pos_embed is adapted",
  }),
  warmupEpochs: field({
    schema: zeroOrMore(),
    role: 'setting',
    flag: '--warmup-epochs <n>',
    read: 'float',
    help: 'warm-up epochs',
  }),
  layerDecay: field({
    schema: fraction('(', ']'),
    role: 'setting',
    flag: '--layer-decay <x>',
    read: 'float',
    help: 'layer-wise lr decay',
  }),
  dropPath: field({
    schema: fraction('[', ')'),
    role: 'setting',
    flag: '--drop-path <x>',
    read: 'float',
    help: 'maximum drop-path rate',
  }),
  minLr: field({
    schema: zeroOrMore(),
    role: 'setting',
    flag: null,
    read: 'float',
    help: 'where the cosine schedule ends',
  }),
  weightDecay: field({ schema: zeroOrMore(), role: 'setting', flag: null, read: 'float', help: 'AdamW weight decay' }),
  randAugment: field({
    schema: z.enum(['rand-m9-mstd0.5-inc1', 'none'], { message: 'must be rand-m9-mstd0.5-inc1 or none' }),
    role: 'setting',
    flag: '--aa <policy>',
    read: 'word',
    help: 'RandAugment policy: rand-m9-mstd0.5-inc1 or none',
  }),
  reprob: field({
    schema: fraction('[', ']'),
    role: 'setting',
    flag: '--reprob <p>',
    read: 'float',
    help: 'RandomErasing probability',
  }),
  minCropScale: field({
    schema: fraction('(', ']'),
    role: 'setting',
    flag: '--min-crop-scale <s>',
    read: 'float',
    help: 'smallest RandomResizedCrop area fraction',
  }),
  split: field({
    schema: split,
    role: 'setting',
    flag: '--split <name>',
    read: 'word',
    help: 'LFWA split: random (seeded 80/10/10, default) or lfwa-release (alternate lines)',
  }),
  seed: field({ schema: nonNegInt, role: 'setting', flag: '--seed <n>', read: 'int', help: 'seed' }),
  backend: field({ schema: backend, role: 'option', flag: '--backend <name>', read: 'word', help: BACKEND_HELP }),
  threads: field({
    schema: threads,
    role: 'option',
    flag: '--threads <n>',
    read: 'threads',
    help: "wasm threads: 'auto' (1 where OpenBLAS does the matMuls on every core, else one per core) or a count",
  }),
  /** Recompute activations in the backward pass: when needed to fit the wasm heap (auto), always, never. */
  recompute: field({
    schema: recompute,
    role: 'option',
    flag: '--recompute <mode>',
    read: 'word',
    help: 'recompute activations in the backward pass to save memory: auto (when the step would not fit the wasm heap otherwise), on, off',
    defaultText: 'default auto',
  }),
  maxPixels: field({
    schema: atLeast1('pixels'),
    role: 'setting',
    flag: null,
    read: 'int',
    help: 'refuse images with more pixels than this',
  }),
  out: field({
    schema: absPath,
    role: 'place',
    flag: '--out <dir>',
    read: 'path',
    help: 'run folder',
    defaultText: 'default runs/finetune-<time>',
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
};
export type FinetuneField = keyof typeof FINETUNE_FIELDS;

const F = FINETUNE_FIELDS;

/** `camd eval`'s fields: a fine-tuned classifier alone, on a dataset read as fine-tuning reads it. */
export const EVAL_FIELDS = {
  runId: F.runId,
  checkpoint: field({
    schema: absPath,
    role: 'start',
    flag: '--checkpoint <file>',
    read: 'path',
    help: 'the fine-tuned model: a classifier (best.safetensors), or landmarks.safetensors, pose.safetensors, parsing.safetensors',
    required: true,
  }),
  task: field({
    schema: F.task.schema,
    role: 'setting',
    flag: '--task <task>',
    read: 'word',
    help: "the task it was fine-tuned for (default: the file's own; another is refused)",
  }),
  format: field({
    ...F.format,
    help: `${FORMATS.join(' | ')}; a face-geometry model: its task's formats (300w | wflw | aflw19, 300w-lp | aflw2000 | biwi, lapa | celebamask-hq)`,
  }),
  data: field({ ...F.data, help: 'dataset root' }),
  testData: field({
    ...F.testData,
    help: "a landmarks or pose model: the dataset's own test set, as for camd finetune (default: the seeded 20 % of --data that training held out)",
  }),
  schema: F.schema,
  labels: field({ ...F.labels, help: '--format store: human (default) or human+accepted' }),
  split: field({ ...F.split, help: 'LFWA split (random | lfwa-release)' }),
  seed: field({ ...F.seed, help: 'seed of seeded splits' }),
  backend: F.backend,
  db: field({
    schema: absPath,
    role: 'place',
    flag: '--db <file>',
    read: 'path',
    help: 'store that records the evaluation',
  }),
};
export type EvalField = keyof typeof EVAL_FIELDS;

/** The default of a fine-tuning (or evaluation) field, where it has one of its own. */
export function finetuneDefault(key: FinetuneField | EvalField): unknown {
  return defaultOf(FINETUNE_DEFAULTS, key);
}

/** The help text of a `camd finetune` flag: what it does, then its default. */
export function finetuneHelpOf(key: FinetuneField): string {
  return helpOf(FINETUNE_FIELDS, FINETUNE_DEFAULTS, key);
}

/** The help text of a `camd eval` flag: what it does, then its default. */
export function evalHelpOf(key: EvalField): string {
  return helpOf(EVAL_FIELDS, FINETUNE_DEFAULTS, key);
}
