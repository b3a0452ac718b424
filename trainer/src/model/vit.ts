/**
 * ViT building blocks as pure functions of named parameters (method.md §2):
 * pre-norm blocks, MHSA with qkv bias, MLP with exact-erf GELU, LayerNorm (eps 1e-6) for the
 * encoder, BatchNorm with batch statistics ("PermuteBN", eps 1e-5) for projector/predictor.
 * Everything stays rank ≤ 4 so that no backend takes a slow rank-5 path.
 */
import * as tf from '@tensorflow/tfjs';
import { constInit, normalInit, uniformInit, type ParamRole, type ParamStore, xavierUniform } from './params.js';
import type { ModelConfig } from './config.js';
import type { Rng } from '../util/rng.js';
import {
  ATTENTION,
  fusedAttention,
  fusedGelu,
  fusedLayerNorm,
  GELU,
  hasFusedKernel,
  LAYER_NORM,
} from '../ops/fused.js';
import { recomputed } from '../ops/recompute.js';

export type Getter = (name: string) => tf.Tensor;
export type NormKind = 'ln' | 'bn';

/** y = x·W + b over the last axis; W is (in, out). */
export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const inDim = shape[shape.length - 1]!;
  const outDim = w.shape[1]!;
  let y = tf.matMul(x.reshape([-1, inDim]), w);
  if (b) y = y.add(b);
  return y.reshape([...shape.slice(0, -1), outDim]);
}

/** LayerNorm over the last axis (biased variance, as PyTorch); one fused kernel where the backend has it. */
export function layerNorm(x: tf.Tensor, eps: number, w?: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  if (w && b && hasFusedKernel(LAYER_NORM)) return fusedLayerNorm(x, eps, w, b);
  const { mean, variance } = tf.moments(x, -1, true);
  let y = x.sub(mean).mul(tf.rsqrt(variance.add(eps)));
  if (w) y = y.mul(w);
  if (b) y = y.add(b);
  return y;
}

/** PermuteBN: BatchNorm1d over channels with statistics over batch × tokens, training mode (§2, §7). */
export function batchNorm(x: tf.Tensor, eps: number, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes, true);
  return x
    .sub(mean)
    .mul(tf.rsqrt(variance.add(eps)))
    .mul(w)
    .add(b);
}

/** Exact GELU: 0.5·x·(1 + erf(x/√2)) (§2 "exact GELU"); one fused kernel where the backend has it. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (hasFusedKernel(GELU)) return fusedGelu(x);
  return x.mul(0.5).mul(tf.erf(x.mul(Math.SQRT1_2)).add(1));
}

/** (B, L, H·d) → (B, H, L, d) */
export function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [B, L, C] = x.shape as [number, number, number];
  return x.reshape([B, L, heads, C / heads]).transpose([0, 2, 1, 3]);
}

/** (B, H, L, d) → (B, L, H·d) */
export function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [B, H, L, d] = x.shape as [number, number, number, number];
  return x.transpose([0, 2, 1, 3]).reshape([B, L, H * d]);
}

/** Multi-head self-attention with qkv bias (timm `Attention`). */
export function attention(x: tf.Tensor, p: Getter, prefix: string, heads: number): tf.Tensor {
  // Split the (C, 3C) weight rather than the (B, L, 3C) activation: the same product, a smaller strided copy.
  const [wq, wk, wv] = tf.split(p(`${prefix}.qkv.weight`), 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const [bq, bk, bv] = tf.split(p(`${prefix}.qkv.bias`), 3, 0) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const C = x.shape[2]!;
  const q = linear(x, wq, bq);
  const k = linear(x, wk, bk);
  const v = linear(x, wv, bv);
  const scale = 1 / Math.sqrt(C / heads);
  return linear(headsAttention(q, k, v, heads, scale), p(`${prefix}.proj.weight`), p(`${prefix}.proj.bias`));
}

/**
 * softmax(scale·Q_h·K_hᵀ)·V_h per head, heads merged back to (B, L, C); one fused kernel where the
 * backend has it (no head is transposed out), else split heads, two batched matMuls and a softmax.
 */
export function headsAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, heads: number, scale: number): tf.Tensor {
  if (hasFusedKernel(ATTENTION)) return fusedAttention(q, k, v, { heads, scale });
  const scores = tf.matMul(splitHeads(q, heads).mul(scale), splitHeads(k, heads), false, true);
  return mergeHeads(tf.matMul(tf.softmax(scores), splitHeads(v, heads)));
}

const EPS: Record<NormKind, number> = { ln: 1e-6, bn: 1e-5 };

function norm(x: tf.Tensor, kind: NormKind, p: Getter, prefix: string): tf.Tensor {
  return kind === 'ln'
    ? layerNorm(x, EPS.ln, p(`${prefix}.weight`), p(`${prefix}.bias`))
    : batchNorm(x, EPS.bn, p(`${prefix}.weight`), p(`${prefix}.bias`));
}

/**
 * Drop-path (stochastic depth) masks of one block in fine-tuning (§5): per-sample (B, 1, 1) keep
 * masks (1/keep or 0), one for the attention branch and an independent one for the MLP branch,
 * as timm's Block applies its DropPath twice.
 */
export type DropMasks = readonly [attn: tf.Tensor, mlp: tf.Tensor];

