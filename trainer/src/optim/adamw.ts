/**
 * AdamW with decoupled weight decay (PyTorch semantics) and the timm weight-decay grouping
 * of method.md §4, plus global-L2-norm gradient clipping.
 */
import * as tf from '@tensorflow/tfjs';
import { ADAMW, fusedAdamW, hasFusedKernel } from '../ops/fused.js';
import { hostStateKernels, type HostStateKernels } from '../ops/host-state.js';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

import { decays } from './weight-decay.js';

export { decays };

/**
 * One moment of one parameter: a tensor variable, or a host array where the backend keeps the
 * optimiser state outside its memory (ops/host-state.ts).
 */
export type Moment = tf.Variable | Float32Array;

/** A moment's values as a host array (a copy for variables, the array itself for host moments). */
export async function momentValues(s: Moment): Promise<Float32Array> {
  return s instanceof Float32Array ? s : ((await s.data()) as Float32Array);
}

export class AdamW {
  readonly opts: AdamWOptions;
  /** Which parameters are decayed; the §4 grouping unless given. */
  readonly decayFn: (name: string, shape: readonly number[]) => boolean;
  step = 0;
  readonly m = new Map<string, Moment>();
  readonly v = new Map<string, Moment>();
  /** Set when the moments live in host memory (fixed at construction, with the backend of that time). */
  readonly host: HostStateKernels | null;

  constructor(opts: AdamWOptions, decayFn: (name: string, shape: readonly number[]) => boolean = decays) {
    this.opts = opts;
    this.decayFn = decayFn;
    this.host = hostStateKernels();
  }

  private slot(map: Map<string, Moment>, name: string, like: tf.Tensor): Moment {
    let s = map.get(name);
    if (!s) {
      s = this.host ? new Float32Array(like.size) : tf.variable(tf.zerosLike(like), false);
      map.set(name, s);
    }
    return s;
  }

  /** Restores one moment (from a checkpoint) in this optimiser's kind of storage. */
  setMoment(which: 'm' | 'v', name: string, data: Float32Array, shape: number[]): void {
    const map = which === 'm' ? this.m : this.v;
    const old = map.get(name);
    if (old && !(old instanceof Float32Array)) old.dispose();
    map.set(name, this.host ? data.slice() : tf.tidy(() => tf.variable(tf.tensor(data, shape), false)));
  }

  /**
   * One update. `params` and `grads` are keyed by parameter name. PyTorch order:
   * p ← p·(1 − lr·wd) (decayed params only), m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
   * p ← p − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε). `gradScale` (a scalar tensor, the clipping
   * coefficient) multiplies every gradient first. Where the backend has the fused kernel, each
   * parameter is one kernel instead of about fourteen; with host moments, one native call.
   */
  apply(
    params: Map<string, tf.Variable>,
    grads: Map<string, tf.Tensor>,
    baseLr: number,
    lrScale?: ReadonlyMap<string, number>,
    gradScale?: tf.Scalar,
  ): void {
    this.step++;
    const { beta1, beta2, eps, weightDecay } = this.opts;
    const bc1 = 1 - Math.pow(beta1, this.step);
    const bc2 = Math.sqrt(1 - Math.pow(beta2, this.step));
    const fused = hasFusedKernel(ADAMW);
    tf.tidy(() => {
      const scale = gradScale ?? tf.scalar(1);
      for (const [name, g] of grads) {
        const p = params.get(name);
        if (!p) throw new Error(`AdamW: gradient for unknown parameter ${name}`);
        const lr = baseLr * (lrScale?.get(name) ?? 1); // layer-wise lr decay (§5) scales per parameter
        const decay = weightDecay > 0 && this.decayFn(name, p.shape) ? 1 - lr * weightDecay : 1;
        const m = this.slot(this.m, name, p);
        const v = this.slot(this.v, name, p);
        if (m instanceof Float32Array || v instanceof Float32Array) {
          this.host!.adamw(p, g, m as Float32Array, v as Float32Array, scale, {
            lr,
            beta1,
            beta2,
            eps,
            decay,
            bc1,
            bc2,
          });
          continue;
        }
        // one tidy a parameter: its temporaries are freed before the next parameter's
        tf.tidy(() => {
          if (fused) {
            const [p2, m2, v2] = fusedAdamW(p, g, m, v, scale, { lr, beta1, beta2, eps, decay, bc1, bc2 });
            m.assign(m2);
            v.assign(v2);
            p.assign(p2);
            return;
          }
          const gs = gradScale ? g.mul(scale) : g;
          m.assign(m.mul(beta1).add(gs.mul(1 - beta1)));
          v.assign(v.mul(beta2).add(gs.square().mul(1 - beta2)));
          const decayed = decay !== 1 ? p.mul(decay) : p;
          p.assign(decayed.sub(m.div(v.sqrt().div(bc2).add(eps)).mul(lr / bc1)));
        });
      }
    });
  }

  dispose(): void {
    for (const s of [...this.m.values(), ...this.v.values()]) if (!(s instanceof Float32Array)) s.dispose();
    this.m.clear();
    this.v.clear();
  }
}

/**
 * Global L2 norm of the gradients and the clipping coefficient of torch.nn.utils.clip_grad_norm_:
 * coef = min(1, max/(‖g‖ + 1e-6)), to be passed to AdamW.apply as `gradScale`. maxNorm ≤ 0
 * disables clipping (coef null).
 */
export function clipCoefficient(
  grads: Map<string, tf.Tensor>,
  maxNorm: number,
): { norm: tf.Scalar; coef: tf.Scalar | null } {
  // stack + sum rather than addN: WebGPU caps a kernel's inputs (16 storage buffers on some adapters)
  // each square is freed as soon as it is summed: inside the step's tidy they would otherwise all
  // live until its end, one more copy of every gradient at the step's memory high-water mark
  const norm = tf.tidy(() =>
    tf.sqrt(tf.stack([...grads.values()].map((g) => tf.tidy(() => g.square().sum()))).sum()),
  ) as tf.Scalar;
  if (!(maxNorm > 0)) return { norm, coef: null };
  return { norm, coef: tf.minimum(tf.scalar(1), tf.scalar(maxNorm).div(norm.add(1e-6))) as tf.Scalar };
}
