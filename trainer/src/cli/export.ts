/** `camd export`: TensorFlow.js LayersModel folder or timm/PyTorch safetensors. */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { exportSafetensors, exportTfjs, readExportable } from '../finetune/export.js';
import { selectBackend } from '../backends/ladder.js';
import { UserError } from '../util/errors.js';
import { reasonOf } from '../util/system-errors.js';

export interface ExportCliOptions {
  checkpoint?: string;
  format?: string;
  out?: string;
}

/** Refuses, before any work, an output whose nearest existing folder cannot be written. */
function writable(target: string, shown: string): void {
  let dir = target;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new UserError(`--out ${shown}: cannot write in ${dir}: ${reasonOf(e)}`);
  }
}

export async function exportCommand(o: ExportCliOptions): Promise<void> {
  if (!o.checkpoint) throw new UserError('--checkpoint is required');
  if (o.format !== 'tfjs' && o.format !== 'safetensors') throw new UserError(`--format must be tfjs or safetensors, got '${o.format ?? ''}'`);
  if (!o.out) throw new UserError('--out is required');
  const out = resolve(o.out);
  const kind = existsSync(out) ? (statSync(out).isDirectory() ? 'folder' : 'file') : null;
  if (o.format === 'safetensors') {
    if (kind === 'folder') throw new UserError(`--out ${o.out} is a folder; safetensors export writes one file (e.g. ${o.out}/encoder.safetensors)`);
    const parent = dirname(out);
    if (!existsSync(parent)) throw new UserError(`--out ${o.out}: the folder ${parent} does not exist`);
    if (!statSync(parent).isDirectory()) throw new UserError(`--out ${o.out}: ${parent} is a file, not a folder`);
  } else if (kind === 'file') throw new UserError(`--out ${o.out} is a file; tfjs export writes a folder (model.json + weights.bin)`);
  writable(o.format === 'safetensors' ? dirname(out) : out, o.out);
  const e = readExportable(resolve(o.checkpoint));
  if (o.format === 'safetensors') exportSafetensors(e, out);
  else {
    await selectBackend('auto');
    await exportTfjs(e, out);
  }
  process.stdout.write(`${e.outputs !== null ? `classifier (${e.outputs} outputs)` : 'encoder'} ${e.model.embedDim}×${e.model.depth} at ${e.model.imgSize} px → ${out}\n`);
}
