/**
 * CAMD: Context-Aware Masked Distillation (method.md §2). One file with the whole model, in the
 * order of the method:
 *   student: visible patches of view 1 → 12 blocks (per-layer outputs kept) → projector →
 *            predictor over [cls, visible tokens, one query per view-2 position] → pred (B, N, D)
 *   teacher: EMA copies over all of view 2 → per-layer outputs and target (B, N, D)
 *   losses:  dense UniGrad + global + AGMD (losses.ts, §3)
 */
import * as tf from '@tensorflow/tfjs';
import { gridOf, type CamdConfig, type ModelConfig } from './config.js';
import { ParamStore, normalInit } from './params.js';
import { addBlock, addEncoder, addLinear, block, linear, maybeRecomputedBlock, patchify, type Getter } from './vit.js';
import { relativeEmbedding, sincosTable2d, type RelativeGeometry } from './posembed.js';
import { agmdLoss, denseLoss, globalLoss, totalLoss, type LossParts } from './losses.js';
import { Rng } from '../util/rng.js';
import { hostStateKernels, type HostStateKernels } from '../ops/host-state.js';

/** One pre-training batch as the model consumes it. */
export interface CamdBatch {
  /** View 1 (student, masked), normalised, (B, S, S, 3). */
  x1: tf.Tensor4D;
  /** View 2 (teacher, full image), normalised, (B, S, S, 3). */
  x2: tf.Tensor4D;
  /** Per sample, G² cells row-major, 1 = masked; every mask has the same count (§1.5). */
  masks: Uint8Array[];
  /** Relative geometry of view 2 in view-1 crop units, per sample (§1.3). */
  geometry: RelativeGeometry[];
}

/** Visible cells of view 1: flat indices b·N + n, and table rows n + 1. */
export interface VisibleIndex {
  flat: tf.Tensor1D;
  rows: tf.Tensor1D;
}

export interface TeacherOut {
  /** global_l for l in distillLayers: block outputs without cls, (B, N, C). */
  globals: tf.Tensor3D[];
  /** Projected target without cls, (B, N, D). */
  target: tf.Tensor3D;
}

export interface StudentOut {
  /** local_l for l in distillLayers: block outputs without cls, (B, V, C). */
  locals: tf.Tensor3D[];
  /** Predictions for every view-2 position, (B, N, D). */
  pred: tf.Tensor3D;
}

/** Online modules that have a momentum copy `mm_<name>` (§2.1). */
export const EMA_PREFIXES = [
  'patch_embed.',
  'cls_token',
  'blocks.',
  'decoder_embed.',
  'projector_decoder_blocks.',
  'mask_token',
] as const;

export function hasMomentumCopy(name: string): boolean {
  return EMA_PREFIXES.some((p) => name === p || name.startsWith(p));
}

export class CamdModel {
  readonly cfg: CamdConfig;
  readonly m: ModelConfig;
  readonly grid: number;
  readonly tokens: number;
  readonly params = new ParamStore();
  /** Fixed tables (§1.4): (1 + N, C) and (1 + N, D), row 0 zeros for cls. Never trained. */
  readonly posEmbed: tf.Tensor2D;
  readonly decoderPosEmbed: tf.Tensor2D;
  private readonly p: Getter;
  /**
   * Recompute the student's block activations in the backward pass instead of keeping them
   * (ops/recompute.ts): the same step in much less memory, for about a third more student compute.
   * Chosen per run from the memory estimate (model/memory.ts).
   */
  recompute = false;
  /** Set when the momentum copies live in host memory (ops/host-state.ts); fixed at construction. */
  readonly host: HostStateKernels | null;

  constructor(cfg: CamdConfig, seed: number) {
    this.cfg = cfg;
    this.m = cfg.model;
    const { grid, tokens } = gridOf(this.m);
    this.grid = grid;
    this.tokens = tokens;
    this.posEmbed = tf.tensor2d(sincosTable2d(this.m.embedDim, grid), [1 + tokens, this.m.embedDim]);
    this.decoderPosEmbed = tf.tensor2d(sincosTable2d(this.m.decoderDim, grid), [1 + tokens, this.m.decoderDim]);
    // momentum weights held in host memory are uploaded when the teacher asks for them, inside
    // the tidy of the block that uses them: one block's weights in the backend at a time
    this.p = (name) => {
      const h = this.params.host(name);
      return h ? tf.tensor(h.data, h.shape) : this.params.get(name);
    };
    this.init(new Rng(seed).fork('init'));
    this.host = hostStateKernels();
    if (this.host) for (const name of this.params.names('momentum')) this.params.moveToHost(name);
  }

