/** `camd export`: TensorFlow.js LayersModel folder or timm/PyTorch safetensors. */
import { resolve } from 'node:path';
import { exportSafetensors, exportTfjs, readExportable } from '../finetune/export.js';
import { selectBackend } from '../backends/ladder.js';
import { UserError } from '../util/errors.js';

export interface ExportCliOptions {
  checkpoint?: string;
  format?: string;
  out?: string;
}

export async function exportCommand(o: ExportCliOptions): Promise<void> {
  if (!o.checkpoint) throw new UserError('--checkpoint is required');
  if (o.format !== 'tfjs' && o.format !== 'safetensors') throw new UserError(`--format must be tfjs or safetensors, got '${o.format ?? ''}'`);
  if (!o.out) throw new UserError('--out is required');
  const e = readExportable(resolve(o.checkpoint));
  const out = resolve(o.out);
  if (o.format === 'safetensors') exportSafetensors(e, out);
  else {
    await selectBackend('auto');
    await exportTfjs(e, out);
  }
  process.stdout.write(`${e.outputs !== null ? `classifier (${e.outputs} outputs)` : 'encoder'} ${e.model.embedDim}×${e.model.depth} at ${e.model.imgSize} px → ${out}\n`);
}
