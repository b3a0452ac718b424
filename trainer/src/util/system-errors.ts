/**
 * File-system and SQLite errors in words: a Node system error (errno code, syscall, path) or an
 * SqliteError becomes one plain line and a cause (errors.ts).
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { CamdError, type ErrorCause } from './errors.js';

const REASONS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'it already exists',
  ENOTEMPTY: 'the folder is not empty',
  EIO: 'input/output error (a failing disk?)',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
};

const VERBS: Record<string, string> = {
  mkdir: 'create the folder',
  open: 'open',
  write: 'write',
  rename: 'rename',
  unlink: 'remove',
  rmdir: 'remove',
  scandir: 'read the folder',
  read: 'read',
  stat: 'read',
  lstat: 'read',
  fsync: 'write',
  copyfile: 'copy',
  rm: 'remove',
};

/** A Node system error (errno code, syscall, path)? */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException & { code: string } {
  return (
    e instanceof Error &&
    typeof (e as NodeJS.ErrnoException).code === 'string' &&
    /^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code!)
  );
}

/** The reason of a system error in words ("the file system is read-only"). */
export function systemReason(e: NodeJS.ErrnoException): string {
  return REASONS[e.code ?? ''] ?? e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}

/** Why an operation failed, in words, for any error (system errors by their code). */
export function reasonOf(e: unknown): string {
  if (isSystemError(e)) return systemReason(e);
  return e instanceof Error ? e.message : String(e);
}

/** The cause of a system error: a full disk, or an I/O failure. */
export function systemCause(e: NodeJS.ErrnoException, during: 'setup' | 'run' = 'setup'): ErrorCause {
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return 'disk-full';
  if (e.code === 'EIO') return 'io';
  return during === 'run' ? 'io' : 'input';
}

/**
 * One line for a system error: "cannot create the folder /x/y: the file system is read-only".
 * `what` names the thing when the error carries no path (or to say what the path is for).
 */
export function systemMessage(e: NodeJS.ErrnoException, what?: string): string {
  const verb = VERBS[e.syscall ?? ''] ?? 'use';
  const target = what ?? e.path ?? 'a file';
  // a recursive mkdir says ENOENT for a read-only or unwritable ancestor: ask the ancestor
  const reason = e.syscall === 'mkdir' && e.path ? mkdirReason(e.path, e) : systemReason(e);
  return `cannot ${verb} ${target}: ${reason}`;
}

/** One line for any error a user can cause; null for a bug. */
export function describeUserFacing(e: unknown): { kind: ErrorCause; message: string; field?: string } | null {
  if (e instanceof CamdError) return { kind: e.kind, message: e.message, ...(e.field ? { field: e.field } : {}) };
  if (isSystemError(e)) return { kind: systemCause(e, 'run'), message: systemMessage(e) };
  if (e instanceof Error && e.name === 'SqliteError') {
    const code = (e as Error & { code?: string }).code ?? '';
    // SQLite says a full disk two ways: SQLITE_FULL, and a shared-memory file that cannot grow
    if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_SHMSIZE')
      return { kind: 'disk-full', message: `the store's disk is full (${e.message})` };
    if (
      code.startsWith('SQLITE_READONLY') ||
      code.startsWith('SQLITE_IOERR') ||
      code.startsWith('SQLITE_CANTOPEN') ||
      code === 'SQLITE_NOTADB' ||
      code.startsWith('SQLITE_CORRUPT')
    ) {
      return { kind: 'io', message: `the store failed: ${e.message} (${code})` };
    }
  }
  return null;
}

/**
 * Why a folder cannot be created, in words. Node's recursive mkdir reports a read-only file system
 * or a missing permission on an ancestor as ENOENT; the nearest existing ancestor tells the truth.
 */
export function mkdirReason(dir: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EEXIST' || code === 'ENOTDIR') return 'a part of the path is a file, not a folder';
  let a = dir;
  while (!existsSync(a) && dirname(a) !== a) a = dirname(a);
  try {
    if (!statSync(a).isDirectory()) return 'a part of the path is a file, not a folder';
    accessSync(a, constants.W_OK);
  } catch (err) {
    if (isSystemError(err)) return systemReason(err);
  }
  return reasonOf(e);
}

/** mkdir -p with a one-line CamdError ('input') naming what the folder is for. */
export function makeFolder(dir: string, what: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new CamdError('input', `cannot create ${what} ${dir}: ${mkdirReason(dir, e)}`);
  }
}

/**
 * An error of reading the user's input, as the error it is: ours as they are, a failure of the
 * machine (a full disk, a failing store, a read-only file system) by its own cause — never an input
 * error, which it is not — and anything else as an input error on `field`.
 */
export function asInputError(e: unknown, field?: string): CamdError {
  if (e instanceof CamdError) return e;
  const uf = describeUserFacing(e);
  if (uf) return new CamdError(uf.kind, uf.message, uf.field);
  return new CamdError('input', e instanceof Error ? e.message : String(e), field);
}
