/**
 * A CAMD ViT encoder as an ONNX graph up to its patch tokens (the outputs are onnx/heads.ts's),
 * computing what finetune/classifier.ts computes (method.md §2, §5):
 *   pixel_values (N, 3, S, S) → Conv p×p stride p → (N, G², C) + pos_embed[1:], cls_token +
 *   pos_embed[0] in front → pre-norm blocks (LayerNormalization ε 1e-6; attention with the
 *   1/√d scale folded into q's weights; exact GELU as 0.5·x·(1 + erf(x/√2))) → the patch tokens.
 * The batch is dynamic.
 */
import type { Exportable } from '../finetune/export.js';
import { torchTensors } from '../finetune/export.js';
import type { NamedArray } from '../store/checkpoint.js';
import { OnnxGraph } from './graph.js';

const LN_EPS = 1e-6;

/** The exported graph's outputs, in order, with their shapes. */
export interface OnnxOutput {
  name: string;
  dims: (number | string)[];
  doc: string;
}

/** The encoder's graph up to its patch tokens, and what a head reads from it. */
export interface VitTrunk {
  g: OnnxGraph;
  /** A tensor of the model in PyTorch layout (torchTensors), by name. */
  T: (name: string) => NamedArray;
  /** Embedding width, patch grid side, patch tokens. */
  C: number;
  G: number;
  N: number;
  /** The patch tokens after the last block, (batch, N, C). */
  patches: string;
  /** The tokens (batch, 1 + N, C) after each block. */
  blocks: string[];
  /** The outputs declared so far. */
  outputs: OnnxOutput[];
}

/** (out, in) PyTorch Linear → (in, out) for MatMul. */
function inOut(t: NamedArray): { shape: [number, number]; data: Float32Array } {
  const [o, i] = t.shape as [number, number];
  const data = new Float32Array(o * i);
  for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) data[c * o + r] = t.data[r * i + c]!;
  return { shape: [i, o], data };
}

