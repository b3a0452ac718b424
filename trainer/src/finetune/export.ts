/**
 * Exports an encoder, a fine-tuned classifier or a face-geometry model (landmarks, pose, parsing:
 * safetensors and .pth only; interop/geometry-export.ts reads one) for use outside CAMD Studio:
 *  - safetensors with the timm / PyTorch names and layouts of method.md §2 and §5
 *    (Linear weights (out, in), patch_embed.proj.weight (C, 3, p, p)), loadable with
 *    `safetensors.torch.load_file` into timm's VisionTransformer (global_pool='avg');
 *  - a TensorFlow.js LayersModel directory (model.json + weights.bin) built only from standard
 *    layers, loadable with `tf.loadLayersModel` in a browser. The fixed pos_embed and the cls
 *    token enter as constant Dense outputs (zero kernel, the constant as bias), attention heads
 *    as Dense + Dot layers.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  readTensorFile,
  encodeTensorFile,
  writeFileAtomic,
  type NamedArray,
  CHECKPOINT_FORMAT,
  ENCODER_FORMAT,
} from '../store/checkpoint.js';
import { readEncoder } from './classifier.js';
import { CLASSIFIER_FORMAT } from './classifier-file.js';
import { ModelConfigSchema, type ModelConfig } from '../model/config.js';
import { UserError } from '../util/errors.js';
import { makeFolder } from '../util/system-errors.js';
import { z } from 'zod';

export interface Exportable {
  model: ModelConfig;
  tensors: Map<string, NamedArray>;
  /** Head outputs when the file is a fine-tuned classifier (or a geometry model's); null for an encoder. */
  outputs: number | null;
  /** A classifier's task: attributes (far, one sigmoid each) or expressions (fer, one softmax); null otherwise. */
  task?: 'far' | 'fer' | null;
  names: string[] | null;
  /** A face-geometry model (landmarks, pose, parsing; interop/geometry-export.ts reads one): null otherwise. */
  geometry: {
    task: 'landmarks' | 'pose' | 'parsing';
    /** The exported file's metadata: task, scheme, classes or points, input, the head in words. */
    meta: Record<string, unknown>;
    /** Our tensors the export leaves out. */
    unused: (name: string) => boolean;
    /** The head's tensors beyond fc_norm/head, already in PyTorch's layout (parsing's convolutions). */
    extra: NamedArray[];
  } | null;
}

