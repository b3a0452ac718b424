/**
 * A command's flags from a table of declared fields (protocol/fields.ts): each field with a flag
 * becomes a commander option whose help gives its default, and its text is read as the field says
 * (a number, a path made absolute, a word, a thread count, a switch). cli/finetune-flags.ts uses it
 * for `camd finetune` and `camd eval`.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { flagName, helpOf, type Field, type Fields } from '../protocol/fields.js';
import { CamdError } from '../util/errors.js';
import { parseNumber, parseThreads } from './parse.js';

/** A flag's value as commander hands it over: its text, or true for a switch. */
export type FlagValue = string | boolean | undefined;

/** The fields that are flags, in the declaration's order (the order --help lists them). */
export const flagKeys = <F extends Fields>(fields: F): (keyof F & string)[] =>
  Object.keys(fields).filter((k) => fields[k]!.flag !== null);

/** commander's name for a flag's value: `--img-size` → imgSize, `--aa` → aa. */
export const attributeOf = (flag: string): string =>
  flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Adds an option to the command for every field with a flag, its help ending with its default. */
export function addFieldFlags<F extends Fields>(cmd: Command, fields: F, defaults: object): Command {
  for (const k of flagKeys(fields)) cmd.option(fields[k]!.flag!, helpOf(fields, defaults, k));
  return cmd;
}

/** A flag's value as its field reads it. */
export function readFlag(f: Field, value: string | boolean): unknown {
  const flag = flagName(f)!;
  if (typeof value === 'boolean' || f.read === 'switch') return value;
  switch (f.read) {
    case 'int':
    case 'float':
      return parseNumber(flag, value, f.read);
    case 'path':
      return resolve(value);
    case 'path|none':
      return value === 'none' ? 'none' : resolve(value);
    case 'threads':
      return parseThreads(value);
    case 'word':
      return value;
  }
}

/** The given flags' values as their fields read them (in the declaration's order), keyed by field. */
export function readFlags<F extends Fields>(fields: F, given: Record<string, FlagValue>): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  for (const k of flagKeys(fields)) {
    const value = given[attributeOf(flagName(fields[k]!)!)];
    if (value !== undefined) spec[k] = readFlag(fields[k]!, value);
  }
  return spec;
}

/**
 * Refuses the first of the `required` fields whose flag is missing (or empty), in that order, named
 * as its message names it (`--task far|fer is required`).
 */
export function requireFlags<F extends Fields>(
  fields: F,
  given: Record<string, FlagValue>,
  required: Partial<Record<keyof F, string>>,
): void {
  for (const [k, named] of Object.entries(required) as [string, string][])
    if (!given[attributeOf(flagName(fields[k]!)!)]) throw new CamdError('usage', `${named} is required`);
}
