/**
 * `camd`: the headless CAMD trainer. Subcommands live in their own modules, each registered with
 * its flags by cli/commands/; this file only gathers them (commander) and turns user errors into
 * one plain line and a non-zero exit.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT_CODE } from '../util/errors.js';
import { describeUserFacing } from '../util/system-errors.js';
import { runHardExitHooks } from '../util/exit-hooks.js';
import { addInfoCommand } from './commands/info.js';
import { addSelftestCommand } from './commands/selftest.js';
import { addScanCommand } from './commands/scan.js';
import { addPretrainCommand } from './commands/pretrain.js';
import { addEvalCommand, addFinetuneCommand } from './commands/finetune.js';
import { addLabelCurveCommand, addPredictCommand } from './commands/predict.js';
import { addProbeCommand } from './commands/probe.js';
import { addSeeCommand } from './commands/see.js';
import { addPseudoLabelCommand } from './commands/pseudo-label.js';
import { addClusterPackCommand, addImportCommand, addImportRunCommand } from './commands/import.js';
import { addWorkerCommand } from './commands/worker.js';
import { addExportCommand } from './commands/export.js';
import { addAnnotationsCommand } from './commands/annotations.js';

/** The commands, in the order `camd --help` lists them; each registers its flags and loads its work only when it runs. */
const COMMANDS: ((program: Command) => void)[] = [
  addInfoCommand,
  addSelftestCommand,
  addScanCommand,
  addPseudoLabelCommand,
  addPretrainCommand,
  addFinetuneCommand,
  addEvalCommand,
  addPredictCommand,
  addLabelCurveCommand,
  addProbeCommand,
  addSeeCommand,
  addImportCommand,
  addImportRunCommand,
  addClusterPackCommand,
  addWorkerCommand,
  addExportCommand,
  addAnnotationsCommand,
];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** commander's error, as one line: "camd: unknown option '--x' (camd pretrain --help lists the flags)". */
const oneLine = (str: string, hint: string): string =>
  `camd: ${str
    .replace(/^error: /, '')
    .trim()
    .replace(/\s*\n\s*/g, ' ')} (${hint})\n`;

function newProgram(): Command {
  return new Command()
    .name('camd')
    .description('CAMD Studio trainer: Context-Aware Masked Distillation for facial representation learning')
    .version(version(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(oneLine(str, 'camd --help lists the commands')) });
}

async function main(argv: string[]): Promise<void> {
  const program = newProgram();
  for (const add of COMMANDS) add(program);
  for (const c of program.commands) {
    c.exitOverride().configureOutput({
      outputError: (str, write) => write(oneLine(str, `camd ${c.name()} --help lists the flags`)),
    });
    // a command's own subcommands (camd annotations export): their own help names their flags
    for (const sub of c.commands)
      sub.exitOverride().configureOutput({
        outputError: (str, write) => write(oneLine(str, `camd ${c.name()} ${sub.name()} --help lists the flags`)),
      });
  }
  await program.parseAsync(argv);
}

const json = process.argv.includes('--json');

/** Reports an error as one line (and as an error event on stdout with --json); returns the exit code. */
function report(e: unknown): number {
  if (e instanceof CommanderError) {
    // commander printed its one line (or the help, or the version)
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (json && e.exitCode !== 0)
      process.stdout.write(
        `${JSON.stringify({ type: 'error', message: e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' '), cause: 'usage' })}\n`,
      );
    return e.exitCode === 0 ? 0 : EXIT_CODE.usage;
  }
  const uf = describeUserFacing(e);
  if (uf) {
    if (json) process.stdout.write(`${JSON.stringify({ type: 'error', message: uf.message, cause: uf.kind })}\n`);
    process.stderr.write(`camd: ${uf.message}\n`);
    return EXIT_CODE[uf.kind];
  }
  const msg = e instanceof Error ? e.message : String(e);
  if (json)
    process.stdout.write(
      `${JSON.stringify({ type: 'error', message: `internal error: ${msg}`, cause: 'internal' })}\n`,
    );
  process.stderr.write(
    `camd: internal error (a bug; please report it with this text): ${e instanceof Error ? (e.stack ?? msg) : msg}\n`,
  );
  return EXIT_CODE.internal;
}

process.on('uncaughtException', (e) => {
  const code = report(e);
  runHardExitHooks('an unexpected error');
  process.exit(code);
});

main(process.argv).then(
  () => undefined,
  (e: unknown) => process.exit(report(e)),
);
