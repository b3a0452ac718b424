/**
 * AdamW with decoupled weight decay (PyTorch semantics) and the timm weight-decay grouping
 * of CAMD.md §4, plus global-L2-norm gradient clipping.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/**
 * timm `param_groups_weight_decay`: no decay for parameters with ndim ≤ 1 or names ending in
 * `.bias`; everything else is decayed, including cls_token and mask_token (§4).
 */
export function decays(name: string, shape: readonly number[]): boolean {
  return !(shape.length <= 1 || name.endsWith('.bias'));
}

export interface AdamWState {
  step: number;
  m: Map<string, tf.Variable>;
  v: Map<string, tf.Variable>;
}

export class AdamW {
  readonly opts: AdamWOptions;
  /** Which parameters are decayed; the §4 grouping unless given. */
  readonly decayFn: (name: string, shape: readonly number[]) => boolean;
  step = 0;
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();

  constructor(opts: AdamWOptions, decayFn: (name: string, shape: readonly number[]) => boolean = decays) {
    this.opts = opts;
    this.decayFn = decayFn;
  }

  private slot(map: Map<string, tf.Variable>, name: string, like: tf.Tensor): tf.Variable {
    let s = map.get(name);
    if (!s) {
      s = tf.variable(tf.zerosLike(like), false);
      map.set(name, s);
    }
    return s;
  }

  /**
   * One update. `params` and `grads` are keyed by parameter name. PyTorch order:
   * p ← p·(1 − lr·wd) (decayed params only), m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
   * p ← p − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε).
   */
  apply(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, baseLr: number, lrScale?: ReadonlyMap<string, number>): void {
    this.step++;
    const { beta1, beta2, eps, weightDecay } = this.opts;
    const bc1 = 1 - Math.pow(beta1, this.step);
    const bc2 = Math.sqrt(1 - Math.pow(beta2, this.step));
    tf.tidy(() => {
      for (const [name, g] of grads) {
        const p = params.get(name);
        if (!p) throw new Error(`AdamW: gradient for unknown parameter ${name}`);
        const lr = baseLr * (lrScale?.get(name) ?? 1); // layer-wise lr decay (§5) scales per parameter
        const m = this.slot(this.m, name, p);
        const v = this.slot(this.v, name, p);
        m.assign(m.mul(beta1).add(g.mul(1 - beta1)));
        v.assign(v.mul(beta2).add(g.square().mul(1 - beta2)));
        let next: tf.Tensor = p;
        if (weightDecay > 0 && this.decayFn(name, p.shape)) next = next.mul(1 - lr * weightDecay);
        next = next.sub(m.div(v.sqrt().div(bc2).add(eps)).mul(lr / bc1));
        p.assign(next);
      }
    });
  }

  dispose(): void {
    for (const s of [...this.m.values(), ...this.v.values()]) s.dispose();
    this.m.clear();
    this.v.clear();
  }
}

/**
 * Clips gradients to a global L2 norm (torch.nn.utils.clip_grad_norm_): coef = min(1, max/(‖g‖ + 1e-6)).
 * Returns the clipped gradients and the pre-clip norm (a scalar tensor). maxNorm ≤ 0 disables clipping.
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; norm: tf.Scalar } {
  const norm = tf.sqrt(tf.addN([...grads.values()].map((g) => g.square().sum()))) as tf.Scalar;
  if (!(maxNorm > 0)) return { grads, norm };
  const coef = tf.minimum(tf.scalar(1), tf.scalar(maxNorm).div(norm.add(1e-6)));
  const out = new Map<string, tf.Tensor>();
  for (const [n, g] of grads) out.set(n, g.mul(coef));
  return { grads: out, norm };
}
