/**
 * `camd finetune --task landmarks`: the flags read as for the other tasks (finetune-flags.ts) into a
 * face-alignment spec (protocol/landmark-spec.ts), which runFinetune runs as a run of the store
 * (landmarks/landmark-job.ts) and cli/finetune.ts renders as any fine-tuning run.
 */
import { resolve, join } from 'node:path';
import { FINETUNE_FIELDS } from '../protocol/finetune-fields.js';
import { LANDMARK_FORMAT_NAMES, LandmarkSpec } from '../protocol/landmark-spec.js';
import { parseSpec } from '../protocol/specs.js';
import { UserError } from '../util/errors.js';
import { readFlags } from './field-flags.js';
import type { FinetuneCliOptions } from './finetune-flags.js';

/** Flags of the classification tasks that face alignment does not read: refused rather than ignored. */
const NOT_FOR_LANDMARKS = [
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

export function toLandmarkSpec(o: FinetuneCliOptions): LandmarkSpec {
  const s = readFlags(FINETUNE_FIELDS, o) as Record<string, unknown>;
  const format = s['format'] as string | undefined;
  if (!format || !(LANDMARK_FORMAT_NAMES as readonly string[]).includes(format))
    throw new UserError(
      `--task landmarks reads --format ${LANDMARK_FORMAT_NAMES.join(', ')} (given: ${format ?? 'none'})`,
      2,
      'usage',
    );
  if (!s['data'])
    throw new UserError(
      '--task landmarks needs --data (the 300W folder, the WFLW list file or the AFLW-19 CSV)',
      2,
      'usage',
    );
  if (!s['init'])
    throw new UserError('--task landmarks needs --init (a camd pretrain checkpoint or encoder, or none)', 2, 'usage');
  const unused = NOT_FOR_LANDMARKS.filter((k) => s[k] !== undefined);
  if (unused.length)
    throw new UserError(
      `--task landmarks does not use ${unused.map((k) => FINETUNE_FIELDS[k].flag!.split(' ')[0]).join(', ')} (yet): leave ${unused.length > 1 ? 'them' : 'it'} out`,
      2,
      'usage',
    );
  const pick = (k: string) => (s[k] === undefined ? {} : { [k]: s[k] });
  return parseSpec(LandmarkSpec, {
    task: 'landmarks',
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
      resolve(join('runs', `landmarks-${new Date().toISOString().replace(/[:.]/g, '-')}`)),
  });
}
