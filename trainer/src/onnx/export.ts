/**
 * `camd export --format onnx`: an encoder, a fine-tuned classifier, a face-alignment, head-pose or
 * face-parsing model as one ONNX file (onnx/vit.ts, onnx/heads.ts),
 * with what a deployment needs to feed it in the model's metadata_props: the input size, layout
 * and channel order, how pixels are normalised and how a face is cropped, the classes, the outputs.
 */
import { VGGFACE2_MEAN, VGGFACE2_STD } from '../data/augment.js';
import { type Exportable, exportedNames } from '../finetune/export.js';
import { evalSide, IMAGENET_MEAN, IMAGENET_STD } from '../finetune/transforms.js';
import { writeFileAtomic } from '../store/checkpoint.js';
import { OPSET, weightsTooLarge } from './graph.js';
import { UserError } from '../util/errors.js';
import type { OnnxOutput } from './vit.js';
import { modelGraph } from './heads.js';

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

export type OnnxModelKind = 'encoder' | 'classifier' | 'landmarks' | 'pose' | 'parsing';

export interface OnnxExportInfo {
  kind: OnnxModelKind;
  bytes: number;
  opset: number;
  preprocessing: OnnxPreprocessing;
  outputs: OnnxOutput[];
  names: string[] | null;
}

export function onnxPreprocessing(e: Exportable): OnnxPreprocessing {
  const S = e.model.imgSize;
  const encoder = e.outputs === null;
  return {
    input: 'pixel_values',
    layout: 'NCHW',
    channel_order: 'RGB',
    size: S,
    mean: [...(encoder ? VGGFACE2_MEAN : IMAGENET_MEAN)],
    std: [...(encoder ? VGGFACE2_STD : IMAGENET_STD)],
    normalisation: encoder ? 'vggface2' : 'imagenet',
    crop: e.geometry
      ? `the face cut out as training cut it (its box made square around the face), resized to ${S}×${S}`
      : encoder
        ? `the aligned face resized to ${S}×${S}`
        : `resize the face so its shorter side is ${evalSide(S)} px, then the centre ${S}×${S} (camd finetune's evaluation view)`,
  };
}

/** The ONNX file's bytes and what it holds. */
export function onnxModel(e: Exportable, producerVersion: string): { bytes: Uint8Array; info: OnnxExportInfo } {
  // before any copy is made (a ViT-H's are 2.5 GB): the file's weights are the model's tensors
  let weights = 0;
  for (const name of exportedNames(e)) weights += e.tensors.get(name)!.data.length * 4;
  for (const t of e.geometry?.extra ?? []) weights += t.data.length * 4;
  const tooLarge = weightsTooLarge(weights);
  if (tooLarge) throw new UserError(tooLarge);
  const { g, outputs } = modelGraph(e);
  const built = weightsTooLarge(g.weightBytes);
  if (built) throw new UserError(built);
  const kind: OnnxModelKind = e.geometry ? e.geometry.task : e.outputs === null ? 'encoder' : 'classifier';
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
    ...(e.geometry ? { 'camd.head': JSON.stringify(e.geometry.meta) } : {}),
  };
  const bytes = g.encode({
    graphName: `camd_${kind}`,
    doc: `CAMD ViT (${m.embedDim}×${m.depth}, ${m.numHeads} heads, patch ${m.patchSize}) at ${m.imgSize} px, ${kind}: pixel_values (batch, 3, ${m.imgSize}, ${m.imgSize}), RGB, normalised as camd.preprocessing says`,
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
