/**
 * `camd finetune`'s and `camd eval`'s flags (cli/finetune-flags.ts); the work is in cli/finetune.ts,
 * loaded when a command runs.
 */
import type { Command } from 'commander';
import { addEvalFlags, addFinetuneFlags, type EvalCliOptions, type FinetuneCliOptions } from '../finetune-flags.js';

export function addFinetuneCommand(program: Command): void {
  addFinetuneFlags(
    program
      .command('finetune')
      .description('fine-tune an encoder for facial attributes (far) or expressions (fer) and evaluate it every epoch'),
  ).action(async (opts: FinetuneCliOptions) => (await import('../finetune.js')).finetuneCommand(opts));
}

export function addEvalCommand(program: Command): void {
  addEvalFlags(
    program
      .command('eval')
      .description('evaluate a fine-tuned classifier (best.safetensors of camd finetune) on a labelled dataset'),
  ).action(async (opts: EvalCliOptions) => (await import('../finetune.js')).evalCommand(opts));
}
