/**
 * Fused kernels: GELU, LayerNorm and the AdamW update as single tfjs kernels with registered
 * gradients, for backends that provide them (the wasm backend with the native camd_ops addon, see
 * backends/wasm/fused.ts). Each is the exact formula the model otherwise writes as a chain of
 * small kernels; callers ask `hasFusedKernel` and fall back to that chain, so every backend runs
 * the same maths and the fused kernels are tested against the cpu backend's chains.
 */
import * as tf from '@tensorflow/tfjs';

export const GELU = 'CamdGelu';
export const GELU_GRAD = 'CamdGeluGrad';
export const LAYER_NORM = 'CamdLayerNorm';
export const LAYER_NORM_GRAD = 'CamdLayerNormGrad';
export const ADAMW = 'CamdAdamW';
export const ATTENTION = 'CamdAttention';
export const ATTENTION_GRAD = 'CamdAttentionGrad';

export const FUSED_KERNELS = [GELU, GELU_GRAD, LAYER_NORM, LAYER_NORM_GRAD, ADAMW, ATTENTION, ATTENTION_GRAD] as const;
export type FusedKernel = (typeof FUSED_KERNELS)[number];

export interface LayerNormAttrs {
  eps: number;
}

/** Multi-head attention: `heads` heads of C/heads columns each, scores scaled by `scale`. */
export interface AttentionAttrs {
  heads: number;
  scale: number;
}

/** Attributes of one AdamW update (PyTorch rule, §4); `scale` (a tensor input) is the clip coefficient. */
export interface AdamWAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 − lr·wd for decayed parameters, 1 otherwise. */
  decay: number;
  /** 1 − β₁ᵗ */
  bc1: number;
  /** √(1 − β₂ᵗ) */
  bc2: number;
}

/** Whether the active backend runs `kernel` as one fused kernel. */
export function hasFusedKernel(kernel: FusedKernel): boolean {
  return tf.getKernel(kernel, tf.getBackend()) !== undefined;
}

const run = (name: string, inputs: tf.NamedTensorMap, attrs: object = {}) =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap);

/** GELU as one kernel: dx = dy·(Φ(x) + x·φ(x)) in one more. */
export function fusedGelu(x: tf.Tensor): tf.Tensor {
  return run(GELU, { x }) as tf.Tensor;
}

/** LayerNorm over the last axis with affine γ, β as one kernel (outputs y, per-row mean and 1/σ). */
export function fusedLayerNorm(x: tf.Tensor, eps: number, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const [y] = run(LAYER_NORM, { x, gamma, beta }, { eps } satisfies LayerNormAttrs) as tf.Tensor[];
  return y!;
}

/**
 * softmax(scale·Q_h·K_hᵀ)·V_h for every head h of q, k, v (B, L, C), heads merged back: (B, L, C).
 * The same value as splitting heads, two batched matMuls and a softmax, as one kernel (the
 * probabilities it keeps for the gradient are its second output).
 */
export function fusedAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, attrs: AttentionAttrs): tf.Tensor {
  const [out] = run(ATTENTION, { q, k, v }, attrs) as tf.Tensor[];
  return out!;
}

/** One AdamW update of one parameter: returns p′, m′, v′ (new tensors). */
export function fusedAdamW(
  p: tf.Tensor,
  g: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  scale: tf.Tensor,
  attrs: AdamWAttrs,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return run(ADAMW, { p, g, m, v, scale }, attrs) as [tf.Tensor, tf.Tensor, tf.Tensor];
}

let gradientsRegistered = false;

/**
 * Gradient closures for several inputs from one kernel that gives them all: the kernel runs at the
 * first closure (its outputs kept past that closure's tidy), and each closure hands over its own.
 */
function shareOneKernel(kernel: () => tf.Tensor[], names: readonly string[]): Record<string, () => tf.Tensor> {
  let grads: tf.Tensor[] | null = null;
  const all = () => (grads ??= kernel().map((t) => tf.keep(t)));
  const take = (i: number) => () => {
    const t = all()[i]!;
    const out = t.clone();
    t.dispose();
    return out;
  };
  return Object.fromEntries(names.map((n, i) => [n, take(i)]));
}

/** Registers the gradients of the fused kernels (once; backend-independent). */
export function registerFusedGradients(): void {
  if (gradientsRegistered) return;
  tf.registerGradient({
    kernelName: GELU,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => run(GELU_GRAD, { dy: dy as tf.Tensor, x: saved[0]! }) as tf.Tensor }),
  });
  tf.registerGradient({
    kernelName: LAYER_NORM,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved) => {
      const [x, gamma, mean, rstd] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const dy = (dys as tf.Tensor[])[0]!;
      return shareOneKernel(
        () => run(LAYER_NORM_GRAD, { dy, x, mean, rstd, gamma }) as tf.Tensor[],
        ['x', 'gamma', 'beta'],
      );
    },
  });
  tf.registerGradient({
    kernelName: ATTENTION,
    inputsToSave: ['q', 'k', 'v'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved, attrs) => {
      const [q, k, v, probs] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      // the probabilities are an internal output: only the attention's value carries a gradient
      const dy = (dys as tf.Tensor[])[0]!;
      return shareOneKernel(() => run(ATTENTION_GRAD, { dy, q, k, v, probs }, attrs) as tf.Tensor[], ['q', 'k', 'v']);
    },
  });
  gradientsRegistered = true;
}