export function readExportable(file: string): Exportable {
  let f;
  try {
    f = readTensorFile(file, [CHECKPOINT_FORMAT, ENCODER_FORMAT, CLASSIFIER_FORMAT]);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  if (f.format === CLASSIFIER_FORMAT) {
    const s = z
      .object({
        spec: z.object({ model: ModelConfigSchema, outputs: z.number().int() }),
        names: z.array(z.string()),
        img_size: z.number().int(),
        task: z.enum(['far', 'fer']).optional(),
      })
      .passthrough()
      .parse(f.state);
    return {
      model: { ...s.spec.model, imgSize: s.img_size },
      tensors: f.tensors,
      outputs: s.spec.outputs,
      task: s.task ?? null,
      names: s.names,
      geometry: null,
    };
  }
  const enc = readEncoder(file);
  return { model: enc.model, tensors: enc.tensors, outputs: null, names: null, geometry: null };
}

function need(t: Map<string, NamedArray>, name: string): NamedArray {
  const v = t.get(name);
  if (!v) throw new UserError(`the file has no tensor ${name}`);
  return v;
}

/** (in, out) → (out, in) */
function transpose2d(a: NamedArray): NamedArray {
  const [r, c] = a.shape as [number, number];
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a.data[i * c + j]!;
  return { name: a.name, shape: [c, r], data: out };
}

/** The names of our tensors an export carries as they are named (the encoder, fc_norm and head; a parsing head's come apart, `geometry.extra`), sorted. */
export function exportedNames(e: Exportable): string[] {
  return [...e.tensors.keys()]
    .filter(
      (n) =>
        (n === 'cls_token' ||
          n === 'pos_embed' ||
          n.startsWith('patch_embed.proj.') ||
          n.startsWith('blocks.') ||
          n.startsWith('fc_norm.') ||
          n.startsWith('head.')) &&
        !e.geometry?.unused(n),
    )
    .sort();
}

/** The tensors in timm / PyTorch layout. */
export function torchTensors(e: Exportable): NamedArray[] {
  const { model: m, tensors } = e;
  const C = m.embedDim;
  const p = m.patchSize;
  const out: NamedArray[] = [];
  const pe = need(tensors, 'patch_embed.proj.weight'); // (p·p·3, C), rows in (ky, kx, c) order
  const conv = new Float32Array(C * 3 * p * p);
  for (let ky = 0; ky < p; ky++)
    for (let kx = 0; kx < p; kx++)
      for (let c = 0; c < 3; c++)
        for (let o = 0; o < C; o++) conv[((o * 3 + c) * p + ky) * p + kx] = pe.data[((ky * p + kx) * 3 + c) * C + o]!;
  out.push({ name: 'patch_embed.proj.weight', shape: [C, 3, p, p], data: conv });
  for (const n of exportedNames(e).filter((n) => n !== 'patch_embed.proj.weight')) {
    const t = tensors.get(n)!;
    const isLinear = n.endsWith('.weight') && t.shape.length === 2;
    out.push(isLinear ? { ...transpose2d(t), name: n } : t);
  }
  // a geometry head's own tensors (the parsing head's convolutions), in PyTorch's layout already
  if (e.geometry) out.push(...e.geometry.extra);
  return out;
}

export function exportSafetensors(e: Exportable, file: string): void {
  const { bytes } = encodeTensorFile(
    'pt',
    e.geometry
      ? {
          ...e.geometry.meta,
          model: e.model,
          layout:
            'encoder: timm VisionTransformer names and layouts (Linear (out, in), patch_embed.proj (C, 3, p, p)); the head as `head` describes',
        }
      : {
          model: e.model,
          outputs: e.outputs,
          names: e.names,
          layout: 'timm VisionTransformer (global_pool avg, fc_norm)',
        },
    torchTensors(e),
  );
  writeFileAtomic(file, bytes);
}

const L = tf.layers;
const tens = (a: NamedArray, shape?: number[]) => tf.tensor(a.data, shape ?? a.shape);

/** The sizes of the ViT and its weights by name, which every part of the layers model reads. */
interface Build {
  m: ModelConfig;
  /** Embedding width. */
  C: number;
  /** Patch tokens. */
  N: number;
  /** Heads, and the width of each. */
  H: number;
  d: number;
  hidden: number;
  T: (name: string) => NamedArray;
}

/** Patch tokens plus pos_embed, after the cls token (cls_token + pos_embed[0]). */
function embedTokens(b: Build, input: tf.SymbolicTensor): tf.SymbolicTensor {
  const { m, C, N, T } = b;
  const p = m.patchSize;
  const patch = L.conv2d({
    filters: C,
    kernelSize: p,
    strides: p,
    padding: 'valid',
    name: 'patch_embed',
    weights: [tens(T('patch_embed.proj.weight'), [p, p, 3, C]), tens(T('patch_embed.proj.bias'))],
  });
  let x = L.reshape({ targetShape: [N, C] }).apply(patch.apply(input)) as tf.SymbolicTensor;
  // constants: a zero from the image, then Dense layers whose kernel is zero and bias the constant
  const zero = L.dense({ units: 1, useBias: false, trainable: false, name: 'zero', kernelInitializer: 'zeros' }).apply(
    L.globalAveragePooling2d({}).apply(input),
  ) as tf.SymbolicTensor;
  const pos = T('pos_embed');
  const posRows = pos.data.subarray(C);
  const posC = L.reshape({ targetShape: [N, C] }).apply(
    L.dense({
      units: N * C,
      trainable: false,
      name: 'pos_embed',
      weights: [tf.zeros([1, N * C]), tf.tensor(posRows)],
    }).apply(zero),
  ) as tf.SymbolicTensor;
  x = L.add().apply([x, posC]) as tf.SymbolicTensor;
  const clsVal = T('cls_token').data.map((v, i) => v + pos.data[i]!); // cls_token + pos_embed[0]
  const cls = L.reshape({ targetShape: [1, C] }).apply(
    L.dense({ units: C, trainable: false, name: 'cls_token', weights: [tf.zeros([1, C]), tf.tensor(clsVal)] }).apply(
      zero,
    ),
  ) as tf.SymbolicTensor;
  return L.concatenate({ axis: 1 }).apply([cls, x]) as tf.SymbolicTensor;
}

/** Head h's part (0 q, 1 k, 2 v) of the qkv Linear, as Dense weights (kernel, bias), times `scale`. */
function qkvSlice(b: Build, w: NamedArray, bias: NamedArray, part: number, h: number, scale = 1): tf.Tensor[] {
  const { C, d } = b;
  // columns part·C + h·d … of the (C, 3C) qkv weight
  const k = new Float32Array(C * d);
  for (let i = 0; i < C; i++)
    for (let j = 0; j < d; j++) k[i * d + j] = w.data[i * 3 * C + part * C + h * d + j]! * scale;
  const bb = new Float32Array(d);
  for (let j = 0; j < d; j++) bb[j] = bias.data[part * C + h * d + j]! * scale;
  return [tf.tensor2d(k, [C, d]), tf.tensor1d(bb)];
}

/** Multi-head self-attention of block `pre` before its projection: per head Dense q, k, v and two Dot layers, heads concatenated. */
function attentionHeads(b: Build, pre: string, ln1: tf.SymbolicTensor): tf.SymbolicTensor {
  const { H, d, T } = b;
  const heads: tf.SymbolicTensor[] = [];
  for (let h = 0; h < H; h++) {
    const q = L.dense({
      units: d,
      name: `${pre}.attn.q${h}`,
      weights: qkvSlice(b, T(`${pre}.attn.qkv.weight`), T(`${pre}.attn.qkv.bias`), 0, h, 1 / Math.sqrt(d)),
    }).apply(ln1) as tf.SymbolicTensor;
    const k = L.dense({
      units: d,
      name: `${pre}.attn.k${h}`,
      weights: qkvSlice(b, T(`${pre}.attn.qkv.weight`), T(`${pre}.attn.qkv.bias`), 1, h),
    }).apply(ln1) as tf.SymbolicTensor;
    const v = L.dense({
      units: d,
      name: `${pre}.attn.v${h}`,
      weights: qkvSlice(b, T(`${pre}.attn.qkv.weight`), T(`${pre}.attn.qkv.bias`), 2, h),
    }).apply(ln1) as tf.SymbolicTensor;
    const scores = L.dot({ axes: 2 }).apply([q, k]) as tf.SymbolicTensor;
    const attn = L.activation({ activation: 'softmax' }).apply(scores) as tf.SymbolicTensor;
    heads.push(L.dot({ axes: [2, 1] }).apply([attn, v]) as tf.SymbolicTensor);
  }
  return H > 1 ? (L.concatenate({ axis: -1 }).apply(heads) as tf.SymbolicTensor) : heads[0]!;
}

/** Transformer block i (pre-norm): x + attn(norm1(x)), then x + mlp(norm2(x)). */
function block(b: Build, i: number, input: tf.SymbolicTensor): tf.SymbolicTensor {
  const { C, hidden, T } = b;
  let x = input;
  const pre = `blocks.${i}`;
  const ln1 = L.layerNormalization({
    epsilon: 1e-6,
    name: `${pre}.norm1`,
    weights: [tens(T(`${pre}.norm1.weight`)), tens(T(`${pre}.norm1.bias`))],
  }).apply(x) as tf.SymbolicTensor;
  const merged = attentionHeads(b, pre, ln1);
  const proj = L.dense({
    units: C,
    name: `${pre}.attn.proj`,
    weights: [tens(T(`${pre}.attn.proj.weight`)), tens(T(`${pre}.attn.proj.bias`))],
  }).apply(merged) as tf.SymbolicTensor;
  x = L.add().apply([x, proj]) as tf.SymbolicTensor;
  const ln2 = L.layerNormalization({
    epsilon: 1e-6,
    name: `${pre}.norm2`,
    weights: [tens(T(`${pre}.norm2.weight`)), tens(T(`${pre}.norm2.bias`))],
  }).apply(x) as tf.SymbolicTensor;
  const fc1 = L.dense({
    units: hidden,
    activation: 'gelu',
    name: `${pre}.mlp.fc1`,
    weights: [tens(T(`${pre}.mlp.fc1.weight`)), tens(T(`${pre}.mlp.fc1.bias`))],
  }).apply(ln2) as tf.SymbolicTensor;
  const fc2 = L.dense({
    units: C,
    name: `${pre}.mlp.fc2`,
    weights: [tens(T(`${pre}.mlp.fc2.weight`)), tens(T(`${pre}.mlp.fc2.bias`))],
  }).apply(fc1) as tf.SymbolicTensor;
  return L.add().apply([x, fc2]) as tf.SymbolicTensor;
}

/** The mean of the patch tokens (cls excluded); for a classifier, then fc_norm and the head. */
function poolAndHead(b: Build, x: tf.SymbolicTensor, outputs: number | null): tf.SymbolicTensor {
  const { C, N, T } = b;
  const patches = L.reshape({ targetShape: [N, C] }).apply(
    L.cropping2D({
      cropping: [
        [1, 0],
        [0, 0],
      ],
    }).apply(L.reshape({ targetShape: [1 + N, C, 1] }).apply(x)),
  ) as tf.SymbolicTensor;
  let out = L.globalAveragePooling1d({ name: 'mean_pool' }).apply(patches) as tf.SymbolicTensor;
  if (outputs !== null) {
    out = L.layerNormalization({
      epsilon: 1e-6,
      name: 'fc_norm',
      weights: [tens(T('fc_norm.weight')), tens(T('fc_norm.bias'))],
    }).apply(out) as tf.SymbolicTensor;
    out = L.dense({ units: outputs, name: 'head', weights: [tens(T('head.weight')), tens(T('head.bias'))] }).apply(
      out,
    ) as tf.SymbolicTensor;
  }
  return out;
}

/** Builds the Keras-style model from standard tfjs layers with the exported weights. */
export function buildLayersModel(e: Exportable): tf.LayersModel {
  const { model: m, tensors } = e;
  const C = m.embedDim;
  const G = m.imgSize / m.patchSize;
  const H = m.numHeads;
  const b: Build = {
    m,
    C,
    N: G * G,
    H,
    d: C / H,
    hidden: Math.round(C * m.mlpRatio),
    T: (name: string) => need(tensors, name),
  };
  const input = tf.input({ shape: [m.imgSize, m.imgSize, 3], name: 'image' });
  let x = embedTokens(b, input);
  for (let i = 0; i < m.depth; i++) x = block(b, i, x);
  const out = poolAndHead(b, x, e.outputs);
  return tf.model({ inputs: input, outputs: out, name: e.outputs !== null ? 'camd_classifier' : 'camd_encoder' });
}

/** Writes model.json + weights.bin (the files tf.loadLayersModel reads over http or file). */
export async function exportTfjs(e: Exportable, dir: string): Promise<void> {
  const model = buildLayersModel(e);
  makeFolder(dir, 'the export folder');
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData as ArrayBuffer;
      writeFileSync(join(dir, 'weights.bin'), Buffer.from(data));
      const json = {
        format: 'layers-model',
        generatedBy: `CAMD Studio (TensorFlow.js ${tf.version_core})`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        userDefinedMetadata: {
          camd: {
            model: e.model,
            outputs: e.outputs,
            names: e.names,
            input: 'NHWC float32, ImageNet-normalised (fine-tuned) or VGGFace2-normalised (pre-trained encoder)',
          },
        },
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
}
