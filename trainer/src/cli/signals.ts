/**
 * Ctrl-C and SIGTERM for long commands: the first asks the job to stop (it finishes the step and
 * writes what it must), the second quits at once — after the registered hard-exit hooks have
 * recorded the job's state in the store.
 */
import { runHardExitHooks } from '../util/exit-hooks.js';

export function stopOnSignals(then: string): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  let count = 0;
  const on = (name: NodeJS.Signals) => {
    count++;
    if (count > 1) {
      process.stderr.write(`camd: second ${name}: quitting at once\n`);
      runHardExitHooks(`second ${name}`);
      process.exit(130);
    }
    process.stderr.write(`camd: ${name}: finishing this step, then ${then} (press again to quit at once)\n`);
    ctl.abort();
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: ctl.signal,
    dispose: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}
