/**
 * `camd pretrain`'s flags, from the one declaration of the fields (protocol/pretrain-fields.ts):
 * each declared field with a flag becomes a commander option whose help gives its default, and its
 * text is read as the field says (a number, a path made absolute, a word, a thread count). Two flags
 * belong to the command alone: --recipe (which defaults to fill) and --json (how to print).
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { helpOf, PRETRAIN_FIELDS, type PretrainField } from '../protocol/pretrain-fields.js';
import { RECIPE_NAMES, RECIPES, type RecipeName } from '../protocol/defaults.js';
import { UserError } from '../util/errors.js';
import { flagKeys, readFlags, type FlagValue } from './field-flags.js';

type CliName<K extends PretrainField> = K extends 'continueFrom' ? 'continue' : K;

/** The flags' text as commander hands it over. */
export type PretrainCliOptions = { [K in Exclude<PretrainField, 'runId'> as CliName<K>]?: string } & {
  recipe?: string;
  json?: boolean;
};

const RECIPE_HELP =
  "the defaults of --blr, --warmup-epochs, --mask-ratio and --epochs: 'desktop' (measured at desktop scale, docs/quality.md) or 'paper' (the released script's, for a GPU cluster: blr 3.125e-5, 400 epochs) (default desktop)";

/** Adds every flag of `camd pretrain` to the command, --recipe after --batch (it fills the flags above and below it), --json last. */
export function addPretrainFlags(cmd: Command): Command {
  for (const k of flagKeys(PRETRAIN_FIELDS)) {
    cmd.option(PRETRAIN_FIELDS[k].flag!, helpOf(k));
    if (k === 'batch') cmd.option('--recipe <name>', RECIPE_HELP);
  }
  return cmd.option('--json', 'print one JSON object per line instead of a progress bar');
}

/** The spec of the run the flags ask for: numbers parsed, paths made absolute against the working directory. */
export function toSpec(o: PretrainCliOptions): Record<string, unknown> {
  if (o.resume && o.out && resolve(o.out) !== resolve(o.resume))
    throw new UserError('--out and --resume name different folders; a resumed run writes to its own folder');
  const spec: Record<string, unknown> = {
    // a resumed run writes to its own folder; a new one to --out, or a new folder under runs/
    out: resolve(o.resume ?? o.out ?? join('runs', `pretrain-${new Date().toISOString().replace(/[:.]/g, '-')}`)),
    ...(o.resume ? { resume: true } : {}),
  };
  const { out: _out, resume: _resume, ...flags } = readFlags(PRETRAIN_FIELDS, o as Record<string, FlagValue>);
  Object.assign(spec, flags);
  if (o.recipe !== undefined) {
    if (!(RECIPE_NAMES as string[]).includes(o.recipe))
      throw new UserError(`--recipe must be one of ${RECIPE_NAMES.join(', ')}, not ${JSON.stringify(o.recipe)}`);
    // the recipe fills what the flags leave out (a run carried on keeps its own)
    if (!o.resume && o.continue === undefined) {
      const r = RECIPES[o.recipe as RecipeName];
      spec['blr'] ??= r.blr;
      spec['warmupEpochs'] ??= r.warmupEpochs;
      spec['maskRatio'] ??= r.maskRatio;
      if (spec['epochs'] === undefined && spec['steps'] === undefined) spec['epochs'] = r.epochs;
    }
  }
  return spec;
}
