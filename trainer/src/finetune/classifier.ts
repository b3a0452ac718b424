/**
 * The fine-tuning model of method.md §5: the pre-trained ViT encoder (patch_embed, cls_token, the
 * fixed pos_embed, blocks), mean pooling over the patch tokens (cls excluded, though it takes part
 * in attention), fc_norm (LayerNorm eps 1e-6) and a linear head. Drop-path rises linearly from 0
 * to `dropPath` over the blocks. Loads a `camd pretrain` checkpoint or an exported encoder.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelConfigSchema, type ModelConfig } from '../model/config.js';
import { ParamStore, constInit } from '../model/params.js';
import {
  addEncoder,
  layerNorm,
  linear,
  patchify,
  type DropMasks,
  type Getter,
  maybeRecomputedBlock,
} from '../model/vit.js';
import { sincosTable2d } from '../model/posembed.js';
import { readAll, readTensorFile, CHECKPOINT_FORMAT, ENCODER_FORMAT, type NamedArray } from '../store/checkpoint.js';
import { Rng } from '../util/rng.js';
import { z } from 'zod';

export interface ClassifierSpec {
  /** Encoder architecture (imgSize is the fine-tuning size). */
  model: ModelConfig;
  outputs: number;
  /** Maximum drop-path rate (0.1 in §5). */
  dropPath: number;
}

/**
 * timm's `trunc_normal_(t, std, a=-2., b=2.)` (§5): N(0, std²) cut at the *absolute* bounds a and b
 * — not at ±2 std. For the head's std 2e-5 the bounds lie 10⁵ std away, so the draw is a plain
 * normal (cutting at ±2 std instead narrowed it to 0.88 std).
 */
export function truncNormal(rng: Rng, n: number, std: number, a = -2, b = 2): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = rng.normal(0, std);
    while (v < a || v > b) v = rng.normal(0, std);
    out[i] = v;
  }
  return out;
}

