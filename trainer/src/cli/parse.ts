/** Parsing of numeric flags: one plain-line UserError for anything that is not a number (or a thread count). */
import { UserError } from '../util/errors.js';

export function parseNumber(flag: string, v: string | undefined, kind: 'int' | 'float'): number | undefined {
  if (v === undefined) return undefined;
  // Number('') and Number(' ') are 0: an empty value is no number
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n)))
    throw new UserError(`${flag} must be ${kind === 'int' ? 'an integer' : 'a number'}, got '${v}'`);
  return n;
}

/** --threads: auto, or a count of wasm threads. */
export function parseThreads(s: string): number | 'auto' {
  if (s === 'auto') return 'auto';
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new UserError(`--threads must be 'auto' or an integer 1..64, got '${s}'`);
  return n;
}
