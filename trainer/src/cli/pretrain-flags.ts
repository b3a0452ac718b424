/**
 * `camd pretrain`'s flags, from the one declaration of the fields (protocol/pretrain-fields.ts):
 * each declared field with a flag becomes a commander option whose help gives its default, and its
 * text is read as the field says (a number, a path made absolute, a word, a thread count). Two flags
 * belong to the command alone: --recipe (which defaults to fill) and --json (how to print).
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { flagName, helpOf, PRETRAIN_FIELDS, type Field, type PretrainField } from '../protocol/pretrain-fields.js';
import { RECIPE_NAMES, RECIPES, type RecipeName } from '../protocol/defaults.js';
import { UserError } from '../util/errors.js';
import { parseNumber, parseThreads } from './parse.js';

/** The fields that are flags, in the declaration's order (the order --help lists them). */
const FLAG_FIELDS = (Object.keys(PRETRAIN_FIELDS) as PretrainField[]).filter((k) => PRETRAIN_FIELDS[k].flag !== null);

/** commander's name for a flag's value: `--img-size` → imgSize, `--continue` → continue. */
const attributeOf = (flag: string): string =>
  flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

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
  for (const k of FLAG_FIELDS) {
    cmd.option(PRETRAIN_FIELDS[k].flag!, helpOf(k));
    if (k === 'batch') cmd.option('--recipe <name>', RECIPE_HELP);
  }
  return cmd.option('--json', 'print one JSON object per line instead of a progress bar');
}

/** A flag's text as its field reads it. */
function readFlag(f: Field, text: string): unknown {
  const flag = flagName(f)!;
  switch (f.read) {
    case 'int':
    case 'float':
      return parseNumber(flag, text, f.read);
    case 'path':
      return resolve(text);
    case 'threads':
      return parseThreads(text);
    case 'word':
      return text;
  }
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
  const given = o as Record<string, string | undefined>;
  for (const k of FLAG_FIELDS) {
    if (k === 'out' || k === 'resume') continue;
    const f: Field = PRETRAIN_FIELDS[k];
    const text = given[attributeOf(flagName(f)!)];
    if (text !== undefined) spec[k] = readFlag(f, text);
  }
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
