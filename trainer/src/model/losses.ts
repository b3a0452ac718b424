/**
 * CAMD losses (method.md §3), computed in fp32.
 */
import * as tf from '@tensorflow/tfjs';
import { layerNorm, linear, mergeHeads, splitHeads, type Getter } from './vit.js';
import type { LossConfig } from './config.js';

/**
 * UniGrad loss between rows of P and T (both (n, D)), §3.1:
 * pos = (1/n)Σ‖pᵢ − tᵢ‖², C = TᵀT/n, neg = (1/n)Σ pᵢᵀ C pᵢ, L = (pos + λ·neg)/D.
 * neg uses the row-sum form mean(sum((P·C) ⊙ P, −1)) instead of diag(P C Pᵀ).
 */
export function unigrad(P: tf.Tensor2D, T: tf.Tensor2D, negWeight: number): tf.Scalar {
  const [n, D] = P.shape;
  const pos = P.sub(T).square().sum(1).mean();
  const C = tf.matMul(T, T, true, false).div(n);
  const neg = tf.matMul(P, C).mul(P).sum(1).mean();
  return pos.add(neg.mul(negWeight)).div(D) as tf.Scalar;
}

/** The same neg term in the released diag form diag(P C Pᵀ) (n × n), for the parity test of §7. */
export function unigradNegDiagForm(P: tf.Tensor2D, T: tf.Tensor2D): tf.Scalar {
  const n = P.shape[0];
  const C = tf.matMul(T, T, true, false).div(n);
  const full = tf.matMul(tf.matMul(P, C), P, false, true); // (n, n)
  const eye = tf.eye(n);
  return full.mul(eye).sum().div(n) as tf.Scalar;
}

/** Dense loss, §3.1: P = pred (B·N, D), T = teacher_norm(target) — LayerNorm without affine, eps 1e-5. */
export function denseLoss(pred: tf.Tensor3D, target: tf.Tensor3D, negWeight: number): tf.Scalar {
  const [B, N, D] = pred.shape;
  const P = pred.reshape([B * N, D]) as tf.Tensor2D;
  const T = layerNorm(target, 1e-5).reshape([B * N, D]) as tf.Tensor2D;
  return unigrad(P, T, negWeight);
}

/**
 * "Global" loss, §3.2: per-position batch means P̄ = mean_b pred, T̄ = mean_b target (raw target as
 * released; optionally LN-normalised), then the UniGrad form over the N positions.
 */
export function globalLoss(
  pred: tf.Tensor3D,
  target: tf.Tensor3D,
  negWeight: number,
  normalisedTarget = false,
): tf.Scalar {
  const Pm = pred.mean(0) as tf.Tensor2D;
  const Tm = (normalisedTarget ? layerNorm(target, 1e-5) : target).mean(0) as tf.Tensor2D;
  return unigrad(Pm, Tm, negWeight);
}

/**
 * Mask of the top-k entries along the last axis: `kept` there, `masked` elsewhere (§3.3). Computed
 * on the device without a read-back (GPU backends queue it like any kernel) and outside the
 * gradient: the selection is a constant. Exactly k entries per row; ties at the k-th value go to the
 * lower index, like tf.topk and torch.topk on CPU.
 */
export function topkMask(scores: tf.Tensor, k: number, masked = 0, kept = 1): tf.Tensor {
  return tf.tidy(() => {
    // a detached view of the same data (reference counted): not on the gradient tape, no copy, no read-back
    tf.backend().incRef(scores.dataId);
    const s = tf.engine().makeTensorFromDataId(scores.dataId, [...scores.shape], scores.dtype);
    const kth = tf.topk(s, k).values.slice([...s.shape.slice(0, -1).map(() => 0), k - 1], [...s.shape.slice(0, -1), 1]);
    // compared through a difference with 0, not against kth broadcast along the row: tfjs-wasm's
    // broadcasting comparisons take a slow generic path (60 ms against 3 ms on ViT-B's scores,
    // 16 % of a base/224 step); for finite scores s − kth is 0 exactly when s = kth, and has its sign
    const d = s.sub(kth);
    const above = d.greater(0); // strictly better than the k-th: always kept
    const tie = d.equal(0).cast('float32');
    const room = tf.scalar(k).sub(above.cast('float32').sum(-1, true)); // how many ties still fit (exact: counts < 2²⁴)
    const take = above.logicalOr(
      tie.cast('bool').logicalAnd(
        tf
          .cumsum(tie, s.rank - 1)
          .sub(room)
          .lessEqual(0),
      ),
    );
    return tf.where(take, tf.fill(s.shape, kept), tf.fill(s.shape, masked));
  });
}

