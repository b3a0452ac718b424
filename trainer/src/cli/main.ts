/**
 * `camd`: the headless CAMD trainer. Subcommands live in their own modules; this file only
 * parses flags (commander) and turns user errors into one plain line and a non-zero exit.
 */
import { Command, CommanderError } from 'commander';
import { collectInfo, formatInfo } from './info.js';
import { UserError } from '../util/errors.js';
import { BACKEND_NAMES } from '../backends/ladder.js';

const BACKEND_HELP = ['auto', ...BACKEND_NAMES].join(' | ');
import { selftest, type SelftestOptions } from './selftest.js';
import { scanCommand, type ScanCliOptions } from './scan.js';
import { pretrainCommand, type PretrainCliOptions } from './pretrain.js';
import { evalCommand, finetuneCommand, type EvalCliOptions, type FinetuneCliOptions } from './finetune.js';
import { exportCommand, type ExportCliOptions } from './export.js';

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
    .option('--backend <name>', `${BACKEND_HELP} (auto: the first rung that loads)`, 'auto')
    .option('--threads <n>', "wasm threads: 'auto' (one per core, at most 8) or a count", 'auto')
    .option('--preset <name>', 'model preset (micro | tiny | small | base | large | huge)', 'micro')
    .option('--batch <n>', 'batch size', '4')
    .option('--steps <n>', 'training steps', '3')
    .option('--json', 'print one JSON object')
    .action(async (opts: SelftestOptions) => selftest(opts));

  program
    .command('scan')
    .description('index a folder of images: counts, and every unreadable file with the reason')
    .argument('<dir>', 'folder of images (searched recursively)')
    .option('--db <file>', 'the store to record the index in (default ~/.camd/camd.db, or $CAMD_HOME/camd.db)')
    .option('--max-pixels <n>', 'refuse images with more pixels than this (decompression-bomb guard)', undefined)
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, opts: ScanCliOptions) => scanCommand(dir, opts));

  program
    .command('pretrain')
    .description('pre-train a CAMD encoder on a folder of face images')
    .option('--data <dir>', 'folder of face images (required unless --resume)')
    .option('--preset <name>', 'model size: tiny | small | base | large | huge (default tiny)')
    .option('--img-size <px>', 'input size in pixels, a multiple of the patch size (default: the preset\'s, 112 for tiny)')
    .option('--mask-ratio <r>', 'fraction of patches masked in view 1 (default 118/196 ≈ 0.602)')
    .option('--batch <n>', 'images per step (default 16)')
    .option('--epochs <n>', 'length of the run in epochs (default 100)')
    .option('--steps <n>', 'length of the run in steps (instead of --epochs)')
    .option('--blr <x>', 'base learning rate; lr = blr × batch / 256 (default 3.125e-5)')
    .option('--warmup-epochs <n>', 'linear warm-up length in epochs (default 5)')
    .option('--seed <n>', 'seed of every random draw (default 0)')
    .option('--backend <name>', `${BACKEND_HELP} (default auto)`)
    .option('--threads <n>', "wasm threads: 'auto' or a count (default auto)")
    .option('--out <dir>', 'run folder for checkpoints and the encoder (default runs/pretrain-<time>)')
    .option('--db <file>', 'store that records the run (default ~/.camd/camd.db)')
    .option('--resume <dir>', 'continue the run in this folder from its last checkpoint')
    .option('--checkpoint-every <n>', 'steps between checkpoints (default 500)')
    .option('--keep-checkpoints <n>', 'how many recent checkpoints to keep (default 2)')
    .option('--max-pixels <n>', 'refuse images with more pixels than this (default 50000000)')
    .option('--stop-at <step>', 'stop after this step with a checkpoint, resumable with --resume')
    .option('--json', 'print one JSON object per line instead of a progress bar')
    .action(async (opts: PretrainCliOptions) => pretrainCommand(opts));

  program
    .command('finetune')
    .description('fine-tune an encoder for facial attributes (far) or expressions (fer) and evaluate it every epoch')
    .option('--task <far|fer>', 'far: 40 binary attributes (BCE, mean accuracy); fer: one class (cross-entropy, top-1)')
    .option('--format <name>', 'celeba | lfwa | rafdb | ferplus | folders | csv')
    .option('--data <dir>', 'dataset root (for csv: the CSV file, or a folder with labels.csv)')
    .option('--init <ckpt|none>', 'a camd pretrain checkpoint or encoder.safetensors, or none (random init)')
    .option('--preset <name>', 'model size with --init none (default tiny)')
    .option('--few-shot <r>', 'train on a seeded fraction r of the training split')
    .option('--linear-probe', 'frozen encoder, cached features, train the head only')
    .option('--epochs <n>', 'epochs (default 50)')
    .option('--batch <n>', 'images per step (default 32)')
    .option('--blr <x>', 'base learning rate; lr = blr × batch / 256 (default 2.5e-4)')
    .option('--img-size <px>', "input size (default: the encoder's); pos_embed is adapted")
    .option('--warmup-epochs <n>', 'warm-up epochs (default 5)')
    .option('--layer-decay <x>', 'layer-wise lr decay (default 0.65)')
    .option('--drop-path <x>', 'maximum drop-path rate (default 0.1)')
    .option('--aa <policy>', 'RandAugment policy: rand-m9-mstd0.5-inc1 (default) or none')
    .option('--reprob <p>', 'RandomErasing probability (default 0.25)')
    .option('--min-crop-scale <s>', 'smallest RandomResizedCrop area fraction (default 0.08)')
    .option('--split <name>', 'LFWA split: random (seeded 80/10/10, default) or lfwa-release (alternate lines)')
    .option('--seed <n>', 'seed (default 0)')
    .option('--backend <name>', `${BACKEND_HELP} (default auto)`)
    .option('--threads <n>', "wasm threads: 'auto' or a count")
    .option('--out <dir>', 'run folder (default runs/finetune-<time>)')
    .option('--db <file>', 'store that records the run (default ~/.camd/camd.db)')
    .option('--json', 'one JSON object per line instead of a progress bar')
    .action(async (opts: FinetuneCliOptions) => finetuneCommand(opts));

  program
    .command('eval')
    .description('evaluate a fine-tuned classifier (best.safetensors of camd finetune) on a labelled dataset')
    .option('--checkpoint <file>', 'the fine-tuned classifier')
    .option('--task <far|fer>', 'the task it was fine-tuned for')
    .option('--format <name>', 'celeba | lfwa | rafdb | ferplus | folders | csv')
    .option('--data <dir>', 'dataset root')
    .option('--split <name>', 'LFWA split (random | lfwa-release)')
    .option('--seed <n>', 'seed of seeded splits (default 0)')
    .option('--backend <name>', `${BACKEND_HELP} (default auto)`)
    .option('--db <file>', 'store that records the evaluation')
    .option('--json', 'print JSON')
    .action(async (opts: EvalCliOptions) => evalCommand(opts));

  program
    .command('export')
    .description('export an encoder or a fine-tuned classifier as a TensorFlow.js model or as PyTorch/timm safetensors')
    .option('--checkpoint <file>', 'a camd pretrain checkpoint, encoder.safetensors, or a fine-tuned best.safetensors')
    .option('--format <name>', 'tfjs (a folder with model.json + weights.bin) or safetensors (timm / PyTorch names and layouts)')
    .option('--out <path>', 'output folder (tfjs) or file (safetensors)')
    .action(async (opts: ExportCliOptions) => exportCommand(opts));

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
