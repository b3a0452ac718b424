/**
 * Face parsing on the fine-tuning encoder, in the spirit of FaRL's parsing setup (a ViT encoder and
 * a UperNet head on the features of four blocks), sized for a desktop:
 *
 *   - taps: the patch tokens after the last block of each quarter of the encoder (tiny, 12 blocks:
 *     blocks 3, 6, 9, 12 counted from 1; a 2-block encoder taps 1, 1, 2, 2), each LayerNorm'ed
 *     (no affine) on the G×G patch grid;
 *   - pyramid: a 1×1 convolution to `width` channels (the lateral), then resized to 4G, 2G, G and
 *     ⌈G/2⌉ (bilinear up, 2×2 average pooling down): the ¼, ⅛, 1/16, 1/32 levels of a 16-px patch;
 *   - PPM on the coarsest level: average pools to 1×1 and 2×2, each 1×1 conv + ReLU, upsampled back,
 *     concatenated with the level and fused by a 3×3 conv + ReLU;
 *   - FPN: top-down, each level plus the upsampled coarser one, then a 3×3 conv + ReLU per level;
 *   - fuse: the four levels upsampled to 4G, concatenated, a 1×1 conv + ReLU (UperNet's is 3×3),
 *     and the classifier, a 1×1 conv to the classes; the logits are upsampled bilinearly to the
 *     label map's side (the input's).
 *
 * No batch norm (batches are small here): convolutions have biases and ReLU. Convolutions are
 * written as matrix products (a 3×3 one over its nine shifted copies) so that every backend,
 * wasm included (which has no Conv2DBackpropFilter kernel), can train them.
 * Loss (`parsingLoss`): per-pixel cross-entropy plus the soft Dice loss averaged over the classes.
 */
import * as tf from '@tensorflow/tfjs';
import { Classifier } from '../finetune/classifier.js';
import type { ModelConfig } from '../model/config.js';
import { constInit, ParamStore } from '../model/params.js';
import type { DropMasks } from '../model/vit.js';
import { layerNorm } from '../model/vit.js';
import { readAll, type NamedArray } from '../store/checkpoint.js';
import { Rng } from '../util/rng.js';

/** PPM pool sizes on the coarsest level (UperNet: 1, 2, 3, 6 on far larger maps). */
export const PPM_SCALES = [1, 2] as const;

/** The encoder blocks tapped: the last of each quarter (0-based). */
export function tapBlocks(depth: number): number[] {
  return [1, 2, 3, 4].map((q) => Math.max(0, Math.ceil((q * depth) / 4) - 1));
}

function heNormal(rng: Rng, n: number, fanIn: number): Float32Array {
  const std = Math.sqrt(2 / fanIn);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal(0, std);
  return out;
}

/** A 1×1 convolution of NHWC `x` with a (Cin, Cout) weight. */
function conv1(x: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  return x
    .reshape([B * H * W, C])
    .matMul(w as tf.Tensor2D)
    .add(b)
    .reshape([B, H, W, w.shape[1]!]) as tf.Tensor4D;
}

