/**
 * Head pose on the fine-tuning encoder, in the spirit of 6DRepNet and TokenHPE: fc_norm of every
 * patch token, a linear head giving 6 numbers at each patch, and a learned weight per patch and
 * output summing them (starting at 1/N, the mean) — 6 numbers per face,
 * made a rotation matrix by Gram–Schmidt — the continuous 6-D representation of Zhou et al. 2019,
 * as 6DRepNet's `compute_rotation_matrix_from_ortho6d`: x = a/|a|, z = (x × b)/|x × b|, y = z × x,
 * R = [x y z] as columns (a, b the two halves of the 6). The loss is the mean geodesic distance to
 * the true rotation, acos((trace(R₁ᵀR₂) − 1)/2) with the cosine clamped to [−1 + ε, 1 − ε] so that
 * acos keeps a finite gradient (6DRepNet's GeodesicLoss, ε = 1e-7).
 *
 * The head's bias starts at the identity's two columns (1, 0, 0, 0, 1, 0) — a frontal face — so the
 * first predictions are a well-defined rotation rather than the normalisation of a near-zero vector.
 * Not the plain mean of the patch tokens (the classifiers' pooling): a mean over patches barely
 * changes when the face is mirrored, and a mirror negates yaw and roll — with it the head learned
 * pitch only (measured in docs/finetuning.md, "Head pose").
 */
import * as tf from '@tensorflow/tfjs';
import { Classifier } from '../finetune/classifier.js';
import type { ModelConfig } from '../model/config.js';
import { constInit } from '../model/params.js';
import { type DropMasks, linear } from '../model/vit.js';

/** 6DRepNet's GeodesicLoss clamp. */
export const GEODESIC_EPS = 1e-7;

/** The smallest length a vector is divided by (6DRepNet's normalize_vector). */
export const NORM_FLOOR = 1e-8;

function normalise(v: tf.Tensor2D): tf.Tensor2D {
  return v.div(v.square().sum(1, true).sqrt().maximum(NORM_FLOOR));
}

function cross(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [a0, a1, a2] = tf.unstack(a, 1) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
  const [b0, b1, b2] = tf.unstack(b, 1) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
  return tf.stack(
    [a1.mul(b2).sub(a2.mul(b1)), a2.mul(b0).sub(a0.mul(b2)), a0.mul(b1).sub(a1.mul(b0))],
    1,
  ) as tf.Tensor2D;
}

/** (B, 6) → (B, 3, 3) rotation matrices by Gram–Schmidt (6DRepNet `compute_rotation_matrix_from_ortho6d`). */
export function rotationFrom6d(six: tf.Tensor2D): tf.Tensor3D {
  const x = normalise(six.slice([0, 0], [-1, 3]));
  const z = normalise(cross(x, six.slice([0, 3], [-1, 3])));
  const y = cross(z, x);
  return tf.stack([x, y, z], 2) as tf.Tensor3D; // columns
}

/** The geodesic distance of each pair of rotations, radians (B): acos((trace(AᵀB) − 1)/2), clamped. */
export function geodesic(a: tf.Tensor3D, b: tf.Tensor3D, eps = GEODESIC_EPS): tf.Tensor1D {
  const cos = a.mul(b).sum([1, 2]).sub(1).div(2);
  return tf.acos(cos.clipByValue(-1 + eps, 1 - eps)) as tf.Tensor1D;
}

/** The training loss: the mean geodesic distance (radians). */
export function geodesicLoss(pred: tf.Tensor3D, truth: tf.Tensor3D): tf.Scalar {
  return geodesic(pred, truth).mean() as tf.Scalar;
}

export class PoseModel {
  readonly clf: Classifier;

  constructor(model: ModelConfig, dropPath: number, seed: number) {
    this.clf = new Classifier({ model, outputs: 6, dropPath }, seed);
    const N = this.clf.tokens;
    this.clf.params.add('head.pool_weight', [N, 6], constInit(N * 6, 1 / N), 'online');
    const bias = this.clf.params.get('head.bias') as tf.Variable;
    tf.tidy(() => bias.assign(tf.tensor1d([1, 0, 0, 0, 1, 0])));
  }

  /**
   * The 6 numbers per face, (B, 6): the head applied to every patch's features, then a weighted sum
   * over the patches, one learned weight per patch and output (starting at 1/N: the mean).
   */
  sixD(x: tf.Tensor4D, dropMasks: DropMasks[] | null = null): tf.Tensor2D {
    const p = this.clf.params;
    const perPatch = linear(this.clf.patchFeatures(x, dropMasks), p.get('head.weight'), p.get('head.bias'));
    return perPatch.mul(p.get('head.pool_weight')).sum(1) as tf.Tensor2D;
  }

  /** Rotation matrices, (B, 3, 3), 300W-LP convention (rotation.ts). */
  predict(x: tf.Tensor4D, dropMasks: DropMasks[] | null = null): tf.Tensor3D {
    return rotationFrom6d(this.sixD(x, dropMasks));
  }

  dispose(): void {
    this.clf.dispose();
  }
}
