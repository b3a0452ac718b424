/**
 * What a caller asks the trainer for: one zod schema per operation, checked before any work
 * (no Node import: the app's renderer validates forms with the same schemas).
 * Paths are absolute (the library never resolves against a working directory); omitted values
 * take the documented defaults. A field is named in messages as its `camd` flag (`batch` →
 * `--batch`): the flags are the fields' public names, and the app maps them to its labels.
 */
import { z } from 'zod';
import { absPath, atLeast1, fraction, nonNegInt, preset } from './values.js';
import { PRETRAIN_FIELDS } from './pretrain-fields.js';
import { EVAL_FIELDS, FINETUNE_FIELDS } from './finetune-fields.js';
import { specOf } from './fields.js';
import { CamdError } from '../util/errors.js';

/** The `camd` flag of a spec field. */
export function flagOf(field: string): string {
  const special: Record<string, string> = {
    randAugment: '--aa',
    out: '--out',
    resume: '--resume',
    size: '--face-size',
    continueFrom: '--continue',
  };
  return special[field] ?? `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export { isAbsolutePath } from './values.js';

/** A pre-training run: a new one in `out`, or (resume) the run that `out` holds; its fields are declared once, in pretrain-fields.ts. */
export const PretrainSpec = specOf(PRETRAIN_FIELDS);
export type PretrainSpec = z.infer<typeof PretrainSpec>;

/** The fields of a fine-tuning run (FinetuneSpec adds the checks across fields); declared once, in finetune-fields.ts. */
export const FinetuneFields = specOf(FINETUNE_FIELDS);

/** A fine-tuning (or linear-probe) run on a labelled dataset, in the new folder `out`. */
export const FinetuneSpec = FinetuneFields.refine((s) => s.init === 'none' || s.preset === undefined, {
  message: 'goes with --init none; a checkpoint brings its own architecture',
  path: ['preset'],
})
  .refine((s) => s.format !== 'store' || s.schema !== undefined, {
    message: 'is required with --format store (the label schema: its name or id)',
    path: ['schema'],
  })
  .refine((s) => s.format === 'store' || (s.schema === undefined && s.labels === undefined), {
    message: 'goes with --format store',
    path: ['schema'],
  })
  .refine((s) => s.testData === undefined, {
    message: 'goes with --task landmarks or pose (a classification dataset gives its own splits)',
    path: ['testData'],
  });
export type FinetuneSpec = z.infer<typeof FinetuneSpec>;

/** A fine-tuned classifier alone on a labelled dataset's validation and test splits (its fields in finetune-fields.ts). */
export const EvalSpec = specOf(EVAL_FIELDS)
  .refine((s) => s.format !== 'store' || s.schema !== undefined, {
    message: 'is required with --format store (the label schema: its name or id)',
    path: ['schema'],
  })
  .refine((s) => s.testData === undefined, {
    message: 'goes with a landmarks or pose model (a classification dataset gives its own splits)',
    path: ['testData'],
  });
export type EvalSpec = z.infer<typeof EvalSpec>;

/** Index a folder of images into the store. */
export const ScanSpec = z
  .object({ dir: absPath, db: absPath.optional(), maxPixels: atLeast1('pixels').optional() })
  .strict();
export type ScanSpec = z.infer<typeof ScanSpec>;

/** Find, align and crop the faces of a photo folder into a derived dataset (`camd scan DIR --faces`). */
export const FaceScanSpec = z
  .object({
    dir: absPath,
    db: absPath.optional(),
    maxPixels: atLeast1('pixels').optional(),
    out: absPath.optional(),
    minScore: z
      .number()
      .refine((v) => v >= 0 && v <= 1, { message: 'must be between 0 and 1' })
      .optional(),
    minFace: z
      .number()
      .refine((v) => v >= 0 && v <= 100_000, { message: 'must be between 0 and 100000 (pixels)' })
      .optional(),
    margin: z
      .number()
      .refine((v) => v >= 0 && v <= 2, { message: 'must be between 0 and 2 (fractions of the face size)' })
      .optional(),
    size: z
      .number()
      .refine((v) => Number.isInteger(v) && v >= 32 && v <= 2048, {
        message: 'must be an integer from 32 to 2048 (pixels)',
      })
      .optional(),
    dedupe: z
      .number()
      .refine((v) => Number.isInteger(v) && v >= 0 && v <= 64, { message: 'must be an integer from 0 to 64 (bits)' })
      .nullable()
      .optional(),
    tiles: z
      .number()
      .refine((v) => Number.isInteger(v) && v >= 1 && v <= 6, { message: 'must be an integer from 1 to 6' })
      .optional(),
  })
  .strict();
export type FaceScanSpec = z.infer<typeof FaceScanSpec>;

/** The two views and the block mask of one image, as the trainer makes them for a sample. */
export const MaskPreviewSpec = z
  .object({
    image: absPath,
    db: absPath.optional(),
    preset: preset.optional(),
    imgSize: atLeast1('pixels').optional(),
    maskRatio: fraction('(', ')').optional(),
    seed: nonNegInt.optional(),
    /** Which draw: sample k uses the random stream of a one-image batch at step k. */
    sample: nonNegInt.optional(),
    maxPixels: atLeast1('pixels').optional(),
  })
  .strict();
export type MaskPreviewSpec = z.infer<typeof MaskPreviewSpec>;

/**
 * One line for a failed check of a spec field: the field named as its flag, the value, the field
 * for a form. `path` is where the spec sits in a larger request (its prefix is dropped).
 */
export function describeIssue(
  i: z.core.$ZodIssue,
  prefix: readonly PropertyKey[] = [],
): { kind: 'usage' | 'input'; message: string; field?: string } {
  const path = i.path.slice(prefix.length);
  const field = path.length ? String(path[0]) : undefined;
  if (i.code === 'unrecognized_keys') {
    const keys = (i as { keys?: string[] }).keys ?? [];
    return {
      kind: 'usage',
      message: `unknown field(s) ${keys.map((k) => `'${k}'`).join(', ')}`,
      ...(keys[0] ? { field: keys[0] } : {}),
    };
  }
  const given = (i as { input?: unknown }).input;
  const got =
    given !== undefined && (typeof given !== 'object' || given === null)
      ? `, got ${typeof given === 'string' ? `'${given}'` : JSON.stringify(given)}`
      : '';
  if (!field) return { kind: 'input', message: `${i.message}${got}` };
  if (path.length === 1 && given === undefined)
    return { kind: 'usage', message: `${flagOf(field)} is required`, field };
  return { kind: 'input', message: `${flagOf(field)} ${i.message}${got}`, field };
}

/** Validates a spec; one line naming the field (as its flag) and the value, with the field for a form. */
export function parseSpec<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input, { reportInput: true });
  if (r.success) return r.data;
  const d = describeIssue(r.error.issues[0]!);
  throw new CamdError(d.kind, d.message, d.field);
}
