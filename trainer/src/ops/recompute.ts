/**
 * Activation recomputation ("gradient checkpointing", Chen et al. 2016) for tfjs: y = f(x, params)
 * is computed without keeping f's intermediate activations for the backward pass. Only x (and the
 * constants f reads) are kept; the backward pass runs f again under a tape of its own and
 * back-propagates dy through it. Per transformer block this trades one more forward pass of the
 * student for the block's activations (a dozen tensors of the block's size and the attention
 * matrices), which is what lets ViT-B/224 train at batch 16 inside the wasm backend's 4 GiB heap
 * (model/memory.ts). The forward and the gradient are the same computation as without it, so the
 * results agree to float32 rounding of the gradients' accumulation order (the tests check this).
 */
import * as tf from '@tensorflow/tfjs';

interface EngineState {
  gradientDepth: number;
  activeTape: unknown[] | null;
}

const engineState = () => (tf.engine() as unknown as { state: EngineState }).state;

/** Whether operations are being recorded for a gradient right now. */
function recording(): boolean {
  return engineState().gradientDepth > 0;
}

/**
 * tf.grads run inside another gradient's backward pass. tfjs 4.22's engine keeps one tape: a
 * gradient started while the outer backward runs (gradient depth 0) replaces the outer tape and
 * clears it when done, and the outer gradient then fails to release its saved tensors. The outer
 * tape is put back afterwards.
 */
function gradsInsideBackward(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const state = engineState();
  const outer = state.activeTape;
  try {
    return tf.grads(f)(xs, dy);
  } finally {
    state.activeTape = outer;
  }
}

/**
 * f(x, params, consts) with its activations recomputed in the backward pass. `params` receive
 * gradients (pass the variables themselves); `consts` (drop-path masks) do not. Outside a gradient
 * (inference, the teacher) it is a plain call of f.
 */
export function recomputed(
  f: (x: tf.Tensor, params: tf.Tensor[], consts: tf.Tensor[]) => tf.Tensor,
  x: tf.Tensor,
  params: tf.Tensor[],
  consts: tf.Tensor[] = [],
): tf.Tensor {
  if (!recording()) return f(x, params, consts);
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const input = args[0] as tf.Tensor;
    const ps = args.slice(1, 1 + params.length) as tf.Tensor[];
    save([input, ...consts]); // kept for the backward pass: the input and the constants, nothing else
    return {
      value: f(input, ps, consts),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, ...cs] = saved;
        return gradsInsideBackward((...v) => f(v[0]!, v.slice(1), cs), [xs!, ...ps], dy as tf.Tensor);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, ...params);
}
