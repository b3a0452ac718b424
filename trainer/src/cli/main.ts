/**
 * `camd`: the headless CAMD trainer. Subcommands live in their own modules; this file only
 * parses flags (commander) and turns user errors into one plain line and a non-zero exit.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT_CODE } from '../util/errors.js';
import { describeUserFacing } from '../util/system-errors.js';
import { runHardExitHooks } from '../util/exit-hooks.js';
import type { SelftestOptions } from './selftest.js';
import type { ScanCliOptions } from './scan.js';
import type { ProbeCliOptions } from './probe.js';
import type { SeeCliOptions } from './see.js';
import type { ClusterPackCliOptions, ImportCliOptions, ImportRunCliOptions } from './import.js';
import { addPretrainFlags, type PretrainCliOptions } from './pretrain-flags.js';
import type { EvalCliOptions, FinetuneCliOptions } from './finetune.js';
import type { ExportCliOptions } from './export.js';
import type { LabelCurveCliOptions, PredictCliOptions } from './predict.js';

import { BACKEND_NAMES } from '../backends/names.js';

const BACKEND_HELP = ['auto', ...BACKEND_NAMES].join(' | ');

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program
    .name('camd')
    .description('CAMD Studio trainer: Context-Aware Masked Distillation for facial representation learning')
    .version(version(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({
      // one line: "camd: unknown option '--x' (camd pretrain --help lists the flags)"
      outputError: (str, write) =>
        write(
          `camd: ${str
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' ')} (camd --help lists the commands)\n`,
        ),
    });

  program
    .command('info')
    .description('show every TensorFlow.js backend of the ladder: whether it loads, why not, versions')
    .option('--json', 'print JSON (an object keyed by backend name)')
    .action(async (opts: { json?: boolean }) => {
      const { collectInfo, formatInfo } = await import('./info.js');
      const info = await collectInfo();
      process.stdout.write(opts.json ? `${JSON.stringify(info, null, 2)}\n` : `${formatInfo(info)}\n`);
    });

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
    .action(async (opts: SelftestOptions) => (await import('./selftest.js')).selftest(opts));

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
    .option('--min-score <s>', 'with --faces: detection confidence below which a face is not kept (default 0.5)')
    .option(
      '--min-face <px>',
      'with --faces: face size in photo pixels (max of 2× eye distance, 1.8× eye-to-mouth) below which a face is not kept (default 40)',
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
    .action(async (dir: string, opts: ScanCliOptions) => (await import('./scan.js')).scanCommand(dir, opts));

  addPretrainFlags(
    program.command('pretrain').description('pre-train a CAMD encoder on a folder of face images'),
  ).action(async (opts: PretrainCliOptions) => (await import('./pretrain.js')).pretrainCommand(opts));

  program
    .command('finetune')
    .description('fine-tune an encoder for facial attributes (far) or expressions (fer) and evaluate it every epoch')
    .option('--task <far|fer>', 'far: 40 binary attributes (BCE, mean accuracy); fer: one class (cross-entropy, top-1)')
    .option('--format <name>', 'celeba | lfwa | rafdb | ferplus | folders | csv | store (labels made in the app)')
    .option('--data <dir>', 'dataset root (for csv: the CSV file, or a folder with labels.csv)')
    .option('--schema <name|id>', "--format store: the dataset's label schema")
    .option(
      '--labels <which>',
      "--format store: human (people's and files' labels, default) or human+accepted (accepted predictions too)",
    )
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
    .option(
      '--recompute <mode>',
      'recompute activations in the backward pass to save memory: auto (when the step would not fit the wasm heap otherwise), on, off (default auto)',
    )
    .option('--out <dir>', 'run folder (default runs/finetune-<time>)')
    .option('--db <file>', 'store that records the run (default ~/.camd/camd.db)')
    .option('--json', 'one JSON object per line instead of a progress bar')
    .action(async (opts: FinetuneCliOptions) => (await import('./finetune.js')).finetuneCommand(opts));

  program
    .command('eval')
    .description('evaluate a fine-tuned classifier (best.safetensors of camd finetune) on a labelled dataset')
    .option('--checkpoint <file>', 'the fine-tuned classifier')
    .option('--task <far|fer>', 'the task it was fine-tuned for')
    .option('--format <name>', 'celeba | lfwa | rafdb | ferplus | folders | csv | store')
    .option('--data <dir>', 'dataset root')
    .option('--schema <name|id>', "--format store: the dataset's label schema")
    .option('--labels <which>', '--format store: human (default) or human+accepted')
    .option('--split <name>', 'LFWA split (random | lfwa-release)')
    .option('--seed <n>', 'seed of seeded splits (default 0)')
    .option('--backend <name>', `${BACKEND_HELP} (default auto)`)
    .option('--db <file>', 'store that records the evaluation')
    .option('--json', 'print JSON')
    .action(async (opts: EvalCliOptions) => (await import('./finetune.js')).evalCommand(opts));

  program
    .command('predict')
    .description(
      "a fine-tuned model's predictions on every face of a dataset of the store, for model-assisted labelling (kept apart from labels)",
    )
    .option('--checkpoint <file>', 'the fine-tuned classifier (best.safetensors or last.safetensors of camd finetune)')
    .option('--data <dir>', 'the dataset folder (added in the app or with camd scan)')
    .option('--schema <name|id>', "the dataset's label schema: the model's classes or attributes, by name")
    .option('--run-id <id>', 'whose predictions these are (default: the run the checkpoint belongs to)')
    .option('--backend <name>', `${BACKEND_HELP} (default auto)`)
    .option('--db <file>', 'the store (default ~/.camd/camd.db)')
    .option('--json', 'one JSON object per line; the last is {"type":"done","kind":"predict",…}')
    .action(async (opts: PredictCliOptions) => (await import('./predict.js')).predictCommand(opts));

  program
    .command('label-curve')
    .description(
      '"labels needed": quick linear probes on an encoder\'s features as the labels of a schema grow, and what the curve says',
    )
    .option('--encoder <file>', 'a camd pretrain checkpoint or encoder.safetensors')
    .option('--data <dir>', 'the dataset folder (added in the app or with camd scan)')
    .option('--schema <name|id>', "the dataset's label schema")
    .option('--labels <which>', "human (people's and files' labels, default) or human+accepted")
    .option('--seed <n>', 'seed of the subsets (and of a split, where faces have none); default 0')
    .option('--backend <name>', `${BACKEND_HELP} (default auto)`)
    .option('--db <file>', 'the store (default ~/.camd/camd.db)')
    .option('--json', 'print one JSON object {metric, points, hint, features, seconds}')
    .action(async (opts: LabelCurveCliOptions) => (await import('./predict.js')).labelCurveCommand(opts));

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
    .action(async (opts: ProbeCliOptions) => (await import('./probe.js')).probeCommand(opts));

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
    .action(async (opts: SeeCliOptions) => (await import('./see.js')).seeCommand(opts));

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
    .action(async (file: string, opts: ImportCliOptions) => (await import('./import.js')).importCommand(file, opts));

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
      (await import('./import.js')).importRunCommand(dir, opts),
    );

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
      (await import('./import.js')).clusterPackCommand(run, opts),
    );

  program
    .command('worker')
    .description(
      "run one job driven by JSON commands on stdin (the app's supervisor starts runs this way; docs/library.md: worker protocol)",
    )
    .action(async () => (await import('./worker.js')).workerCommand());

  program
    .command('export')
    .description('export an encoder or a fine-tuned classifier as a TensorFlow.js model or as PyTorch/timm safetensors')
    .option('--checkpoint <file>', 'a camd pretrain checkpoint, encoder.safetensors, or a fine-tuned best.safetensors')
    .option(
      '--format <name>',
      "tfjs (a folder with model.json + weights.bin), safetensors (timm / PyTorch names and layouts) pytorch (a .pth that torch.load(weights_only=True) reads: {'model': state_dict}) or camd-pth (a pre-training checkpoint in the released models_CAMD.py layout)",
    )
    .option('--out <path>', 'output folder (tfjs) or file (safetensors)')
    .action(async (opts: ExportCliOptions) => (await import('./export.js')).exportCommand(opts));

  for (const c of program.commands) {
    c.exitOverride().configureOutput({
      outputError: (str, write) =>
        write(
          `camd: ${str
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' ')} (camd ${c.name()} --help lists the flags)\n`,
        ),
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
