/** `camd probe`'s flags; the work is in cli/probe.ts, loaded when the command runs. */
import type { Command } from 'commander';
import type { ProbeCliOptions } from '../probe.js';
import { BACKEND_HELP } from './backend-help.js';

export function addProbeCommand(program: Command): void {
  program
    .command('probe')
    .description(
      'is the representation good for faces? k-NN and linear-probe accuracy of encoders on a labelled folder, in one table',
    )
    .option(
      '--checkpoint <file>',
      'a pre-training checkpoint, encoder.safetensors or fine-tuned classifier (repeat to compare several)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--random', 'also an untrained network of the same architecture')
    .option('--pixels', 'also the raw-pixel baseline (no network)')
    .option(
      '--control',
      'also the positive control: the face-description network of @vladmandic/human (a probe set it cannot rank above the others has no signal)',
    )
    .option('--data <dir>', 'the labelled folder')
    .option('--format <f>', 'its labels: celeba, lfwa, rafdb, ferplus, folders, csv or store')
    .option('--schema <name|id>', "with --format store: the dataset's label schema")
    .option('--preset <name>', 'architecture of --random without a checkpoint (default tiny)')
    .option('--img-size <px>', 'input size of --random without a checkpoint')
    .option('--seed <n>', 'seed of the 70/30 split of a folder without held-out faces (default 0)')
    .option(
      '--folds <k>',
      'k-fold cross-validation over every probe face instead of the split (steadier on small probe sets)',
    )
    .option('--backend <name>', `${BACKEND_HELP} (default auto)`)
    .option('--db <file>', 'the store (default ~/.camd/camd.db)')
    .option('--json', 'one JSON object {type: "probe", task, classes, split, rows}')
    .action(async (opts: ProbeCliOptions) => (await import('../probe.js')).probeCommand(opts));
}