/**
 * AGMD attention (§3.3): Q from the student's layer-l tokens (B, V, C), K and V from the
 * teacher's (B, N, C); per query keep the top-k scores, softmax over those only (masked
 * softmax with −∞ elsewhere), merge heads, output projection.
 */
export function agmdAttention(
  local: tf.Tensor3D,
  global: tf.Tensor3D,
  p: Getter,
  heads: number,
  k: number,
): tf.Tensor3D {
  const C = local.shape[2];
  const q = splitHeads(
    linear(local, p('multihead_attention_topk.q_proj.weight'), p('multihead_attention_topk.q_proj.bias')),
    heads,
  );
  const kk = splitHeads(
    linear(global, p('multihead_attention_topk.k_proj.weight'), p('multihead_attention_topk.k_proj.bias')),
    heads,
  );
  const v = splitHeads(
    linear(global, p('multihead_attention_topk.v_proj.weight'), p('multihead_attention_topk.v_proj.bias')),
    heads,
  );
  const scores = tf.matMul(q, kk, false, true).div(Math.sqrt(C / heads)); // S = QKᵀ/√d
  const minusInfOutside = topkMask(scores, k, -Infinity, 0); // constant: no gradient through the selection
  const a = tf.softmax(scores.add(minusInfOutside)); // softmax over the k kept scores only
  const out = mergeHeads(tf.matMul(a, v));
  return linear(
    out,
    p('multihead_attention_topk.out_proj.weight'),
    p('multihead_attention_topk.out_proj.bias'),
  ) as tf.Tensor3D;
}

/** Gather-based top-k attention (softmax over the k gathered scores), the reference form for §7's parity test. */
export function topkAttentionByGather(scores: tf.Tensor4D, v: tf.Tensor4D, k: number): tf.Tensor4D {
  const [B, H, L, N] = scores.shape;
  const d = v.shape[3];
  const { values, indices } = tf.topk(scores, k);
  const a = tf.softmax(values); // (B, H, L, k)
  // global row of V for every selected key: (b·H + h)·N + index
  const local = indices.dataSync();
  const rows = new Int32Array(local.length);
  for (let i = 0; i < local.length; i++) rows[i] = Math.floor(i / (L * k)) * N + local[i]!;
  const gathered = tf.gather(v.reshape([B * H * N, d]), tf.tensor1d(rows, 'int32')).reshape([B, H, L, k, d]);
  return a.expandDims(-1).mul(gathered).sum(3) as tf.Tensor4D;
}

/** ℓ_l = MSE(mean_tokens(local_l), mean_tokens(A_l)), averaged over B×C; L_AGMD = Σ_l ℓ_l (§3.3). */
export function agmdLoss(
  locals: tf.Tensor3D[],
  globals: tf.Tensor3D[],
  p: Getter,
  heads: number,
  k: number,
): tf.Scalar {
  let total: tf.Tensor = tf.scalar(0);
  locals.forEach((local, i) => {
    const A = agmdAttention(local, globals[i]!, p, heads, k);
    total = total.add(local.mean(1).sub(A.mean(1)).square().mean());
  });
  return total as tf.Scalar;
}

/**
 * w_d of §3.4: 0.01 if L_AGMD > 1, 0.1 if < 1, 0 if exactly 1 — a non-differentiable test on the
 * value. Written with `step` (whose gradient is zero) so that it stays on the graph without a read-back.
 */
export function agmdWeight(lAgmd: tf.Scalar, cfg: LossConfig): tf.Scalar {
  const above = tf.step(lAgmd.sub(1)); // 1 iff L > 1
  const below = tf.step(tf.scalar(1).sub(lAgmd)); // 1 iff L < 1
  return above.mul(cfg.agmdWeightAbove1).add(below.mul(cfg.agmdWeightBelow1)) as tf.Scalar;
}

export interface LossParts {
  total: tf.Scalar;
  dense: tf.Scalar;
  global: tf.Scalar;
  agmd: tf.Scalar;
  agmdWeight: tf.Scalar;
}

/** L = ξ₁·L_dense + ξ₂·L_global + w_d·L_AGMD (§3.4; no pixel term, "Our decisions"). */
export function totalLoss(dense: tf.Scalar, global: tf.Scalar, agmd: tf.Scalar, cfg: LossConfig): LossParts {
  const wd = agmdWeight(agmd, cfg);
  const total = dense.mul(cfg.denseWeight).add(global.mul(cfg.globalWeight)).add(wd.mul(agmd)) as tf.Scalar;
  return { total, dense, global, agmd, agmdWeight: wd };
}
