/**
 * `camd finetune`'s and `camd eval`'s flags, from the one declaration of their fields
 * (protocol/finetune-fields.ts): each declared field with a flag becomes a commander option whose
 * help gives its default (cli/field-flags.ts), and the flags' text becomes the spec. --json belongs
 * to the commands alone (how to print).
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FINETUNE_DEFAULTS } from '../protocol/defaults.js';
import { EVAL_FIELDS, FINETUNE_FIELDS, type EvalField, type FinetuneField } from '../protocol/finetune-fields.js';
import { addFieldFlags, readFlags, requireFlags } from './field-flags.js';

/** The flags' values as commander hands them over, by commander's name (`randAugment` is `--aa`). */
type CliOptionsOf<F extends Record<string, { flag: string | null; read: string }>> = {
  [K in keyof F as F[K]['flag'] extends string
    ? K extends 'randAugment'
      ? 'aa'
      : K
    : never]?: F[K]['read'] extends 'switch' ? boolean : string;
} & { json?: boolean };

export type FinetuneCliOptions = CliOptionsOf<typeof FINETUNE_FIELDS>;
export type EvalCliOptions = CliOptionsOf<typeof EVAL_FIELDS>;

/** How a missing flag is named, in the order the flags are checked. */
const FINETUNE_REQUIRED: Partial<Record<FinetuneField, string>> = {
  init: '--init CKPT|none',
  task: '--task far|fer',
  format: '--format',
  data: '--data DIR',
};
const EVAL_REQUIRED: Partial<Record<EvalField, string>> = {
  checkpoint: '--checkpoint',
  format: '--format',
  data: '--data DIR',
};

/** Adds every flag of `camd finetune` to the command, --json last. */
export function addFinetuneFlags(cmd: Command): Command {
  return addFieldFlags(cmd, FINETUNE_FIELDS, FINETUNE_DEFAULTS).option(
    '--json',
    'one JSON object per line instead of a progress bar',
  );
}

/** Adds every flag of `camd eval` to the command, --json last. */
export function addEvalFlags(cmd: Command): Command {
  return addFieldFlags(cmd, EVAL_FIELDS, FINETUNE_DEFAULTS).option('--json', 'print JSON');
}

/** The spec of the run the flags ask for: numbers parsed, paths made absolute against the working directory. */
export function toFinetuneSpec(o: FinetuneCliOptions): Record<string, unknown> {
  requireFlags(FINETUNE_FIELDS, o, FINETUNE_REQUIRED);
  const spec = readFlags(FINETUNE_FIELDS, o);
  // a new folder under runs/ unless --out names one
  spec['out'] ??= resolve(join('runs', `finetune-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  return spec;
}

/** The spec of the evaluation the flags ask for. */
export function toEvalSpec(o: EvalCliOptions): Record<string, unknown> {
  requireFlags(EVAL_FIELDS, o, EVAL_REQUIRED);
  return readFlags(EVAL_FIELDS, o);
}
