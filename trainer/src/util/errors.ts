/**
 * Errors of the trainer, typed by cause. Every error a user can cause is one plain line; the CLI
 * maps the cause to an exit code, the app's services to a state. Anything else is a bug and is
 * reported as an internal error. No Node import: the app's renderer shares these types
 * (system-errors.ts turns file-system errors into CamdErrors).
 */

/**
 * What went wrong, in the terms a caller acts on: usage (a bad flag or command), input (a missing
 * folder, a damaged file, a configuration that cannot work), busy (another process holds the run
 * folder), io (the file system refused during a run), disk-full, diverged (the loss became NaN or
 * infinite), internal (a bug).
 */
export const ERROR_CAUSES = ['usage', 'input', 'busy', 'io', 'disk-full', 'diverged', 'internal'] as const;
export type ErrorCause = (typeof ERROR_CAUSES)[number];

/** Exit codes of `camd` (README, "Errors and exit codes"). */
export const EXIT_CODE: Record<ErrorCause, number> = {
  usage: 2,
  input: 2,
  busy: 2,
  io: 4,
  'disk-full': 4,
  diverged: 3,
  internal: 1,
};

export class CamdError extends Error {
  readonly kind: ErrorCause;
  /** The spec field at fault (`batch`, `imgSize`…), for a form to point at. */
  readonly field: string | undefined;
  constructor(kind: ErrorCause, message: string, field?: string) {
    super(message);
    this.name = 'CamdError';
    this.kind = kind;
    this.field = field;
  }
  get exitCode(): number {
    return EXIT_CODE[this.kind];
  }
}

/** An error the user can cause (bad flag, missing folder…): one plain line; exit code 2 unless given. */
export class UserError extends CamdError {
  constructor(message: string, exitCode = 2, field?: string) {
    super(exitCode === 4 ? 'io' : exitCode === 3 ? 'diverged' : 'input', message, field);
    this.name = 'UserError';
  }
}
