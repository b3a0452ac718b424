/** `camd worker`; the work is in cli/worker.ts, loaded when the command runs. */
import type { Command } from 'commander';

export function addWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      "run one job driven by JSON commands on stdin (the app's supervisor starts runs this way; docs/library.md: worker protocol)",
    )
    .action(async () => (await import('../worker.js')).workerCommand());
}
