/** `camd pretrain`'s flags (cli/pretrain-flags.ts); the work is in cli/pretrain.ts, loaded when the command runs. */
import type { Command } from 'commander';
import { addPretrainFlags, type PretrainCliOptions } from '../pretrain-flags.js';

export function addPretrainCommand(program: Command): void {
  addPretrainFlags(
    program.command('pretrain').description('pre-train a CAMD encoder on a folder of face images'),
  ).action(async (opts: PretrainCliOptions) => (await import('../pretrain.js')).pretrainCommand(opts));
}
