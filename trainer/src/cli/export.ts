/** `camd export`: one ONNX file (any model), a TensorFlow.js LayersModel folder, timm/PyTorch safetensors, or a PyTorch .pth (a face-geometry model: ONNX and the latter two). */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Exportable, exportSafetensors, exportTfjs, readExportable, torchTensors } from '../finetune/export.js';
import { readGeometryExportable } from '../interop/geometry-export.js';
import { type PickleValue, writeTorchFile } from '../interop/torch-write.js';
import { selectBackend } from '../backends/ladder.js';
import { UserError } from '../util/errors.js';
import { reasonOf } from '../util/system-errors.js';

export interface ExportCliOptions {
  checkpoint?: string;
  format?: string;
  out?: string;
  json?: boolean;
}

const FORMATS = ['onnx', 'tfjs', 'safetensors', 'pytorch', 'camd-pth'] as const;

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
  if (!(FORMATS as readonly string[]).includes(o.format ?? ''))
    throw new UserError(`--format must be onnx, tfjs, safetensors, pytorch or camd-pth, got '${o.format ?? ''}'`);
  if (!o.out) throw new UserError('--out is required');
  const out = resolve(o.out);
  const kind = existsSync(out) ? (statSync(out).isDirectory() ? 'folder' : 'file') : null;
  const oneFile = o.format !== 'tfjs';
  if (oneFile) {
    if (kind === 'folder')
      throw new UserError(
        `--out ${o.out} is a folder; ${o.format} export writes one file (e.g. ${o.out}/${o.format === 'pytorch' ? 'encoder.pth' : o.format === 'onnx' ? 'model.onnx' : 'encoder.safetensors'})`,
      );
    const parent = dirname(out);
    if (!existsSync(parent)) throw new UserError(`--out ${o.out}: the folder ${parent} does not exist`);
    if (!statSync(parent).isDirectory()) throw new UserError(`--out ${o.out}: ${parent} is a file, not a folder`);
  } else if (kind === 'file')
    throw new UserError(`--out ${o.out} is a file; tfjs export writes a folder (model.json + weights.bin)`);
  writable(oneFile ? dirname(out) : out, o.out);
  if (o.format === 'camd-pth') return exportReleased(resolve(o.checkpoint), out);
  const e = readGeometryExportable(resolve(o.checkpoint)) ?? readExportable(resolve(o.checkpoint));
  if (o.format === 'onnx') return exportOnnxFile(e, out, o.json ?? false);
  if (e.geometry && o.format === 'tfjs')
    throw new UserError(
      `--format tfjs exports an encoder or a classifier; a ${e.geometry.task} model's head is not a graph of standard TensorFlow.js layers: export it with --format onnx, safetensors or pytorch`,
    );
  if (o.format === 'safetensors') exportSafetensors(e, out);
  else if (o.format === 'pytorch') {
    // {'model': state_dict}, as the released fine-tuning script and timm's loaders read it; a geometry
    // model's metadata beside it as one JSON string (older torch's weights_only loader refuses pickled floats)
    const sd = new Map(torchTensors(e).map((t) => [t.name, { shape: t.shape, data: t.data }]));
    const root = new Map<string, PickleValue>([['model', sd]]);
    if (e.geometry) root.set('camd', JSON.stringify({ ...e.geometry.meta, model: e.model }));
    await writeTorchFile(out, root);
  } else {
    await selectBackend('auto');
    await exportTfjs(e, out);
  }
  const what = e.geometry
    ? `${e.geometry.task} model (${e.geometry.task === 'landmarks' ? `${e.outputs} points` : e.geometry.task === 'pose' ? '6-D rotation' : `${e.outputs} classes`})`
    : e.outputs !== null
      ? `classifier (${e.outputs} outputs)`
      : 'encoder';
  process.stdout.write(`${what} ${e.model.embedDim}×${e.model.depth} at ${e.model.imgSize} px → ${out}\n`);
}

/** The ONNX file, and what it expects and gives, in words or as one JSON object. */
async function exportOnnxFile(e: Exportable, out: string, json: boolean): Promise<void> {
  const { exportOnnx } = await import('../onnx/export.js');
  const info = exportOnnx(e, out, packageVersion());
  if (json) {
    const { kind: exported, ...rest } = info;
    process.stdout.write(
      `${JSON.stringify({ type: 'done', kind: 'export', format: 'onnx', file: out, exported, ...rest })}\n`,
    );
    return;
  }
  const p = info.preprocessing;
  const m = e.model;
  process.stdout.write(
    `${{ classifier: `classifier (${e.outputs} outputs)`, landmarks: `landmarks model (${e.outputs} points)`, pose: 'pose model (6-D rotation)', parsing: `parsing model (${e.outputs} classes)`, encoder: 'encoder' }[info.kind]} ${m.embedDim}×${m.depth} at ${m.imgSize} px → ${out} (${(info.bytes / 2 ** 20).toFixed(1)} MiB, ONNX opset ${info.opset})\n` +
      `  input  pixel_values (batch, 3, ${p.size}, ${p.size}) float32, RGB, (pixel/255 − mean)/std with mean [${p.mean}] std [${p.std}]; ${p.crop}\n` +
      info.outputs.map((x) => `  output ${x.name} (${x.dims.join(', ')}): ${x.doc}\n`).join(''),
  );
}

/** This package's version (the ONNX file's producer_version). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** A pre-training checkpoint in the released layout: {'model', 'optimizer', 'epoch'} (interop/camd-released.ts). */
async function exportReleased(file: string, out: string): Promise<void> {
  const { CHECKPOINT_FORMAT, readTensorFile } = await import('../store/checkpoint.js');
  const { releasedCheckpoint } = await import('../interop/camd-released.js');
  let ck;
  try {
    ck = readTensorFile(file, CHECKPOINT_FORMAT);
  } catch (e) {
    throw new UserError(`${(e as Error).message} (--format camd-pth takes a camd pretrain checkpoint)`);
  }
  let r;
  try {
    r = releasedCheckpoint(ck, file);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  await writeTorchFile(out, r.value);
  const partial =
    r.stepsIntoEpoch > 0
      ? `; its ${r.stepsIntoEpoch} step(s) into epoch ${r.epoch + 2} are not counted there: CAMD_pretrain.py --resume starts that epoch afresh`
      : '';
  process.stdout.write(
    `pre-training checkpoint (step ${r.step}, ${r.epoch + 1} epoch(s) done${partial}) with its AdamW state, in the released models_CAMD.py layout → ${out}\n`,
  );
}
