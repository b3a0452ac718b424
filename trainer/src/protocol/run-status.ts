/**
 * A run's status, the one list of it: the store's CHECK constraint, the contract's enum, the
 * supervisor's and the renderer's tests of "is something working on it" all read these.
 */
export const RUN_STATUSES = [
  'created',
  'queued',
  'running',
  'pausing',
  'paused',
  'stopping',
  'stopped',
  'interrupted',
  'done',
  'failed',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A process works on the run now (it holds the run's folder). */
export const WORKING_STATUSES: readonly RunStatus[] = ['running', 'pausing', 'stopping'];

/** Not finished: waiting its turn, or worked on. */
export const UNFINISHED_STATUSES: readonly RunStatus[] = ['queued', ...WORKING_STATUSES];

export const isWorking = (s: string): boolean => (WORKING_STATUSES as readonly string[]).includes(s);
export const isUnfinished = (s: string): boolean => (UNFINISHED_STATUSES as readonly string[]).includes(s);

/** `status IN (…)` of a list, for SQL (the values are this module's constants, never input). */
export const sqlList = (statuses: readonly RunStatus[]): string => statuses.map((s) => `'${s}'`).join(', ');