  /** Parameters and initialisation of §2. */
  private init(rng: Rng): void {
    const { embedDim: C, decoderDim: D, mlpRatio, projectorDepth, predictorDepth } = this.m;
    const s = this.params;
    addEncoder(s, rng, this.m, this.m.trainPatchEmbed ? 'online' : 'frozen');
    addLinear(s, rng, 'decoder_embed', C, D, 'online');
    for (let i = 0; i < projectorDepth; i++) addBlock(s, rng, `projector_decoder_blocks.${i}`, D, mlpRatio, 'online');
    for (let i = 0; i < predictorDepth; i++) addBlock(s, rng, `predictor_decoder_blocks.${i}`, D, mlpRatio, 'online');
    s.add('mask_token', [1, 1, D], normalInit(rng, D, 0.02), 'online');
    addLinear(s, rng, 'decoder_pred', D, D, 'online');
    addLinear(s, rng, 'decoder_pos_mlp', 2 * D, D, 'online');
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj'])
      addLinear(s, rng, `multihead_attention_topk.${n}`, C, C, 'online');
    // momentum copies are made from the online weights after init (§2)
    for (const name of this.params.names()) {
      if (!hasMomentumCopy(name)) continue;
      const v = s.get(name);
      s.add(`mm_${name}`, v.shape, v, 'momentum');
    }
  }

  /** Trainable variables (varList): online parameters only. */
  trainableVariables(): tf.Variable[] {
    return this.params.names('online').map((n) => this.params.get(n));
  }

  /** θ_mm ← m·θ_mm + (1 − m)·θ_online for every module with a momentum copy (§2.1). */
  emaUpdate(m: number): void {
    // one tidy a parameter: the products are freed before the next, not held for the whole copy
    for (const name of this.params.names('momentum')) {
      const online = this.params.get(name.slice(3));
      const host = this.params.host(name);
      if (host) {
        this.host!.ema(online, host.data, m);
        continue;
      }
      const mm = this.params.get(name);
      tf.tidy(() => mm.assign(mm.mul(m).add(online.mul(1 - m))));
    }
  }

  /** patch_embed(x) + pos_embed[1:], (B, N, C). */
  private embedPatches(x: tf.Tensor4D, prefix: '' | 'mm_'): tf.Tensor3D {
    const B = x.shape[0];
    const emb = linear(
      patchify(x, this.m.patchSize),
      this.p(`${prefix}patch_embed.proj.weight`),
      this.p(`${prefix}patch_embed.proj.bias`),
    );
    return emb
      .reshape([B, this.tokens, this.m.embedDim])
      .add(this.posEmbed.slice([1, 0], [this.tokens, -1])) as tf.Tensor3D;
  }

  /** Prepends cls_token + pos_embed[0] (a zero row). */
  private withCls(x: tf.Tensor3D, clsName: string): tf.Tensor3D {
    const B = x.shape[0];
    const cls = this.p(clsName)
      .add(this.posEmbed.slice([0, 0], [1, -1]))
      .tile([B, 1, 1]);
    return tf.concat([cls, x], 1) as tf.Tensor3D;
  }

  /** Student branch, §2 steps 1–5. `vis.flat` holds b·N + n of the visible cells (V per sample, ascending), `vis.rows` n + 1. */
  student(x1: tf.Tensor4D, vis: VisibleIndex, relEmbed: tf.Tensor3D): StudentOut {
    const { embedDim: C, decoderDim: D, depth, numHeads, decoderHeads, projectorDepth, predictorDepth } = this.m;
    const B = x1.shape[0];
    const V = vis.flat.shape[0] / B;
    const N = this.tokens;
    const p = this.p;
    // 1. embed, keep the visible rows, prepend cls
    const all = this.embedPatches(x1, '').reshape([B * N, C]);
    let x = this.withCls(tf.gather(all, vis.flat).reshape([B, V, C]) as tf.Tensor3D, 'cls_token');
    // 2. encoder, recording block outputs without cls
    const locals: tf.Tensor3D[] = [];
    for (let i = 0; i < depth; i++) {
      x = maybeRecomputedBlock(this.recompute, x, p, `blocks.${i}`, numHeads, 'ln') as tf.Tensor3D;
      if (this.m.distillLayers.includes(i)) locals.push(x.slice([0, 1, 0], [-1, -1, -1]));
    }
    // 3. projector: decoder_embed then BN blocks (no final encoder LayerNorm, §2)
    let z = linear(x, p('decoder_embed.weight'), p('decoder_embed.bias'));
    for (let i = 0; i < projectorDepth; i++)
      z = maybeRecomputedBlock(this.recompute, z, p, `projector_decoder_blocks.${i}`, decoderHeads, 'bn');
    // 4. predictor input: [z_cls] ‖ [z_vis + decoder_pos_embed at visible x1 positions] ‖ [mask_token + decoder_pos_mlp(e_rel)]
    const zCls = z.slice([0, 0, 0], [-1, 1, -1]);
    const zVis = z.slice([0, 1, 0], [-1, -1, -1]).add(tf.gather(this.decoderPosEmbed, vis.rows).reshape([B, V, D]));
    const queries = linear(relEmbed, p('decoder_pos_mlp.weight'), p('decoder_pos_mlp.bias')).add(p('mask_token'));
    let h = tf.concat([zCls, zVis, queries], 1);
    // 5. predictor blocks, decoder_pred; pred = the last N tokens (decoder_pred is per token, so slicing first is equal)
    for (let i = 0; i < predictorDepth; i++)
      h = maybeRecomputedBlock(this.recompute, h, p, `predictor_decoder_blocks.${i}`, decoderHeads, 'bn');
    const pred = linear(
      h.slice([0, 1 + V, 0], [-1, N, -1]),
      p('decoder_pred.weight'),
      p('decoder_pred.bias'),
    ) as tf.Tensor3D;
    return { locals, pred };
  }