export function vitTrunk(e: Exportable): VitTrunk {
  const m = e.model;
  const C = m.embedDim;
  const p = m.patchSize;
  const S = m.imgSize;
  const G = S / p;
  const N = G * G;
  const H = m.numHeads;
  const d = C / H;
  const byName = new Map(torchTensors(e).map((t) => [t.name, t]));
  const T = (name: string) => {
    const t = byName.get(name);
    if (!t) throw new Error(`the model has no tensor ${name}`);
    return t;
  };
  const g = new OnnxGraph();
  const x0 = g.input('pixel_values', ['batch', 3, S, S], `RGB, NCHW, float32, ${S}×${S}, normalised (see metadata)`);

  // patch embedding: a p×p convolution of stride p, then (N, C, G, G) → (N, G², C)
  const conv = g.op(
    'Conv',
    [
      x0,
      g.floats('patch_embed.proj.weight', [C, 3, p, p], T('patch_embed.proj.weight').data),
      g.floats('patch_embed.proj.bias', [C], T('patch_embed.proj.bias').data),
    ],
    { kernel_shape: [p, p], strides: [p, p] },
    'patch_embed',
  );
  const flat = g.op('Reshape', [conv, g.ints('patch_shape', [0, C, -1])]);
  const pos = T('pos_embed').data;
  const tokens = g.op('Add', [
    g.op('Transpose', [flat], { perm: [0, 2, 1] }),
    g.floats('pos_embed.patches', [N, C], pos.subarray(C, (1 + N) * C)),
  ]);
  // the cls token (+ pos_embed[0]), one per image of the batch
  const clsValue = T('cls_token').data.map((v, i) => v + pos[i]!);
  const batchDim = g.op('Slice', [g.op('Shape', [x0]), g.ints('zero', [0]), g.ints('one', [1])], {}, 'batch');
  const clsShape = g.op('Concat', [batchDim, g.ints('cls_tail', [1, C])], { axis: 0 });
  const cls = g.op('Expand', [g.floats('cls_token.with_pos', [1, 1, C], clsValue), clsShape], {}, 'cls');
  let x = g.op('Concat', [cls, tokens], { axis: 1 }, 'tokens');

  const linear = (input: string, name: string) => linearOp(g, T, input, name);
  const layerNorm = (input: string, name: string) => layerNormOp(g, T, input, name);
  const half = g.floats('half', [], [0.5]);
  const invSqrt2 = g.floats('inv_sqrt2', [], [Math.SQRT1_2]);
  const oneF = g.floats('one_f', [], [1]);
  const headsShape = g.ints('heads_shape', [0, 0, H, d]);
  const mergedShape = g.ints('merged_shape', [0, 0, C]);

  const blocks: string[] = [];
  for (let i = 0; i < m.depth; i++) {
    const pre = `blocks.${i}`;
    const h = layerNorm(x, `${pre}.norm1`);
    // q, k, v: the (3C, C) qkv Linear split into three (C, C) products; q scaled by 1/√d
    const qkvW = T(`${pre}.attn.qkv.weight`);
    const qkvB = T(`${pre}.attn.qkv.bias`);
    const part = (k: number, scale: number, name: string) => {
      const w = new Float32Array(C * C);
      const b = new Float32Array(C);
      for (let o = 0; o < C; o++) {
        b[o] = qkvB.data[k * C + o]! * scale;
        for (let c = 0; c < C; c++) w[c * C + o] = qkvW.data[(k * C + o) * C + c]! * scale;
      }
      const y = g.op(
        'Add',
        [
          g.op('MatMul', [h, g.floats(`${pre}.attn.${name}.weight`, [C, C], w)]),
          g.floats(`${pre}.attn.${name}.bias`, [C], b),
        ],
        {},
        `${pre}.attn.${name}`,
      );
      return g.op('Reshape', [y, headsShape]); // (N, L, H, d)
    };
    const q = g.op('Transpose', [part(0, 1 / Math.sqrt(d), 'q')], { perm: [0, 2, 1, 3] }); // (N, H, L, d)
    const kT = g.op('Transpose', [part(1, 1, 'k')], { perm: [0, 2, 3, 1] }); // (N, H, d, L)
    const v = g.op('Transpose', [part(2, 1, 'v')], { perm: [0, 2, 1, 3] });
    const attn = g.op('Softmax', [g.op('MatMul', [q, kT])], { axis: -1 }, `${pre}.attn.softmax`);
    const heads = g.op('Transpose', [g.op('MatMul', [attn, v])], { perm: [0, 2, 1, 3] });
    x = g.op('Add', [x, linear(g.op('Reshape', [heads, mergedShape]), `${pre}.attn.proj`)], {}, `${pre}.attn_residual`);
    const fc1 = linear(layerNorm(x, `${pre}.norm2`), `${pre}.mlp.fc1`);
    // exact GELU: 0.5·x·(1 + erf(x/√2))
    const erf = g.op('Erf', [g.op('Mul', [fc1, invSqrt2])]);
    const gelu = g.op('Mul', [g.op('Mul', [fc1, half]), g.op('Add', [erf, oneF])], {}, `${pre}.mlp.gelu`);
    x = g.op('Add', [x, linear(gelu, `${pre}.mlp.fc2`)], {}, `${pre}.mlp_residual`);
    blocks.push(x);
  }

  const patches = g.op(
    'Slice',
    [x, g.ints('from_one', [1]), g.ints('to_end', [N + 1]), g.ints('token_axis', [1])],
    {},
    'patch_tokens',
  );
  return { g, T, C, G, N, patches, blocks, outputs: [] };
}

/** y = x·W + b of the PyTorch Linear `name` (weight (out, in)) as MatMul + Add. */
export function linearOp(g: OnnxGraph, T: (name: string) => NamedArray, input: string, name: string): string {
  const w = inOut(T(`${name}.weight`));
  const b = T(`${name}.bias`).data;
  return g.op(
    'Add',
    [g.op('MatMul', [input, g.floats(`${name}.weight`, w.shape, w.data)]), g.floats(`${name}.bias`, [b.length], b)],
    {},
    name,
  );
}

/** LayerNormalization over the last axis with the affine `name` (ε 1e-6). */
export function layerNormOp(g: OnnxGraph, T: (name: string) => NamedArray, input: string, name: string): string {
  const w = T(`${name}.weight`).data;
  return g.op(
    'LayerNormalization',
    [input, g.floats(`${name}.weight`, [w.length], w), g.floats(`${name}.bias`, [w.length], T(`${name}.bias`).data)],
    { axis: -1, epsilon: LN_EPS },
    name,
  );
}
