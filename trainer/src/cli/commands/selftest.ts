/** `camd selftest`'s flags; the work is in cli/selftest.ts, loaded when the command runs. */
import type { Command } from 'commander';
import type { SelftestOptions } from '../selftest.js';
import { BACKEND_HELP } from './backend-help.js';

export function addSelftestCommand(program: Command): void {
  program
    .command('selftest')
    .description('pick a backend as training does and run a few CAMD training steps on synthetic data')
    .option('--backend <name>', `${BACKEND_HELP} (auto: the first rung that loads)`, 'auto')
    .option('--threads <n>', "wasm threads: 'auto' (one per core, at most 8) or a count", 'auto')
    .option('--preset <name>', 'model preset (micro | tiny | small | base | large | huge)', 'micro')
    .option('--img-size <px>', "input size (default: the preset's)")
    .option('--mask-ratio <r>', 'fraction of view-1 patches masked (default 0.602)')
    .option('--batch <n>', 'batch size', '4')
    .option('--steps <n>', 'training steps', '3')
    .option('--recompute <mode>', 'recompute activations in the backward pass: auto, on, off', 'auto')
    .option('--json', 'print one JSON object')
    .action(async (opts: SelftestOptions) => (await import('../selftest.js')).selftest(opts));
}