/**
 * Pre-norm transformer block: x + attn(norm1 x), then x + mlp(norm2 x). No LayerScale; drop-path
 * only in fine-tuning (§5), each residual branch scaled by its own per-sample mask.
 */
export function block(
  x: tf.Tensor,
  p: Getter,
  prefix: string,
  heads: number,
  kind: NormKind,
  drop?: DropMasks,
): tf.Tensor {
  const h = x.add(dropped(attention(norm(x, kind, p, `${prefix}.norm1`), p, `${prefix}.attn`, heads), drop?.[0]));
  const m = linear(
    gelu(linear(norm(h, kind, p, `${prefix}.norm2`), p(`${prefix}.mlp.fc1.weight`), p(`${prefix}.mlp.fc1.bias`))),
    p(`${prefix}.mlp.fc2.weight`),
    p(`${prefix}.mlp.fc2.bias`),
  );
  return h.add(dropped(m, drop?.[1]));
}

function dropped(y: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
  return mask ? y.mul(mask) : y;
}

/** The parameters of a block, as suffixes of its prefix (the order addBlock defines them in). */
export const BLOCK_PARAMS = [
  'norm1.weight',
  'norm1.bias',
  'attn.qkv.weight',
  'attn.qkv.bias',
  'attn.proj.weight',
  'attn.proj.bias',
  'norm2.weight',
  'norm2.bias',
  'mlp.fc1.weight',
  'mlp.fc1.bias',
  'mlp.fc2.weight',
  'mlp.fc2.bias',
] as const;

/**
 * `block`, or with `recompute` the same block whose activations are recomputed in the backward
 * pass instead of kept (ops/recompute.ts): the same values and gradients in far less memory, for
 * one more forward pass of the block.
 */
export function maybeRecomputedBlock(
  recompute: boolean,
  x: tf.Tensor,
  p: Getter,
  prefix: string,
  heads: number,
  kind: NormKind,
  drop?: DropMasks,
): tf.Tensor {
  if (!recompute) return block(x, p, prefix, heads, kind, drop);
  const names = BLOCK_PARAMS.map((s) => `${prefix}.${s}`);
  return recomputed(
    (h, ps, consts) =>
      block(
        h,
        (name) => ps[names.indexOf(name as (typeof names)[number])] ?? p(name),
        prefix,
        heads,
        kind,
        consts.length ? [consts[0]!, consts[1]!] : undefined,
      ),
    x,
    names.map(p),
    drop ? [...drop] : [],
  );
}

/** (B, S, S, 3) → (B·G², p·p·3), patch features in (row-in-patch, col-in-patch, channel) order. */
export function patchify(x: tf.Tensor4D, patch: number): tf.Tensor2D {
  const [B, S, , Cin] = x.shape;
  const G = S / patch;
  return x
    .reshape([B * G, patch, G, patch * Cin])
    .transpose([0, 2, 1, 3])
    .reshape([B * G * G, patch * patch * Cin]) as tf.Tensor2D;
}

// ---- parameter definitions ----

export function addLinear(
  store: ParamStore,
  rng: Rng,
  name: string,
  inDim: number,
  outDim: number,
  role: ParamRole,
): void {
  store.add(`${name}.weight`, [inDim, outDim], xavierUniform(rng, inDim, outDim), role); // Xavier-uniform, bias 0 (§2)
  store.add(`${name}.bias`, [outDim], constInit(outDim, 0), role);
}

export function addNorm(store: ParamStore, name: string, dim: number, role: ParamRole): void {
  store.add(`${name}.weight`, [dim], constInit(dim, 1), role);
  store.add(`${name}.bias`, [dim], constInit(dim, 0), role);
}

export function addBlock(
  store: ParamStore,
  rng: Rng,
  prefix: string,
  dim: number,
  mlpRatio: number,
  role: ParamRole,
): void {
  const hidden = Math.round(dim * mlpRatio);
  addNorm(store, `${prefix}.norm1`, dim, role);
  addLinear(store, rng, `${prefix}.attn.qkv`, dim, 3 * dim, role);
  addLinear(store, rng, `${prefix}.attn.proj`, dim, dim, role);
  addNorm(store, `${prefix}.norm2`, dim, role);
  addLinear(store, rng, `${prefix}.mlp.fc1`, dim, hidden, role);
  addLinear(store, rng, `${prefix}.mlp.fc2`, hidden, dim, role);
}

/**
 * The ViT encoder's parameters, in this order (the order fixes the random draws): patch_embed
 * (Xavier-uniform on its (C, P) view, bias U(±1/√P) as PyTorch's conv default), cls_token
 * N(0, 0.02), blocks.* (§2 "Initialisation").
 */
export function addEncoder(store: ParamStore, rng: Rng, m: ModelConfig, patchRole: ParamRole): void {
  const C = m.embedDim;
  const P = m.patchSize * m.patchSize * 3;
  store.add('patch_embed.proj.weight', [P, C], xavierUniform(rng, P, C), patchRole);
  store.add('patch_embed.proj.bias', [C], uniformInit(rng, C, 1 / Math.sqrt(P)), patchRole);
  store.add('cls_token', [1, 1, C], normalInit(rng, C, 0.02), 'online');
  for (let i = 0; i < m.depth; i++) addBlock(store, rng, `blocks.${i}`, C, m.mlpRatio, 'online');
}
