/** `camd predict`'s and `camd label-curve`'s flags; the work is in cli/predict.ts, loaded when a command runs. */
import type { Command } from 'commander';
import type { LabelCurveCliOptions, PredictCliOptions } from '../predict.js';
import { BACKEND_HELP } from './backend-help.js';

export function addPredictCommand(program: Command): void {
  program
    .command('predict')
    .description(
      "a fine-tuned model's predictions on every face of a dataset of the store, for model-assisted labelling (kept apart from labels); a face-alignment, head-pose or face-parsing model on the faces of a folder or an image",
    )
    .option(
      '--checkpoint <file>',
      'the fine-tuned classifier (best.safetensors or last.safetensors of camd finetune), or a face-alignment, head-pose or face-parsing model (landmarks.safetensors, pose.safetensors, parsing.safetensors)',
    )
    .option(
      '--onnx <file>',
      'instead of --checkpoint: a file of camd export --format onnx (a classifier, face-alignment, head-pose or parsing model), run in ONNX Runtime, to check it gives what its checkpoint gives',
    )
    .option(
      '--data <dir>',
      'the dataset folder (added in the app or with camd scan); for a face-alignment, head-pose or parsing model: a folder or an image',
    )
    .option(
      '--write-pts',
      "points: write each image's points as a .pts file beside it (the layout --format 300w reads)",
    )
    .option(
      '--write-png',
      "parsing: write each image's label map as labels/<image's path>.png under the folder (LaPa's layout, --format lapa reads it)",
    )
    .option('--schema <name|id>', "the dataset's label schema: the model's classes or attributes, by name")
    .option('--run-id <id>', 'whose predictions these are (default: the run the checkpoint belongs to)')
    .option('--backend <name>', `${BACKEND_HELP} (default auto)`)
    .option('--db <file>', 'the store (default ~/.camd/camd.db)')
    .option('--json', 'one JSON object per line; the last is {"type":"done","kind":"predict",…}')
    .action(async (opts: PredictCliOptions) => (await import('../predict.js')).predictCommand(opts));
}

export function addLabelCurveCommand(program: Command): void {
  program
    .command('label-curve')
    .description(
      '"labels needed": quick linear probes on an encoder\'s features as the labels of a schema grow, and what the curve says',
    )
    .option('--encoder <file>', 'a camd pretrain checkpoint or encoder.safetensors')
    .option('--data <dir>', 'the dataset folder (added in the app or with camd scan)')
    .option(
      '--write-png',
      "parsing: write each image's label map as labels/<image's path>.png under the folder (LaPa's layout, --format lapa reads it)",
    )
    .option('--schema <name|id>', "the dataset's label schema")
    .option('--labels <which>', "human (people's and files' labels, default) or human+accepted")
    .option('--seed <n>', 'seed of the subsets (and of a split, where faces have none); default 0')
    .option('--backend <name>', `${BACKEND_HELP} (default auto)`)
    .option('--db <file>', 'the store (default ~/.camd/camd.db)')
    .option('--json', 'print one JSON object {metric, points, hint, features, seconds}')
    .action(async (opts: LabelCurveCliOptions) => (await import('../predict.js')).labelCurveCommand(opts));
}
