/**
 * `camd`: the headless CAMD trainer. Subcommands live in their own modules; this file only
 * parses flags (commander) and turns user errors into one plain line and a non-zero exit.
 */
import { Command, CommanderError } from 'commander';
import { collectInfo, formatInfo } from './info.js';
import { UserError } from './errors.js';
import { selftest, type SelftestOptions } from './selftest.js';

async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program
    .name('camd')
    .description('CAMD Studio trainer: Context-Aware Masked Distillation for facial representation learning')
    .showHelpAfterError('(run `camd --help` for usage)')
    .exitOverride();

  program
    .command('info')
    .description('show every TensorFlow.js backend of the ladder: whether it loads, why not, versions')
    .option('--json', 'print JSON (an object keyed by backend name)')
    .action(async (opts: { json?: boolean }) => {
      const info = await collectInfo();
      process.stdout.write(opts.json ? JSON.stringify(info, null, 2) + '\n' : formatInfo(info) + '\n');
    });

  program
    .command('selftest')
    .description('pick a backend as training does and run a few CAMD training steps on synthetic data')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu (auto: the first rung that loads)', 'auto')
    .option('--threads <n>', "wasm threads: 'auto' (one per core, at most 8) or a count", 'auto')
    .option('--preset <name>', 'model preset (micro | tiny | small | base | large | huge)', 'micro')
    .option('--batch <n>', 'batch size', '4')
    .option('--steps <n>', 'training steps', '3')
    .option('--json', 'print one JSON object')
    .action(async (opts: SelftestOptions) => selftest(opts));

  await program.parseAsync(argv);
}

main(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    // commander already printed its message (help, version, or a usage error)
    process.exit(e.exitCode);
  }
  if (e instanceof UserError) {
    process.stderr.write(`camd: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`camd: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
