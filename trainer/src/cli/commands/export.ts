/** `camd export`'s flags; the work is in cli/export.ts, loaded when the command runs. */
import type { Command } from 'commander';
import type { ExportCliOptions } from '../export.js';

export function addExportCommand(program: Command): void {
  program
    .command('export')
    .description(
      'export any model as one ONNX file for ONNX Runtime; an encoder or a fine-tuned classifier also as a TensorFlow.js model, PyTorch/timm safetensors or .pth; a landmarks, pose or parsing model also as safetensors or .pth',
    )
    .option(
      '--checkpoint <file>',
      'a camd pretrain checkpoint, encoder.safetensors, a fine-tuned best.safetensors, or landmarks / pose / parsing.safetensors',
    )
    .option(
      '--format <name>',
      "onnx (one .onnx file for ONNX Runtime: pixel_values (batch, 3, S, S) → an encoder's embedding and patch_features, a classifier's logits and embedding, landmarks, six_d and rotation, or a parsing model's per-pixel logits; opset 17, the preprocessing in its metadata), tfjs (a folder with model.json + weights.bin), safetensors (timm / PyTorch names and layouts) pytorch (a .pth that torch.load(weights_only=True) reads: {'model': state_dict}) or camd-pth (a pre-training checkpoint in the released models_CAMD.py layout)",
    )
    .option('--out <path>', 'output folder (tfjs) or file (onnx, safetensors, pytorch, camd-pth)')
    .option('--json', 'print one JSON object: the file, its size, the input it expects and its outputs')
    .action(async (opts: ExportCliOptions) => (await import('../export.js')).exportCommand(opts));
}