/** Bilinear resampling of a (G, G, C) position grid to (G2, G2, C), half-pixel centres. */
function resizeGrid(table: Float32Array, G: number, G2: number, C: number): Float32Array {
  const out = new Float32Array(G2 * G2 * C);
  const s = G / G2;
  for (let y = 0; y < G2; y++) {
    const fy = Math.min(G - 1, Math.max(0, (y + 0.5) * s - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(G - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < G2; x++) {
      const fx = Math.min(G - 1, Math.max(0, (x + 0.5) * s - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(G - 1, x0 + 1);
      const wx = fx - x0;
      for (let c = 0; c < C; c++) {
        const v00 = table[(y0 * G + x0) * C + c]!;
        const v01 = table[(y0 * G + x1) * C + c]!;
        const v10 = table[(y1 * G + x0) * C + c]!;
        const v11 = table[(y1 * G + x1) * C + c]!;
        out[(y * G2 + x) * C + c] = (1 - wy) * ((1 - wx) * v00 + wx * v01) + wy * ((1 - wx) * v10 + wx * v11);
      }
    }
  }
  return out;
}

/**
 * pos_embed for the fine-tuning grid: the loaded table when the grid is the same; otherwise the
 * 2-D sin-cos table at the new grid when the loaded one is that table (exact), else a bilinear
 * interpolation of the loaded grid (MAE's interpolate_pos_embed, bilinear). Row 0 (cls) is kept.
 */
export function adaptPosEmbed(loaded: Float32Array, C: number, newGrid: number): { table: Float32Array; how: string } {
  const n = loaded.length / C - 1;
  const G = Math.round(Math.sqrt(n));
  if (G * G !== n) throw new Error(`pos_embed has ${n} patch rows, not a square grid`);
  if (G === newGrid) return { table: loaded, how: 'as loaded' };
  const ref = sincosTable2d(C, G);
  const isSinCos = loaded.every((v, i) => Math.abs(v - ref[i]!) < 1e-4);
  if (isSinCos)
    return {
      table: sincosTable2d(C, newGrid),
      how: `2-D sin-cos table recomputed for ${newGrid}×${newGrid} (was ${G}×${G})`,
    };
  const out = new Float32Array((1 + newGrid * newGrid) * C);
  out.set(loaded.subarray(0, C));
  out.set(resizeGrid(loaded.subarray(C), G, newGrid, C), C);
  return { table: out, how: `bilinear interpolation from ${G}×${G} to ${newGrid}×${newGrid}` };
}

export class Classifier {
  readonly spec: ClassifierSpec;
  readonly params = new ParamStore();
  posEmbed: tf.Tensor2D;
  readonly grid: number;
  readonly tokens: number;
  private readonly p: Getter;
  /** Recompute the encoder blocks' activations in the backward pass (ops/recompute.ts); chosen per run (model/memory.ts). */
  recompute = false;

  /** A classifier with the encoder initialised as for pre-training (the `--init none` baseline). */
  constructor(spec: ClassifierSpec, seed: number) {
    this.spec = spec;
    const m = spec.model;
    this.grid = m.imgSize / m.patchSize;
    this.tokens = this.grid * this.grid;
    this.p = (n) => this.params.get(n);
    const rng = new Rng(seed).fork('classifier-init');
    const C = m.embedDim;
    const s = this.params;
    addEncoder(s, rng, m, 'online'); // the patch embedding is trained in fine-tuning (timm default)
    s.add('fc_norm.weight', [C], constInit(C, 1), 'online');
    s.add('fc_norm.bias', [C], constInit(C, 0), 'online');
    s.add('head.weight', [C, spec.outputs], truncNormal(rng, C * spec.outputs, 2e-5), 'online'); // §5: trunc-normal std 2e-5
    s.add('head.bias', [spec.outputs], constInit(spec.outputs, 0), 'online');
    // fixed sin-cos table, never all zeros (the release's bug without a checkpoint, §5)
    this.posEmbed = tf.tensor2d(sincosTable2d(C, this.grid), [1 + this.tokens, C]);
  }

  /** Loads encoder weights (patch_embed, cls_token, pos_embed, blocks.*) and says how pos_embed was adapted. */
  loadEncoder(tensors: Map<string, NamedArray>, what: string): string {
    const C = this.spec.model.embedDim;
    for (const name of this.params.names()) {
      if (name.startsWith('fc_norm.') || name.startsWith('head.')) continue; // new in fine-tuning (strict=False)
      const t = tensors.get(name);
      const v = this.params.get(name);
      if (!t) throw new Error(`${what} has no tensor ${name}`);
      if (t.shape.join() !== v.shape.join())
        throw new Error(`${what}: ${name} has shape [${t.shape}], the classifier needs [${v.shape}]`);
      tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
    }
    const pe = tensors.get('pos_embed');
    if (!pe) return 'pos_embed not in the file: 2-D sin-cos table';
    const { table, how } = adaptPosEmbed(pe.data, C, this.grid);
    this.posEmbed.dispose();
    this.posEmbed = tf.tensor2d(table, [1 + this.tokens, C]);
    return how;
  }

  /** Tokens after the encoder, (B, 1 + N, C). `dropMasks[i]` are block i's per-sample keep masks (training only). */
  private encode(
    x: tf.Tensor4D,
    dropMasks: DropMasks[] | null,
    tap?: (block: number, h: tf.Tensor3D) => void,
  ): tf.Tensor3D {
    const m = this.spec.model;
    const p = this.p;
    const B = x.shape[0];
    let h: tf.Tensor = linear(
      patchify(x, m.patchSize),
      p('patch_embed.proj.weight'),
      p('patch_embed.proj.bias'),
    ).reshape([B, this.tokens, m.embedDim]);
    h = h.add(this.posEmbed.slice([1, 0], [this.tokens, -1]));
    const cls = p('cls_token')
      .add(this.posEmbed.slice([0, 0], [1, -1]))
      .tile([B, 1, 1]);
    h = tf.concat([cls, h], 1);
    for (let i = 0; i < m.depth; i++) {
      h = maybeRecomputedBlock(this.recompute, h, p, `blocks.${i}`, m.numHeads, 'ln', dropMasks?.[i]);
      tap?.(i, h as tf.Tensor3D);
    }
    return h as tf.Tensor3D;
  }

  /** fc_norm(mean of the patch tokens), (B, C): the features of the linear probe. */
  features(x: tf.Tensor4D, dropMasks: DropMasks[] | null = null): tf.Tensor2D {
    const h = this.encode(x, dropMasks);
    const pooled = h.slice([0, 1, 0], [-1, -1, -1]).mean(1);
    return layerNorm(pooled, 1e-6, this.p('fc_norm.weight'), this.p('fc_norm.bias')) as tf.Tensor2D;
  }

  /**
   * fc_norm of every patch token, (B, N, C), N = grid²: the per-position features a dense head
   * (face alignment's heatmaps) reads, in the grid's row-major order.
   */
  patchFeatures(x: tf.Tensor4D, dropMasks: DropMasks[] | null = null): tf.Tensor3D {
    const h = this.encode(x, dropMasks).slice([0, 1, 0], [-1, -1, -1]);
    return layerNorm(h, 1e-6, this.p('fc_norm.weight'), this.p('fc_norm.bias')) as tf.Tensor3D;
  }

  /**
   * The patch tokens (B, N, C) as each listed block (0-based) outputs them, in the listed order, no
   * norm applied: the several depths a multi-level dense head (face parsing's UperNet) reads.
   */
  blockOutputs(x: tf.Tensor4D, blocks: readonly number[], dropMasks: DropMasks[] | null = null): tf.Tensor3D[] {
    const { depth } = this.spec.model;
    for (const b of blocks)
      if (!Number.isInteger(b) || b < 0 || b >= depth) throw new Error(`block ${b} is not one of 0–${depth - 1}`);
    const taps = new Map<number, tf.Tensor3D>();
    this.encode(x, dropMasks, (i, h) => {
      if (blocks.includes(i)) taps.set(i, h.slice([0, 1, 0], [-1, -1, -1]));
    });
    return blocks.map((b) => taps.get(b)!);
  }

  head(features: tf.Tensor2D): tf.Tensor2D {
    return linear(features, this.p('head.weight'), this.p('head.bias')) as tf.Tensor2D;
  }

  logits(x: tf.Tensor4D, dropMasks: DropMasks[] | null = null): tf.Tensor2D {
    return this.head(this.features(x, dropMasks));
  }

  /**
   * Per-sample stochastic-depth masks for a training batch, two independent ones per block (the
   * attention and the MLP branch, as timm's DropPath twice): 1/(1 − rate_i) or 0, rate_i =
   * dropPath·i/(depth − 1). Both branches of a block vanish together with probability rate², not rate.
   */
  dropPathMasks(batch: number, rng: Rng): DropMasks[] | null {
    const { depth } = this.spec.model;
    if (!(this.spec.dropPath > 0)) return null;
    return Array.from({ length: depth }, (_, i) => {
      const rate = depth > 1 ? (this.spec.dropPath * i) / (depth - 1) : this.spec.dropPath;
      const keep = 1 - rate;
      const mask = () =>
        tf.tensor3d(
          new Float32Array(batch).map(() => (rng.next() < keep ? 1 / keep : 0)),
          [batch, 1, 1],
        );
      const attn = mask();
      return [attn, mask()] as const;
    });
  }

  /** Layer id of a parameter for layer-wise lr decay (§5): 0 patch_embed/cls, i+1 blocks.i, depth+1 fc_norm/head. */
  layerId(name: string): number {
    if (name.startsWith('patch_embed.') || name === 'cls_token') return 0;
    const m = /^blocks\.(\d+)\./.exec(name);
    if (m) return Number(m[1]) + 1;
    return this.spec.model.depth + 1;
  }

  /** Sets the named parameters (a fine-tuned model's fc_norm and head) from a file's tensors; a missing or misshapen one is an error naming the file. */
  loadParams(tensors: Map<string, NamedArray>, names: readonly string[], what: string): void {
    for (const n of names) {
      const t = tensors.get(n);
      const p = this.params.get(n);
      if (!t) throw new Error(`${what} has no tensor ${n}`);
      if (t.data.length !== p.size) throw new Error(`${what}: ${n} has ${t.data.length} values, the model ${p.size}`);
      tf.tidy(() => p.assign(tf.tensor(t.data, p.shape)));
    }
  }

  async exportTensors(): Promise<NamedArray[]> {
    const out = await readAll(this.params.names().map((name) => [name, this.params.get(name)]));
    out.push({
      name: 'pos_embed',
      shape: [1, ...this.posEmbed.shape],
      data: (await this.posEmbed.data()) as Float32Array,
    });
    return out;
  }

  dispose(): void {
    this.params.dispose();
    this.posEmbed.dispose();
  }
}

const EncoderState = z.object({ model: ModelConfigSchema }).passthrough();
const CheckpointState = z
  .object({ config: z.object({ model: ModelConfigSchema }).passthrough(), run_id: z.string().optional() })
  .passthrough();

/** Reads the encoder of a pre-training checkpoint or an exported encoder: its tensors, architecture and source run. */
export function readEncoder(file: string): {
  tensors: Map<string, NamedArray>;
  model: ModelConfig;
  runId: string | null;
} {
  const f = readTensorFile(file, [CHECKPOINT_FORMAT, ENCODER_FORMAT]);
  if (f.format === ENCODER_FORMAT) {
    const s = EncoderState.safeParse(f.state);
    if (!s.success) throw new Error(`${file}: encoder metadata has no valid model configuration`);
    return {
      tensors: f.tensors,
      model: s.data.model,
      runId:
        typeof (f.state as { run_id?: unknown }).run_id === 'string' ? (f.state as { run_id: string }).run_id : null,
    };
  }
  const s = CheckpointState.safeParse(f.state);
  if (!s.success) throw new Error(`${file}: checkpoint metadata has no valid model configuration`);
  const pe = sincosTable2d(s.data.config.model.embedDim, s.data.config.model.imgSize / s.data.config.model.patchSize);
  const tensors = new Map(f.tensors);
  tensors.set('pos_embed', {
    name: 'pos_embed',
    shape: [1, pe.length / s.data.config.model.embedDim, s.data.config.model.embedDim],
    data: pe,
  });
  return { tensors, model: s.data.config.model, runId: s.data.run_id ?? null };
}
