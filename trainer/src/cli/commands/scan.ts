/** `camd scan`'s flags; the work is in cli/scan.ts, loaded when the command runs. */
import type { Command } from 'commander';
import type { ScanCliOptions } from '../scan.js';
import { FACES_DEFAULTS } from '../../protocol/defaults.js';

export function addScanCommand(program: Command): void {
  program
    .command('scan')
    .description('index a folder of images: counts, and every unreadable file with the reason')
    .argument('<dir>', 'folder of images (searched recursively)')
    .option('--db <file>', 'the store to record the index in (default ~/.camd/camd.db, or $CAMD_HOME/camd.db)')
    .option('--max-pixels <n>', 'refuse images with more pixels than this (decompression-bomb guard)', undefined)
    .option('--json', 'print the report as JSON')
    .option(
      '--faces',
      'also find, align and crop every face into a derived dataset (a folder of face crops to pre-train on)',
    )
    .option('--faces-out <dir>', 'with --faces: where the crops go (default: faces/<folder>-<hash> beside the store)')
    .option(
      '--min-score <s>',
      `with --faces: confidence that it is a face (the geometric mean of the box detector's and the face mesh's), below which a face is not kept (default ${FACES_DEFAULTS.minScore})`,
    )
    .option(
      '--min-face <px>',
      `with --faces: face size in photo pixels (max of 2× eye distance, 1.8× eye-to-mouth) below which a face is not kept (default ${FACES_DEFAULTS.minFace})`,
    )
    .option(
      '--margin <m>',
      'with --faces: border around the face on each side, as a fraction of the face size (default 0.5: FFHQ framing; 0: tight)',
    )
    .option(
      '--face-size <px>',
      'with --faces: side of the square crops (default 258, the decode cache side for 224-px training)',
    )
    .option(
      '--tiles <n>',
      'with --faces: also read each photo as n×n overlapping tiles, for small faces in group photos (default 1: the whole photo; 2–3 cost 5–10× the time)',
    )
    .option(
      '--dedupe <bits>',
      'with --faces: collapse faces whose crops are within this many dHash bits of an earlier face (burst photos, video frames); near-duplicates are reported either way',
    )
    .action(async (dir: string, opts: ScanCliOptions) => (await import('../scan.js')).scanCommand(dir, opts));
}
