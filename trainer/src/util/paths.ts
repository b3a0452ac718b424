/** Default locations: the store and the decode cache live in CAMD_HOME (default ~/.camd). */
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export function camdHome(): string {
  return resolve(process.env['CAMD_HOME'] ?? join(homedir(), '.camd'));
}

export function defaultDbPath(): string {
  return join(camdHome(), 'camd.db');
}

/** The decode cache sits beside the store. */
export function cacheDirFor(dbFile: string): string {
  return join(dirname(resolve(dbFile)), 'cache');
}
