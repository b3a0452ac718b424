/**
 * The kinds of value a spec field takes, each with the message a form and the CLI show when a value
 * is refused (`--batch must be an integer of at least 1 (images per step), got 0`). No Node import:
 * the app's renderer checks its forms with them.
 */
import { z } from 'zod';
import { PRESET_NAMES } from '../model/config.js';
import { BACKEND_NAMES } from '../backends/names.js';
import { FORMATS } from './formats.js';

/** Absolute on POSIX (/…) or Windows (C:\… or \\server\…); no Node import, so the app's renderer can check specs too. */
export const isAbsolutePath = (p: string): boolean =>
  p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
export const absPath = z.string().min(1).refine(isAbsolutePath, { message: 'must be an absolute path' });
export const atLeast1 = (what: string) =>
  z.number().refine((v) => Number.isInteger(v) && v >= 1, { message: `must be an integer of at least 1 (${what})` });
export const nonNegInt = z
  .number()
  .refine((v) => Number.isInteger(v) && v >= 0, { message: 'must be a non-negative integer' });
export const positive = z.number().refine((v) => Number.isFinite(v) && v > 0, { message: 'must be a positive number' });
export const fraction = (lo: '(' | '[', hi: ')' | ']') =>
  z.number().refine((v) => (lo === '(' ? v > 0 : v >= 0) && (hi === ')' ? v < 1 : v <= 1), {
    message: `must be in ${lo}0, 1${hi}`,
  });
export const preset = z.enum(PRESET_NAMES, { message: `must be one of ${PRESET_NAMES.join(', ')}` });
export const backend = z.enum(['auto', ...BACKEND_NAMES], {
  message: `must be auto, ${BACKEND_NAMES.slice(0, -1).join(', ')} or ${BACKEND_NAMES.at(-1)}`,
});
export const recompute = z.enum(['auto', 'on', 'off'], { message: 'must be auto, on or off' });
export const threads = z.union(
  [z.literal('auto'), z.number().refine((v) => Number.isInteger(v) && v >= 1 && v <= 64)],
  {
    message: "must be 'auto' or an integer 1..64",
  },
);
export const task = z.enum(['far', 'fer'], { message: 'must be far or fer' });
export const format = z.enum(FORMATS, { message: `must be one of ${FORMATS.join(', ')}` });
export const schemaRef = z.string().min(1, { message: 'names a label schema' }).max(100);
export const labelUse = z.enum(['human', 'human+accepted'], { message: 'must be human or human+accepted' });

/** A run id chosen by the caller (the app records a queued run before its worker starts). */
export const runId = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { message: 'must be a UUID' });