  /** Teacher branch, §2 step 6 (call emaUpdate first). No variable here is trained. */
  teacher(x2: tf.Tensor4D): TeacherOut {
    const { depth, numHeads, decoderHeads, projectorDepth } = this.m;
    const p = this.p;
    // No gradient flows here, so nothing inside a block is needed once the block is done: each
    // block runs in its own tidy and only its output (and the distilled layers' features) stays.
    // Without this every block's intermediates would live until the end of the training step.
    const step = (x: tf.Tensor3D, f: (x: tf.Tensor3D) => tf.Tensor3D): tf.Tensor3D => {
      const y = tf.tidy(() => f(x));
      x.dispose();
      return y;
    };
    let x = tf.tidy(() => this.withCls(this.embedPatches(x2, 'mm_'), 'mm_cls_token'));
    const globals: tf.Tensor3D[] = [];
    for (let i = 0; i < depth; i++) {
      x = step(x, (h) => block(h, p, `mm_blocks.${i}`, numHeads, 'ln') as tf.Tensor3D);
      if (this.m.distillLayers.includes(i)) globals.push(x.slice([0, 1, 0], [-1, -1, -1]));
    }
    let z = step(x, (h) => linear(h, p('mm_decoder_embed.weight'), p('mm_decoder_embed.bias')) as tf.Tensor3D);
    for (let i = 0; i < projectorDepth; i++)
      z = step(z, (h) => block(h, p, `mm_projector_decoder_blocks.${i}`, decoderHeads, 'bn') as tf.Tensor3D);
    const target = z.slice([0, 1, 0], [-1, -1, -1]) as tf.Tensor3D;
    z.dispose();
    return { globals, target };
  }

  /** Flat indices b·N + n of the visible cells (ascending per sample); all masks must have the same count. */
  visibleIndices(masks: Uint8Array[]): VisibleIndex {
    const N = this.tokens;
    const counts = masks.map((m) => {
      if (m.length !== N) throw new Error(`mask has ${m.length} cells, the model expects ${N}`);
      return m.reduce((s, v) => s + (v ? 0 : 1), 0);
    });
    const V = counts[0] ?? 0;
    if (V === 0 || counts.some((c) => c !== V))
      throw new Error(
        `every mask in a batch must leave the same, non-zero number of visible patches (got ${counts.join(', ')})`,
      );
    const flat = new Int32Array(masks.length * V);
    const rows = new Int32Array(masks.length * V);
    let o = 0;
    masks.forEach((m, b) =>
      m.forEach((v, n) => {
        if (v) return;
        flat[o] = b * N + n;
        rows[o++] = n + 1; // row of pos_embed / decoder_pos_embed (row 0 is cls)
      }),
    );
    return { flat: tf.tensor1d(flat, 'int32'), rows: tf.tensor1d(rows, 'int32') };
  }

  relativeEmbedding(geometry: RelativeGeometry[]): tf.Tensor3D {
    const D = this.m.decoderDim;
    return tf.tensor3d(relativeEmbedding(geometry, D, this.grid), [geometry.length, this.tokens, 2 * D]);
  }

  /** The student's losses against a teacher output (§3). Differentiable w.r.t. the online parameters. */
  losses(batch: CamdBatch, teacher: TeacherOut): LossParts {
    const lc = this.cfg.loss;
    const { locals, pred } = this.student(
      batch.x1,
      this.visibleIndices(batch.masks),
      this.relativeEmbedding(batch.geometry),
    );
    const dense = denseLoss(pred, teacher.target, lc.negWeight);
    const global = globalLoss(pred, teacher.target, lc.negWeight, lc.globalNormalisedTarget);
    const agmd = agmdLoss(locals, teacher.globals, this.p, this.m.numHeads, this.m.topK);
    return totalLoss(dense, global, agmd, lc);
  }

  dispose(): void {
    this.params.dispose();
    this.posEmbed.dispose();
    this.decoderPosEmbed.dispose();
  }
}
