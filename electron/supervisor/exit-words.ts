/**
 * How a worker process ended, in words a user can act on: exit codes of `camd` (README), signals,
 * and Electron's child-process-gone reasons for the utility-process adapter.
 */
const CODES: Record<number, string> = {
  1: 'stopped by an internal error (a bug: the run log has the details)',
  2: 'refused its settings or input',
  3: 'stopped: the loss diverged (NaN or infinite)',
  4: 'could not go on: the disk is full or the file system failed',
  130: 'quit at once (a second stop)',
  134: 'aborted (SIGABRT): a native abort, often out of memory in the WebAssembly heap',
  137: 'killed (SIGKILL): most often the system ran out of memory',
  139: 'crashed in native code (segmentation fault)',
  143: 'terminated (SIGTERM)',
};

const SIGNALS: Record<string, string> = {
  SIGKILL: 'killed (SIGKILL): most often the system ran out of memory',
  SIGABRT: 'aborted (SIGABRT): a native abort, often out of memory in the WebAssembly heap',
  SIGSEGV: 'crashed in native code (segmentation fault, SIGSEGV)',
  SIGBUS: 'crashed in native code (bus error, SIGBUS)',
  SIGILL: 'crashed: an instruction this CPU lacks (SIGILL)',
  SIGFPE: 'crashed: an arithmetic fault in native code (SIGFPE)',
  SIGTERM: 'terminated (SIGTERM)',
  SIGINT: 'interrupted (SIGINT)',
  SIGHUP: 'its terminal went away (SIGHUP)',
};

/** Electron's `child-process-gone` / utilityProcess exit reasons. */
const REASONS: Record<string, string> = {
  oom: 'ran out of memory',
  crashed: 'crashed',
  killed: 'was killed',
  'launch-failed': 'could not be started',
  'integrity-failure': 'failed a code integrity check',
  'abnormal-exit': 'exited abnormally',
};

/** null for a clean exit (code 0); otherwise one line. */
export function exitInWords(code: number | null, signal: string | null, reason?: string): string | null {
  if (reason && REASONS[reason])
    return `the trainer process ${REASONS[reason]}${code !== null ? ` (exit code ${code})` : ''}`;
  if (signal) return `the trainer process was ${SIGNALS[signal] ?? `ended by ${signal}`}`;
  if (code === 0 || code === null) return null;
  return `the trainer process ${CODES[code] ?? `exited with code ${code}`}`;
}
