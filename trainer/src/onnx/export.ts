/**
 * `camd export --format onnx`: an encoder or a fine-tuned classifier as one ONNX file (onnx/vit.ts),
 * with what a deployment needs to feed it in the model's metadata_props: the input size, layout
 * and channel order, how pixels are normalised and how a face is cropped, the classes, the outputs.
 */
import { VGGFACE2_MEAN, VGGFACE2_STD } from '../data/augment.js';
import type { Exportable } from '../finetune/export.js';
import { evalSide, IMAGENET_MEAN, IMAGENET_STD } from '../finetune/transforms.js';
import { writeFileAtomic } from '../store/checkpoint.js';
import { OPSET } from './graph.js';
import { type OnnxOutput, vitGraph } from './vit.js';

/** How to turn an image into `pixel_values` for this model. */
export interface OnnxPreprocessing {
  input: 'pixel_values';
  layout: 'NCHW';
  channel_order: 'RGB';
  size: number;
  /** value = (pixel / 255 − mean[c]) / std[c] */
  mean: number[];
  std: number[];
  normalisation: 'imagenet' | 'vggface2';
  crop: string;
}

export interface OnnxExportInfo {
  kind: 'encoder' | 'classifier';
  bytes: number;
  opset: number;
  preprocessing: OnnxPreprocessing;
  outputs: OnnxOutput[];
  names: string[] | null;
}

export function onnxPreprocessing(e: Exportable): OnnxPreprocessing {
  const S = e.model.imgSize;
  const classifier = e.outputs !== null;
  return {
    input: 'pixel_values',
    layout: 'NCHW',
    channel_order: 'RGB',
    size: S,
    mean: [...(classifier ? IMAGENET_MEAN : VGGFACE2_MEAN)],
    std: [...(classifier ? IMAGENET_STD : VGGFACE2_STD)],
    normalisation: classifier ? 'imagenet' : 'vggface2',
    crop: classifier
      ? `resize the face so its shorter side is ${evalSide(S)} px, then the centre ${S}×${S} (camd finetune's evaluation view)`
      : `the aligned face resized to ${S}×${S}`,
  };
}

/** The ONNX file's bytes and what it holds. */
export function onnxModel(e: Exportable, producerVersion: string): { bytes: Uint8Array; info: OnnxExportInfo } {
  if (e.geometry)
    throw new Error(
      `--format onnx exports encoders and classifiers; a ${e.geometry.task} model's head is not exported yet`,
    );
  const { graph, outputs } = vitGraph(e);
  const kind = e.outputs === null ? 'encoder' : 'classifier';
  const pre = onnxPreprocessing(e);
  const m = e.model;
  const metadata: Record<string, string> = {
    'camd.kind': kind,
    'camd.model': JSON.stringify(m),
    'camd.preprocessing': JSON.stringify(pre),
    'camd.outputs': JSON.stringify(outputs.map((o) => ({ name: o.name, dims: o.dims }))),
    ...(e.names ? { 'camd.names': JSON.stringify(e.names) } : {}),
    ...(e.task
      ? { 'camd.task': e.task === 'far' ? 'attributes (one sigmoid per name)' : 'expressions (softmax over the names)' }
      : {}),
  };
  const bytes = graph.encode({
    graphName: kind === 'encoder' ? 'camd_encoder' : 'camd_classifier',
    doc: `CAMD ViT (${m.embedDim}×${m.depth}, ${m.numHeads} heads, patch ${m.patchSize}) at ${m.imgSize} px: pixel_values (batch, 3, ${m.imgSize}, ${m.imgSize}), RGB, normalised as camd.preprocessing says`,
    producerVersion,
    metadata,
  });
  return { bytes, info: { kind, bytes: bytes.length, opset: OPSET, preprocessing: pre, outputs, names: e.names } };
}

export function exportOnnx(e: Exportable, file: string, producerVersion: string): OnnxExportInfo {
  const { bytes, info } = onnxModel(e, producerVersion);
  writeFileAtomic(file, bytes);
  return info;
}