/** A 3×3 convolution (zero padding 1) with a (9·Cin, Cout) weight, rows ordered by (dy, dx, cin). */
function conv3(x: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor): tf.Tensor4D {
  const [B, H, W] = x.shape;
  const p = x.pad([
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  const shifts: tf.Tensor[] = [];
  for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) shifts.push(p.slice([0, dy, dx, 0], [B, H, W, -1]));
  return conv1(tf.concat(shifts, 3) as tf.Tensor4D, w, b);
}

const up = (x: tf.Tensor4D, side: number) =>
  x.shape[1] === side ? x : tf.image.resizeBilinear(x, [side, side], false, true);

export class ParsingModel {
  readonly clf: Classifier;
  /** The head's parameters (`decode.*`), apart from the encoder's. */
  readonly head = new ParamStore();
  readonly taps: number[];
  /** Side of the finest level (4 × the patch grid) and of the label maps (the input's). */
  readonly fine: number;
  readonly side: number;

  constructor(
    model: ModelConfig,
    readonly classes: number,
    /** Channels of every level of the head (FaRL's UperNet is far wider; 64 here at desktop scale). */
    readonly width: number,
    dropPath: number,
    seed: number,
  ) {
    this.clf = new Classifier({ model, outputs: classes, dropPath }, seed);
    this.taps = tapBlocks(model.depth);
    this.fine = this.clf.grid * 4;
    this.side = model.imgSize;
    const rng = new Rng(seed).fork('parsing-head');
    const C = model.embedDim;
    const D = width;
    const add = (name: string, fanIn: number, out: number) => {
      this.head.add(`${name}.weight`, [fanIn, out], heNormal(rng, fanIn * out, fanIn), 'online');
      this.head.add(`${name}.bias`, [out], constInit(out, 0), 'online');
    };
    for (let i = 0; i < 4; i++) add(`decode.lateral.${i}`, C, D);
    PPM_SCALES.forEach((_, j) => add(`decode.ppm.${j}`, D, D));
    add('decode.ppm_bottleneck', 9 * D * (1 + PPM_SCALES.length), D);
    for (let i = 0; i < 3; i++) add(`decode.fpn.${i}`, 9 * D, D);
    add('decode.fuse', 4 * D, D);
    this.head.add('decode.cls.weight', [D, classes], heNormal(rng, D * classes, D * 50), 'online'); // small: a flat start
    this.head.add('decode.cls.bias', [classes], constInit(classes, 0), 'online');
  }

  /** Every trained variable, the encoder's and the head's, by name. */
  variables(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const n of this.clf.params.names()) out.set(n, this.clf.params.get(n) as tf.Variable);
    for (const n of this.head.names()) out.set(n, this.head.get(n) as tf.Variable);
    return out;
  }

  /** Per-pixel class logits, (B, side, side, classes). */
  logits(x: tf.Tensor4D, dropMasks: DropMasks[] | null = null): tf.Tensor4D {
    const B = x.shape[0];
    const G = this.clf.grid;
    const h = (n: string) => this.head.get(n);
    const c1 = (t: tf.Tensor4D, n: string) => conv1(t, h(`${n}.weight`), h(`${n}.bias`));
    const c3 = (t: tf.Tensor4D, n: string) => conv3(t, h(`${n}.weight`), h(`${n}.bias`));
    const feats = this.clf.blockOutputs(x, this.taps, dropMasks);
    const sides = [4 * G, 2 * G, G, Math.ceil(G / 2)];
    const levels = feats.map((f, i) => {
      const lat = c1(layerNorm(f, 1e-6).reshape([B, G, G, -1]) as tf.Tensor4D, `decode.lateral.${i}`);
      return i < 3 ? up(lat, sides[i]!) : (tf.avgPool(lat, 2, 2, 'same') as tf.Tensor4D);
    });
    // PPM on the coarsest level
    const top = levels[3]!;
    const g = top.shape[1];
    const pooled = PPM_SCALES.map((s, j) => {
      const p = s === 1 ? (top.mean([1, 2], true) as tf.Tensor4D) : tf.image.resizeBilinear(top, [s, s], false, true);
      return up(c1(p, `decode.ppm.${j}`).relu() as tf.Tensor4D, g);
    });
    const fpnIn: tf.Tensor4D[] = [...levels];
    fpnIn[3] = c3(tf.concat([top, ...pooled], 3) as tf.Tensor4D, 'decode.ppm_bottleneck').relu() as tf.Tensor4D;
    // FPN, top-down
    for (let i = 2; i >= 0; i--) fpnIn[i] = fpnIn[i]!.add(up(fpnIn[i + 1]!, sides[i]!));
    const outs = fpnIn.map((t, i) => (i < 3 ? (c3(t, `decode.fpn.${i}`).relu() as tf.Tensor4D) : t));
    const fused = c1(
      tf.concat(
        outs.map((t) => up(t, this.fine)),
        3,
      ) as tf.Tensor4D,
      'decode.fuse',
    ).relu() as tf.Tensor4D;
    return up(c1(fused, 'decode.cls'), this.side);
  }

  /** The encoder's, fc_norm's and the head's tensors, for the run's file. */
  async exportTensors(): Promise<NamedArray[]> {
    return [
      ...(await this.clf.exportTensors()),
      ...(await readAll(this.head.names().map((n) => [n, this.head.get(n)]))),
    ];
  }

  dispose(): void {
    this.clf.dispose();
    this.head.dispose();
  }
}

/**
 * Mean per-pixel cross-entropy plus the soft Dice loss (1 − 2Σpt / (Σp + Σt), per class over the
 * batch, averaged over the classes). `labels` holds class indices, (B, side, side) int32.
 */
export function parsingLoss(logits: tf.Tensor4D, labels: tf.Tensor3D, dice = 1): tf.Scalar {
  const K = logits.shape[3];
  const t = tf.oneHot(labels.flatten(), K).toFloat();
  const z = logits.reshape([-1, K]);
  const ce = t.mul(tf.logSoftmax(z)).sum(1).mean().neg();
  if (!(dice > 0)) return ce as tf.Scalar;
  const p = tf.softmax(z);
  const inter = p.mul(t).sum(0);
  const total = p.sum(0).add(t.sum(0));
  const d = tf
    .scalar(1)
    .sub(inter.mul(2).add(1).div(total.add(1)))
    .mean();
  return ce.add(d.mul(dice)) as tf.Scalar;
}
