/**
 * The tensors of a PyTorch ViT in our layout, as `camd import` converts them (vit-import.ts):
 * Linear weights (out, in) → ours (in, out); the patch-embedding conv (C, 3, p, p) → ours
 * (p·p·3, C), rows ordered (row, column, channel); everything else as it is. Each is checked
 * against the shape a ViT of its width needs, so a file with another is refused by name.
 */
import type { NamedArray } from '../store/checkpoint.js';
import { UserError } from '../util/errors.js';
import type { TorchTensor } from './torch-file.js';

/** A tensor of the file by our name; a missing one is refused. */
export type NeedTensor = (name: string) => TorchTensor;

/**
 * Every tensor's shape, in PyTorch's layout, as a ViT of this width (`C`, its MLP `H`, `K` head
 * outputs) needs it: a file with another is refused by name.
 */
function vitShapes(C: number, H: number, K: number): [RegExp, number[]][] {
  return [
    [
      /^patch_embed\.proj\.bias$|^blocks\.\d+\.(norm[12]\.(weight|bias)|attn\.proj\.bias|mlp\.fc2\.bias)$|^fc_norm\.(weight|bias)$/,
      [C],
    ],
    [/^cls_token$/, [1, 1, C]],
    [/^blocks\.\d+\.attn\.qkv\.weight$/, [3 * C, C]],
    [/^blocks\.\d+\.attn\.qkv\.bias$/, [3 * C]],
    [/^blocks\.\d+\.attn\.proj\.weight$/, [C, C]],
    [/^blocks\.\d+\.mlp\.fc1\.weight$/, [H, C]],
    [/^blocks\.\d+\.mlp\.fc1\.bias$/, [H]],
    [/^blocks\.\d+\.mlp\.fc2\.weight$/, [C, H]],
    [/^head\.weight$/, [K, C]],
    [/^head\.bias$/, [K]],
  ];
}

/** The converted tensors, in the order they were put, and the names of the file's tensors they used. */
export class VitTensors {
  readonly tensors: NamedArray[] = [];
  readonly used = new Set<string>();
  private readonly shapes: [RegExp, number[]][];

  /** `C` wide, MLP `H` wide, `K` head outputs (0 without a head). */
  constructor(
    private readonly file: string,
    private readonly need: NeedTensor,
    private readonly C: number,
    H: number,
    private readonly K: number,
  ) {
    this.shapes = vitShapes(C, H, K);
  }

  put(name: string, t: TorchTensor, shape: number[], data: Float32Array): void {
    const want = this.shapes.find(([re]) => re.test(name))?.[1];
    const given = name === 'cls_token' && t.shape.length === 1 ? [1, 1, ...t.shape] : t.shape;
    if (want && given.join() !== want.join())
      throw new UserError(
        `${this.file}: ${name} has shape [${t.shape}]; a ViT ${this.C} wide${name.startsWith('head.') ? ` with ${this.K} outputs` : ''} needs [${want}]`,
        2,
        'file',
      );
    this.used.add(name);
    this.tensors.push({ name, shape, data });
  }

  /** As it is in the file (with `shape`, reshaped). */
  copy(name: string, shape?: number[]): void {
    const t = this.need(name);
    this.put(name, t, shape ?? t.shape, t.values());
  }

  /** A Linear weight, transposed: (out, in) → (in, out). */
  linearT(name: string): void {
    const t = this.need(name);
    if (t.shape.length !== 2)
      throw new UserError(`${this.file}: ${name} has shape [${t.shape}], not a Linear weight`, 2, 'file');
    const [o2, i2] = t.shape as [number, number];
    const v = t.values();
    const tr = new Float32Array(o2 * i2);
    for (let r = 0; r < o2; r++) for (let c = 0; c < i2; c++) tr[c * o2 + r] = v[r * i2 + c]!;
    this.put(name, t, [i2, o2], tr);
  }

  /** The patch embedding, `p`-px patches: (C, 3, p, p) → (p·p·3, C), row (i, j, c) of ours is conv[:, c, i, j]. */
  patchEmbedding(conv: TorchTensor, p: number): void {
    const C = this.C;
    const w = conv.values();
    const outW = new Float32Array(p * p * 3 * C);
    for (let oc = 0; oc < C; oc++)
      for (let c = 0; c < 3; c++)
        for (let i = 0; i < p; i++)
          for (let j = 0; j < p; j++) outW[((i * p + j) * 3 + c) * C + oc] = w[((oc * 3 + c) * p + i) * p + j]!;
    this.put('patch_embed.proj.weight', conv, [p * p * 3, C], outW);
  }
}
