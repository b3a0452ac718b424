/**
 * What the model sees, for one face and one pre-training checkpoint:
 *  - the student's prediction quality per patch (§3.1): cosine similarity between what the student
 *    predicts at each position of the face (from the visible patches of a block-masked copy, §1.5)
 *    and the teacher's normalised target there — on masked and on visible patches;
 *  - where the teacher looks: the last block's attention from the mean query over the patches
 *    (softmax(q̄·kᵀ/√d), averaged over heads), q̄ the mean of the patch tokens' queries.
 * Both views are the whole face resized to the model's input (identity geometry, §1.3), so a patch
 * of the prediction and of the mask is the same patch of the face.
 */
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CHECKPOINT_FORMAT, readTensorFile } from '../store/checkpoint.js';
import { CamdTrainer } from '../train/step.js';
import { RunSettings } from '../train/run-settings.js';
import { gridOf, maskedCount, presetConfig } from '../model/config.js';
import { blockMask } from '../model/mask.js';
import { IDENTITY_GEOMETRY, sincosTable2d } from '../model/posembed.js';
import { block, layerNorm, linear, patchify, splitHeads } from '../model/vit.js';
import { decodeRgb } from '../data/image-io.js';
import { resizedCrop } from '../data/resample.js';
import { VGGFACE2_MEAN, VGGFACE2_STD } from '../data/augment.js';
import { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';

export interface FaceView {
  imgSize: number;
  grid: number;
  /** The face as the model sees it, S×S RGB. */
  face: Uint8Array;
  /** 1 = masked in the student's copy, row-major over the grid. */
  mask: number[];
  /** Per patch: cosine(prediction, teacher target), in [−1, 1]. */
  cosine: number[];
  /** Per patch: the teacher's last-block attention from the mean query (sums to 1). */
  attention: number[];
  meanCosineMasked: number;
  meanCosineVisible: number;
  step: number;
}

const State = z
  .object({ step: z.number().int(), optimizer_step: z.number().int(), settings: RunSettings })
  .passthrough();

export async function seeFace(o: {
  checkpoint: string;
  image: string;
  maskRatio?: number;
  seed?: number;
}): Promise<FaceView> {
  let ck;
  try {
    ck = readTensorFile(o.checkpoint, CHECKPOINT_FORMAT);
  } catch (e) {
    throw new UserError(
      `${(e as Error).message} (what the model sees needs a pre-training checkpoint: its predictor and teacher)`,
      2,
      'checkpoint',
    );
  }
  const st = State.safeParse(ck.state);
  if (!st.success) throw new UserError(`${o.checkpoint}: its state has no step or settings`, 2, 'checkpoint');
  const s = st.data.settings;
  const cfg = presetConfig(s.preset, { imgSize: s.imgSize, maskRatio: o.maskRatio ?? s.maskRatio });
  const S = cfg.model.imgSize;
  const { grid, tokens } = gridOf(cfg.model);
  const img = await decodeRgb(readFileSync(o.image)).catch((e: unknown) => {
    throw new UserError(`${o.image}: ${(e as Error).message}`, 2, 'image');
  });
  const face = resizedCrop(img, { i: 0, j: 0, h: img.height, w: img.width }, S);
  const x = new Float32Array(S * S * 3);
  for (let i = 0; i < S * S; i++)
    for (let c = 0; c < 3; c++) x[i * 3 + c] = (face[i * 3 + c]! / 255 - VGGFACE2_MEAN[c]!) / VGGFACE2_STD[c]!;
  const mask = blockMask({ grid, count: maskedCount(cfg.mask.ratio, tokens) }, new Rng(o.seed ?? 0));

  const trainer = new CamdTrainer(cfg, 0, { epochs: 1, itersPerEpoch: 1, batchSize: 1 });
  try {
    trainer.importTensors(ck.tensors, st.data.step, st.data.optimizer_step, o.checkpoint);
    const model = trainer.model;
    const x4 = tf.tensor4d(x, [1, S, S, 3]);
    const teacher = model.teacher(x4);
    const vis = model.visibleIndices([mask]);
    const rel = model.relativeEmbedding([IDENTITY_GEOMETRY]);
    const cos = tf.tidy(() => {
      const { pred, locals } = model.student(x4, vis, rel);
      locals.forEach((t) => t.dispose());
      const T = layerNorm(teacher.target, 1e-5);
      const dot = pred.mul(T).sum(-1);
      return dot.div(pred.norm('euclidean', -1).mul(T.norm('euclidean', -1)).add(1e-12)).reshape([tokens]);
    });
    const cosine = Array.from(await cos.data());
    cos.dispose();
    teacher.globals.forEach((t) => t.dispose());
    teacher.target.dispose();
    vis.flat.dispose();
    vis.rows.dispose();
    rel.dispose();
    const attention = teacherAttention(ck.tensors, cfg.model, x4);
    x4.dispose();
    const mean = (sel: number) => {
      const v = cosine.filter((_, n) => mask[n] === sel);
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
    };
    return {
      imgSize: S,
      grid,
      face,
      mask: Array.from(mask),
      cosine,
      attention: Array.from(await attention.data()),
      meanCosineMasked: mean(1),
      meanCosineVisible: mean(0),
      step: st.data.step,
    };
  } finally {
    trainer.dispose();
  }
}

type Tensors = Map<string, { shape: number[]; data: Float32Array }>;
type Model = ReturnType<typeof presetConfig>['model'];

/** The momentum encoder's (mm_*) tokens, cls first, after its first `blocks` blocks, (1, 1 + N, C). */
export function teacherTokens(tensors: Tensors, m: Model, x: tf.Tensor4D, blocks: number): tf.Tensor3D {
  return tf.tidy(() => {
    const get = (name: string) => {
      const t = tensors.get(name);
      if (!t) throw new UserError(`the checkpoint has no ${name}`, 2, 'checkpoint');
      return tf.tensor(t.data, t.shape);
    };
    const p = (name: string) => get(`mm_${name}`);
    const N = (m.imgSize / m.patchSize) ** 2;
    // the fixed 2-D sin-cos table of pre-training (not stored in checkpoints), cls row first
    const pe = tf.tensor2d(sincosTable2d(m.embedDim, m.imgSize / m.patchSize), [1 + N, m.embedDim]);
    let h: tf.Tensor = linear(
      patchify(x, m.patchSize),
      p('patch_embed.proj.weight'),
      p('patch_embed.proj.bias'),
    ).reshape([1, N, m.embedDim]);
    h = h.add(pe.slice([1, 0], [N, -1]));
    const cls = p('cls_token').add(pe.slice([0, 0], [1, -1]));
    h = tf.concat([cls.reshape([1, 1, m.embedDim]), h], 1);
    for (let i = 0; i < blocks; i++) h = block(h, p, `blocks.${i}`, m.numHeads, 'ln');
    return h as tf.Tensor3D;
  });
}

/** The momentum encoder up to its last block, then that block's attention from the mean query. */
function teacherAttention(tensors: Tensors, m: Model, x: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => {
    const p = (name: string) => {
      const t = tensors.get(`mm_${name}`);
      if (!t) throw new UserError(`the checkpoint has no mm_${name}`, 2, 'checkpoint');
      return tf.tensor(t.data, t.shape);
    };
    const h = teacherTokens(tensors, m, x, m.depth - 1);
    const L = m.depth - 1;
    const y = layerNorm(h, 1e-6, p(`blocks.${L}.norm1.weight`), p(`blocks.${L}.norm1.bias`));
    const [wq, wk] = tf.split(p(`blocks.${L}.attn.qkv.weight`), 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const [bq, bk] = tf.split(p(`blocks.${L}.attn.qkv.bias`), 3, 0) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const patches = y.slice([0, 1, 0], [-1, -1, -1]);
    const q = splitHeads(linear(patches, wq, bq), m.numHeads).mean(2, true); // (1, H, 1, d): the mean query
    const k = splitHeads(linear(patches, wk, bk), m.numHeads); // (1, H, N, d)
    const a = tf.softmax(tf.matMul(q, k, false, true).div(Math.sqrt(m.embedDim / m.numHeads))); // (1, H, 1, N)
    return a.mean(1).reshape([(m.imgSize / m.patchSize) ** 2]) as tf.Tensor1D;
  });
}

/** A colour for v in [0, 1] (a five-stop blue → green → yellow ramp, like viridis). */
function ramp(v: number): [number, number, number] {
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ] as const;
  const t = Math.min(1, Math.max(0, v)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t));
  const f = t - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/**
 * A heat map over the face as a PNG: the face in grey, each patch tinted by its value (scaled
 * from [lo, hi] to the ramp), the masked patches' outline in white. `scale` enlarges it for viewing.
 */
