/** `camd pseudo-label`'s flags; the work is in cli/pseudo-label.ts, loaded when the command runs. */
import type { Command } from 'commander';
import type { PseudoLabelCliOptions } from '../pseudo-label.js';

export function addPseudoLabelCommand(program: Command): void {
  program
    .command('pseudo-label')
    .description(
      "write the bundled face model's guesses as labels beside each face of a folder (pseudo-labels, not human annotations): --task landmarks writes 300W .pts files (68 points), --task pose 300W-LP .mat files (head pose), --task parsing LaPa label maps under labels/",
    )
    .argument('<dir>', 'a folder of faces (the crops of camd scan --faces, or face photos)')
    .option('--task <task>', 'landmarks, pose or parsing', 'landmarks')
    .option('--overwrite', 'write over .pts files already there (default: keep them)')
    .option('--json', 'print the report as one JSON object')
    .action(async (dir: string, opts: PseudoLabelCliOptions) =>
      (await import('../pseudo-label.js')).pseudoLabelCommand(dir, opts),
    );
}
