/**
 * Face alignment on the fine-tuning encoder, in the spirit of FaRL's alignment setup: a heatmap per
 * landmark from the patch grid (fc_norm of each patch token, then the classifier's linear head with
 * K outputs applied at every position), upsampled bilinearly by `UPSAMPLE`, and decoded with
 * sub-pixel precision as the expected position under the heatmap's softmax (integral regression,
 * Sun et al. 2018) — differentiable, so the loss is on the coordinates themselves.
 */
import * as tf from '@tensorflow/tfjs';
import { Classifier } from '../finetune/classifier.js';
import type { ModelConfig } from '../model/config.js';
import type { DropMasks } from '../model/vit.js';
import { linear } from '../model/vit.js';

/** How much finer than the patch grid the heatmaps are (7×7 patches at 112/16 → 28×28). */
export const UPSAMPLE = 4;

/** Each cell's centre of a side × side heatmap, as a fraction of the side: x, then y, row-major. */
export function cellCentres(side: number): { xs: Float32Array; ys: Float32Array } {
  const xs = new Float32Array(side * side);
  const ys = new Float32Array(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      xs[y * side + x] = (x + 0.5) / side;
      ys[y * side + x] = (y + 0.5) / side;
    }
  return { xs, ys };
}

export class LandmarkModel {
  readonly clf: Classifier;
  /** Heatmap side: the patch grid × UPSAMPLE. */
  readonly side: number;
  /** Each heatmap cell's centre, as a fraction of the image side, x then y (side² each). */
  private readonly cellX: tf.Tensor1D;
  private readonly cellY: tf.Tensor1D;

  constructor(
    model: ModelConfig,
    readonly points: number,
    dropPath: number,
    seed: number,
  ) {
    this.clf = new Classifier({ model, outputs: points, dropPath }, seed);
    this.side = this.clf.grid * UPSAMPLE;
    const { xs, ys } = cellCentres(this.side);
    this.cellX = tf.tensor1d(xs);
    this.cellY = tf.tensor1d(ys);
  }

  /** The K heatmaps' logits, (B, K, side²). */
  heatmaps(x: tf.Tensor4D, dropMasks: DropMasks[] | null = null): tf.Tensor3D {
    const B = x.shape[0];
    const G = this.clf.grid;
    const f = this.clf.patchFeatures(x, dropMasks);
    const logits = linear(f, this.clf.params.get('head.weight'), this.clf.params.get('head.bias'));
    const up = tf.image.resizeBilinear(
      logits.reshape([B, G, G, this.points]) as tf.Tensor4D,
      [this.side, this.side],
      false,
      true,
    );
    return up.transpose([0, 3, 1, 2]).reshape([B, this.points, this.side * this.side]) as tf.Tensor3D;
  }

  /** The landmarks, (B, K, 2): x, y as fractions of the input side (0 left/top edge, 1 right/bottom). */
  predict(x: tf.Tensor4D, dropMasks: DropMasks[] | null = null): tf.Tensor3D {
    const p = tf.softmax(this.heatmaps(x, dropMasks));
    return tf.stack([p.mul(this.cellX).sum(-1), p.mul(this.cellY).sum(-1)], -1) as tf.Tensor3D;
  }

  dispose(): void {
    this.clf.dispose();
    tf.dispose([this.cellX, this.cellY]);
  }
}

/** Mean L1 distance of predicted and true landmarks (both as fractions of the side), the training loss. */
export function landmarkLoss(pred: tf.Tensor3D, truth: tf.Tensor3D): tf.Scalar {
  return pred.sub(truth).abs().mean() as tf.Scalar;
}