export async function heatPng(
  v: FaceView,
  values: number[],
  o: { lo: number; hi: number; outline?: boolean; scale?: number },
): Promise<Buffer> {
  const S = v.imgSize;
  const P = S / v.grid;
  const out = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const n = Math.floor(y / P) * v.grid + Math.floor(x / P);
      const o3 = (y * S + x) * 3;
      const grey = 0.299 * v.face[o3]! + 0.587 * v.face[o3 + 1]! + 0.114 * v.face[o3 + 2]!;
      const c = ramp((values[n]! - o.lo) / (o.hi - o.lo || 1));
      for (let k = 0; k < 3; k++) out[o3 + k] = Math.round(0.45 * grey + 0.55 * c[k]!);
      if (o.outline) {
        // a white line where a masked patch meets a visible one (or the border)
        const gx = Math.floor(x / P),
          gy = Math.floor(y / P);
        const masked = (i: number, j: number) =>
          i >= 0 && j >= 0 && i < v.grid && j < v.grid && v.mask[i * v.grid + j] === 1;
        if (masked(gy, gx)) {
          const edge =
            (x % P === 0 && !masked(gy, gx - 1)) ||
            (x % P === P - 1 && !masked(gy, gx + 1)) ||
            (y % P === 0 && !masked(gy - 1, gx)) ||
            (y % P === P - 1 && !masked(gy + 1, gx));
          if (edge) out[o3] = out[o3 + 1] = out[o3 + 2] = 255;
        }
      }
    }
  }
  const scale = o.scale ?? Math.max(1, Math.round(256 / S));
  return sharp(Buffer.from(out), { raw: { width: S, height: S, channels: 3 } })
    .resize(S * scale, S * scale, { kernel: 'nearest' })
    .png()
    .toBuffer();
}
