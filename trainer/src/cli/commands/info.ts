/** `camd info`'s flags; the work is in cli/info.ts, loaded when the command runs. */
import type { Command } from 'commander';

export function addInfoCommand(program: Command): void {
  program
    .command('info')
    .description('show every TensorFlow.js backend of the ladder: whether it loads, why not, versions')
    .option('--json', 'print JSON (an object keyed by backend name)')
    .action(async (opts: { json?: boolean }) => {
      const { collectInfo, formatInfo } = await import('../info.js');
      const info = await collectInfo();
      process.stdout.write(opts.json ? `${JSON.stringify(info, null, 2)}\n` : `${formatInfo(info)}\n`);
    });
}
