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

/**
 * The statuses each status may be reached from: every change of a run's status is checked against
 * it (Store.setRunStatus). The lifecycle is the supervisor's diagram (electron/supervisor/supervisor.ts);
 * the wide entries are the paths around it that exist today: a worker claims a run whatever it
 * was (new from the CLI, queued by the app, halted before it claimed it, resumed), its end is
 * recorded over any status (an import records a folder's run again whatever it was), and a pause
 * or stop of the app's current run may come in the instant between the worker recording its end
 * and its exit.
 */
export const REACHED_FROM: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  created: [], // only a new run is created (Store.createRun)
  queued: ['created', 'queued', 'paused', 'stopped', 'interrupted', 'done', 'failed'],
  running: RUN_STATUSES,
  pausing: ['queued', 'running', 'pausing', 'stopped', 'interrupted', 'done', 'failed'],
  stopping: ['queued', 'running', 'pausing', 'stopping', 'stopped', 'interrupted', 'done', 'failed'],
  paused: ['queued', 'paused', 'stopped'], // paused in the queue, or a worker's stop that was asked as a pause
  stopped: RUN_STATUSES,
  interrupted: RUN_STATUSES,
  done: RUN_STATUSES,
  failed: RUN_STATUSES,
};

export const canBecome = (from: RunStatus, to: RunStatus): boolean => REACHED_FROM[to].includes(from);
