/** `camd see`'s flags; the work is in cli/see.ts, loaded when the command runs. */
import type { Command } from 'commander';
import type { SeeCliOptions } from '../see.js';
import { BACKEND_HELP } from './backend-help.js';

export function addSeeCommand(program: Command): void {
  program
    .command('see')
    .description(
      "what the model sees: per-patch prediction quality and the teacher's attention over one face (--image), or a 2-D map of a folder's faces (--data)",
    )
    .option(
      '--checkpoint <file>',
      'a pre-training checkpoint (--data also takes an encoder or a fine-tuned classifier)',
    )
    .option('--image <file>', 'one face: writes prediction.png, attention.png and face.json')
    .option('--data <dir>', 'a folder: writes projection.png and projection.json')
    .option(
      '--format <f>',
      'with --data: its labels (celeba, lfwa, rafdb, ferplus, folders, csv or store) to colour the map',
    )
    .option('--schema <name|id>', 'with --format store: the label schema')
    .option('--mask-ratio <r>', "with --image: the student's mask ratio (default: the run's)")
    .option('--seed <n>', 'with --image: the seed of the block mask (default 0)')
    .option('--out <dir>', 'where the pictures go (default ./see)')
    .option('--backend <name>', `${BACKEND_HELP} (default auto)`)
    .option('--db <file>', 'the store (default ~/.camd/camd.db)')
    .option('--json', 'one JSON object {type: "see", files, face | projection}')
    .action(async (opts: SeeCliOptions) => (await import('../see.js')).seeCommand(opts));
}
