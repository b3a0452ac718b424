/**
 * What a declared field is (pretrain-fields.ts, finetune-fields.ts), and what is made from a table
 * of them: the spec that every boundary checks, the fields of one role, a flag's name and its help
 * with the default. No Node import: the renderer uses it.
 */
import { z } from 'zod';

/**
 * What a field is for:
 * - `setting`: defines the computation (of a pre-training run: saved in run.json and fixed once the
 *   run has a checkpoint);
 * - `option`: how the run is carried out (of a pre-training run: saved in run.json, free to change on resume);
 * - `probe`: the representation-quality monitor (a run option too);
 * - `start`: what a new run starts from (--continue, --init);
 * - `place`: where the run and its record live;
 * - `control`: this process only (where to stop, the caller's run id, resume).
 */
export type FieldRole = 'setting' | 'option' | 'probe' | 'start' | 'place' | 'control';

/**
 * How the CLI reads a flag's text: a number, a path (made absolute), a word, a thread count, a
 * path or the word `none` (made absolute unless `none`); `switch`: a flag without an argument (true when given).
 */
export type FieldRead = 'int' | 'float' | 'path' | 'word' | 'threads' | 'path|none' | 'switch';

/** A declared field; `R`: the ways its table's flags are read (pre-training's take no switch). */
export interface Field<R extends FieldRead = FieldRead> {
  schema: z.ZodType;
  role: FieldRole;
  /** The flag with its argument, `--img-size <px>`; null: not a flag (the app's run id). */
  flag: string | null;
  read: R;
  help: string;
  /** How --help gives the default, where the value in defaults.ts would not say it well. */
  defaultText?: string;
  /** The app form's label, where the form shows the field. */
  label?: string;
  /** Required in every spec (all others may be left out: they take their defaults). */
  required?: true;
}

export type Fields = Record<string, Field>;

/** A field as declared, its literal types kept (so that the spec's type follows the table). */
export const field = <const F extends Field>(f: F): F => f;

/** A spec from fields: each one optional unless required; unknown fields refused. */
export function specOf<F extends Fields>(fields: F) {
  const shape = Object.fromEntries(
    Object.entries(fields).map(([k, f]) => [k, f.required ? f.schema : f.schema.optional()]),
  ) as { [K in keyof F]: F[K] extends { required: true } ? F[K]['schema'] : z.ZodOptional<F[K]['schema']> };
  return z.object(shape).strict();
}

type KeysOfRole<F extends Fields, R extends FieldRole> = {
  [K in keyof F]: F[K]['role'] extends R ? K : never;
}[keyof F];

/** The fields of one role, as a zod shape (each required). */
export function shapeOfRole<F extends Fields, R extends FieldRole>(
  fields: F,
  role: R,
): { [K in KeysOfRole<F, R>]: F[K]['schema'] } {
  return Object.fromEntries(Object.entries(fields).flatMap(([k, f]) => (f.role === role ? [[k, f.schema]] : []))) as {
    [K in KeysOfRole<F, R>]: F[K]['schema'];
  };
}

/** The flag's name without its argument: `--img-size <px>` → `--img-size`. */
export const flagName = (f: Field): string | null => f.flag?.split(' ')[0] ?? null;

/** The default of a field, where it has one of its own in `defaults`. */
export function defaultOf(defaults: object, key: string): unknown {
  return (defaults as Record<string, unknown>)[key];
}

/** The help text of a flag: what it does, then its default. */
export function helpOf<F extends Fields>(fields: F, defaults: object, key: keyof F & string): string {
  const f: Field = fields[key]!;
  const d = defaultOf(defaults, key);
  const shown = f.defaultText ?? (d === undefined ? null : `default ${String(d)}`);
  return shown ? `${f.help} (${shown})` : f.help;
}
