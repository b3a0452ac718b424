/**
 * `camd finetune --task landmarks|pose|parsing`: the flags read as for the other tasks (finetune-flags.ts)
 * into the task's spec (protocol/geometry-specs.ts), which runFinetune runs as a run of the store
 * (tasks/task-job.ts with the task's adapter) and cli/finetune.ts renders as any fine-tuning run.
 * The classification flags these tasks do not read are refused, not ignored. `camd eval` of a
 * geometry model reads its flags into GeometryEvalSpec the same way (tasks/task-eval.ts runs it).
 */
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { EVAL_FIELDS, FINETUNE_FIELDS } from '../protocol/finetune-fields.js';
import {
  GeometryEvalSpec,
  type GeometryTask,
  LANDMARK_FORMAT_NAMES,
  LandmarkSpec,
  PARSING_FORMAT_NAMES,
  ParsingSpec,
  POSE_FORMAT_NAMES,
  PoseSpec,
} from '../protocol/geometry-specs.js';
import { parseSpec } from '../protocol/specs.js';
import { UserError } from '../util/errors.js';
import { readFlags } from './field-flags.js';
import type { EvalCliOptions, FinetuneCliOptions } from './finetune-flags.js';

/** Flags of the classification tasks that the geometry tasks do not read. */
const NOT_FOR_GEOMETRY = [
  'schema',
  'labels',
  'fewShot',
  'linearProbe',
  'layerDecay',
  'randAugment',
  'reprob',
  'minCropScale',
  'split',
  'threads',
  'recompute',
] as const satisfies readonly (keyof typeof FINETUNE_FIELDS)[];

const TASKS: Record<GeometryTask, { formats: readonly string[]; data: string; spec: z.ZodType }> = {
  landmarks: {
    formats: LANDMARK_FORMAT_NAMES,
    data: 'the 300W folder, the WFLW list file or the AFLW-19 CSV',
    spec: LandmarkSpec,
  },
  pose: {
    formats: POSE_FORMAT_NAMES,
    data: 'the 300W-LP or AFLW2000 folder of images and .mat files, or the BIWI folder',
    spec: PoseSpec,
  },
  parsing: {
    formats: PARSING_FORMAT_NAMES,
    data: "the LaPa folder (images/ and labels/, or LaPa's train/ and test/) or the CelebAMask-HQ folder",
    spec: ParsingSpec,
  },
};

export function toGeometrySpec(task: GeometryTask, o: FinetuneCliOptions): Record<string, unknown> {
  const t = TASKS[task];
  const s = readFlags(FINETUNE_FIELDS, o) as Record<string, unknown>;
  const format = s['format'] as string | undefined;
  if (!format || !t.formats.includes(format))
    throw new UserError(
      `--task ${task} reads --format ${t.formats.join(', ')} (given: ${format ?? 'none'})`,
      2,
      'usage',
    );
  if (!s['data']) throw new UserError(`--task ${task} needs --data (${t.data})`, 2, 'usage');
  if (!s['init'])
    throw new UserError(`--task ${task} needs --init (a camd pretrain checkpoint or encoder, or none)`, 2, 'usage');
  // parsing datasets carry their own split (LaPa's train/test, CelebAMask-HQ's official lists)
  const unused = [...NOT_FOR_GEOMETRY, ...(task === 'parsing' ? (['testData'] as const) : [])].filter(
    (k) => s[k] !== undefined,
  );
  if (unused.length)
    throw new UserError(
      `--task ${task} does not use ${unused.map((k) => FINETUNE_FIELDS[k].flag!.split(' ')[0]).join(', ')} (yet): leave ${unused.length > 1 ? 'them' : 'it'} out`,
      2,
      'usage',
    );
  const pick = (k: string) => (s[k] === undefined ? {} : { [k]: s[k] });
  return parseSpec(t.spec, {
    task,
    format,
    data: s['data'],
    ...pick('testData'),
    init: s['init'],
    ...pick('preset'),
    ...pick('imgSize'),
    ...pick('epochs'),
    ...pick('batch'),
    ...pick('blr'),
    ...pick('warmupEpochs'),
    ...pick('dropPath'),
    ...pick('seed'),
    ...pick('backend'),
    ...pick('db'),
    out:
      (s['out'] as string | undefined) ??
      resolve(join('runs', `${task}-${new Date().toISOString().replace(/[:.]/g, '-')}`)),
  }) as Record<string, unknown>;
}

/** `camd eval` of a face-geometry model (its file's task `fileTask`): the flags into the spec; a --task given is kept, for the evaluation to refuse when it is not the file's. */
export function toGeometryEvalSpec(fileTask: GeometryTask, o: EvalCliOptions): Record<string, unknown> {
  const s = readFlags(EVAL_FIELDS, o) as Record<string, unknown>;
  const task = (s['task'] as string | undefined) ?? fileTask;
  if (task !== fileTask)
    throw new UserError(
      `${s['checkpoint'] as string} is a ${fileTask} model, not --task ${task}: leave --task out or give --task ${fileTask}`,
      2,
      'usage',
    );
  const format = s['format'] as string | undefined;
  if (!format || !TASKS[fileTask].formats.includes(format))
    throw new UserError(
      `a ${fileTask} model is evaluated on --format ${TASKS[fileTask].formats.join(', ')} (given: ${format ?? 'none'})`,
      2,
      'usage',
    );
  if (!s['data']) throw new UserError(`--data is required (${TASKS[fileTask].data})`, 2, 'usage');
  const unused = (['schema', 'labels', 'split'] as const).filter((k) => s[k] !== undefined);
  if (unused.length)
    throw new UserError(
      `a ${fileTask} model's evaluation does not use ${unused.map((k) => EVAL_FIELDS[k].flag!.split(' ')[0]).join(', ')}: leave ${unused.length > 1 ? 'them' : 'it'} out`,
      2,
      'usage',
    );
  const pick = (k: string) => (s[k] === undefined ? {} : { [k]: s[k] });
  return parseSpec(GeometryEvalSpec, {
    checkpoint: s['checkpoint'],
    task,
    format: s['format'],
    data: s['data'],
    ...pick('testData'),
    ...pick('seed'),
    ...pick('backend'),
    ...pick('db'),
  }) as Record<string, unknown>;
}
