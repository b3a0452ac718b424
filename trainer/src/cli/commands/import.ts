/** `camd import`'s, `camd import-run`'s and `camd cluster-pack`'s flags; the work is in cli/import.ts, loaded when a command runs. */
import type { Command } from 'commander';
import type { ClusterPackCliOptions, ImportCliOptions, ImportRunCliOptions } from '../import.js';

export function addImportCommand(program: Command): void {
  program
    .command('import')
    .description(
      'a PyTorch ViT encoder (.pth/.pt: timm or MAE ViT weights, a released CAMD classifier or pre-training checkpoint) as our encoder file, or with --head a fine-tuned classifier as ours',
    )
    .argument(
      '<file>',
      'the PyTorch file (torch.save zip format; read without Python and without running anything in it)',
    )
    .option('--out <file>', 'the encoder file to write (e.g. encoder.safetensors)')
    .option('--teacher', 'from a CAMD pre-training checkpoint: the momentum (mm_*) encoder instead of the online one')
    .option(
      '--preset <name>',
      'the preset whose head count the weights have (default: the preset of their width and depth)',
    )
    .option(
      '--head <classes>',
      'a fine-tuned classifier (fc_norm + head) as our classifier file: the classes its head was trained on — rafdb, ferplus, celeba, lfwa, or fer:A,B,… / far:A,B,…',
    )
    .option('--db <file>', 'with --head: the store that records it as a fine-tuned run (default ~/.camd/camd.db)')
    .option('--json', 'print one JSON object')
    .action(async (file: string, opts: ImportCliOptions) => (await import('../import.js')).importCommand(file, opts));
}

export function addImportRunCommand(program: Command): void {
  program
    .command('import-run')
    .description(
      'a run of the released scripts (torchrun CAMD_pretrain.py / CAMD_finetune.py: its --output_dir with log.txt and checkpoint-*.pth) into the store, beside local runs',
    )
    .argument('<dir>', "the run's output folder")
    .option('--name <name>', 'the run\'s name in the store (default: "<folder> (torchrun)")')
    .option('--db <file>', 'the store (default ~/.camd/camd.db)')
    .option('--json', 'print one JSON object')
    .action(async (dir: string, opts: ImportRunCliOptions) =>
      (await import('../import.js')).importRunCommand(dir, opts),
    );
}

export function addClusterPackCommand(program: Command): void {
  program
    .command('cluster-pack')
    .description(
      "what a GPU box needs to go on with a run under torchrun with the released code: the images as its loader reads them, the run's checkpoint, camd_launch.py (runs the released CAMD_pretrain.py, supplying what it lacks), run.sh with the flags, flags.json",
    )
    .argument('<run>', 'a camd pretrain run folder')
    .option('--out <dir>', 'the folder to write')
    .option('--gpus <n>', 'GPUs on the box (the batch is split over them; default 8)')
    .option(
      '--preset <name>',
      'a new run of another size there: base, large or huge at 224 px, without the checkpoint (default: the run itself, at its own size)',
    )
    .option('--copy', 'copy the images instead of linking them')
    .option('--json', 'print one JSON object')
    .action(async (run: string, opts: ClusterPackCliOptions) =>
      (await import('../import.js')).clusterPackCommand(run, opts),
    );
}
