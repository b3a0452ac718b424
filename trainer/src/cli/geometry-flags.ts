/**
 * `camd finetune --task landmarks|pose|parsing`: the flags read as for the other tasks (finetune-flags.ts)
 * into the task's spec (protocol/geometry-specs.ts), which runFinetune runs as a run of the store
 * (tasks/task-job.ts with the task's adapter) and cli/finetune.ts renders as any fine-tuning run.
 * The classification flags these tasks do not read are refused, not ignored.
 */
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { FINETUNE_FIELDS } from '../protocol/finetune-fields.js';
import {
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
import type { FinetuneCliOptions } from './finetune-flags.js';

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
