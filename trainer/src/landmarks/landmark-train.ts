/**
 * Fine-tuning for face alignment: the encoder and the heatmap head (landmark-model.ts) trained on
 * augmented views (landmark-views.ts) with AdamW, warm-up then half-cosine learning rate, an L1
 * loss on the decoded coordinates; every epoch the test samples are predicted on their plain view
 * and scored with the caller's metric (the normalised mean error of the dataset's scheme).
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { decodeRgb } from '../data/image-io.js';
import type { ModelConfig } from '../model/config.js';
import { AdamW } from '../optim/adamw.js';
import { absoluteLr, learningRateAt } from '../optim/schedule.js';
import { Rng } from '../util/rng.js';
import { LandmarkModel, landmarkLoss } from './landmark-model.js';
import { type Canonical, canonical, DEFAULT_VIEW_AUG, type ViewAug, viewOf } from './landmark-views.js';

export interface LandmarkItem {
  /** Absolute path of the image. */
  image: string;
  /** K×2 pixel positions (0-based). */
  points: Float32Array;
  box: [number, number, number, number] | null;
}

export interface LandmarkTrainOptions {
  model: ModelConfig;
  /** Encoder tensors to start from (a `camd pretrain` checkpoint's), or null for random weights. */
  encoder: Map<string, { name: string; shape: number[]; data: Float32Array }> | null;
  points: number;
  flipMap: readonly number[];
  train: LandmarkItem[];
  test: LandmarkItem[];
  epochs: number;
  batch: number;
  blr: number;
  weightDecay: number;
  warmupEpochs: number;
  dropPath: number;
  seed: number;
  aug?: ViewAug;
  /** One sample's error (its scheme's NME) from predicted and true points in view pixels, and the view's box size. */
  errorOf: (pred: Float32Array, truth: Float32Array, boxSize: number | null) => number;
  onProgress?: (e: LandmarkProgress) => void;
  signal?: AbortSignal;
}

export type LandmarkProgress =
  | { type: 'prepare'; done: number; total: number }
  | { type: 'ready'; posEmbed: string; stepsPerEpoch: number; batch: number }
  /** epoch counts from 1, as every fine-tuning run's; step from 1 within the epoch, of `steps`. */
  | { type: 'step'; epoch: number; step: number; steps: number; loss: number; lr: number }
  | { type: 'epoch'; epoch: number; loss: number; errors: number[] };

export interface LandmarkTrainResult {
  /** Per epoch: mean training loss and each test sample's error. */
  epochs: { epoch: number; loss: number; errors: number[] }[];
  /** The model after the last epoch (the caller exports and disposes it). */
  model: LandmarkModel;
  posEmbed: string;
  stopped: boolean;
}

/** Each sample's image decoded and its face cut out at side S (training's, and `camd eval`'s, test set). */
export async function cutOutLandmarks(
  items: LandmarkItem[],
  S: number,
  onDone: (n: number) => void,
): Promise<Canonical[]> {
  const out: Canonical[] = [];
  for (const it of items) {
    const img = await decodeRgb(readFileSync(it.image));
    out.push(canonical(img, it.points, it.box, S));
    onDone(out.length);
  }
  return out;
}

/** Predicted points (view pixels) and each sample's error on the plain views of `set`. */
export async function evaluateLandmarks(
  model: LandmarkModel,
  set: Canonical[],
  S: number,
  flipMap: readonly number[],
  errorOf: LandmarkTrainOptions['errorOf'],
): Promise<{ errors: number[]; predictions: Float32Array[] }> {
  const errors: number[] = [];
  const predictions: Float32Array[] = [];
  const K = model.points;
  for (let i = 0; i < set.length; i += 16) {
    const part = set.slice(i, i + 16);
    const views = part.map((s) => viewOf(s, S, flipMap, DEFAULT_VIEW_AUG, null));
    const x = tf.tensor4d(concat(views.map((v) => v.x)), [part.length, S, S, 3]);
    const p = tf.tidy(() => model.predict(x));
    const data = (await p.data()) as Float32Array;
    tf.dispose([x, p]);
    views.forEach((v, b) => {
      const pred = data.slice(b * K * 2, (b + 1) * K * 2).map((u) => u * S);
      const truth = v.y.map((u) => u * S);
      predictions.push(pred);
      errors.push(errorOf(pred, truth, v.boxSize));
    });
  }
  return { errors, predictions };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export async function trainLandmarks(o: LandmarkTrainOptions): Promise<LandmarkTrainResult> {
  const S = o.model.imgSize;
  const total = o.train.length + o.test.length;
  const prep = (n: number) => o.onProgress?.({ type: 'prepare', done: n, total });
  const train = await cutOutLandmarks(o.train, S, prep);
  const test = await cutOutLandmarks(o.test, S, (n) => prep(train.length + n));
  const model = new LandmarkModel(o.model, o.points, o.dropPath, o.seed);
  const posEmbed = o.encoder ? model.clf.loadEncoder(o.encoder, 'the encoder') : '2-D sin-cos table (random init)';
  const opt = new AdamW(
    { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: o.weightDecay },
    (name, shape) => !(shape.length <= 1 || name === 'cls_token' || name === 'pos_embed'),
  );
  const vars = new Map<string, tf.Variable>(
    model.clf.params.names().map((n) => [n, model.clf.params.get(n) as tf.Variable]),
  );
  const rng = new Rng(o.seed).fork('landmark-views');
  const aug = o.aug ?? DEFAULT_VIEW_AUG;
  const batch = Math.min(o.batch, train.length);
  const steps = Math.floor(train.length / batch);
  const lr0 = absoluteLr(o.blr, batch);
  const epochs: LandmarkTrainResult['epochs'] = [];
  let stopped = false;
  o.onProgress?.({ type: 'ready', posEmbed, stepsPerEpoch: steps, batch });
  try {
    for (let epoch = 0; epoch < o.epochs && !stopped; epoch++) {
      const order = rng.fork(`epoch-${epoch}`);
      const idx = train.map((_, i) => i);
      for (let i = idx.length - 1; i > 0; i--) {
        const j = order.int(0, i);
        [idx[i], idx[j]] = [idx[j]!, idx[i]!];
      }
      let lossSum = 0;
      for (let s = 0; s < steps; s++) {
        await new Promise((r) => setImmediate(r)); // let signals in between steps (a step's awaits are microtasks only)
        if (o.signal?.aborted) {
          stopped = true;
          break;
        }
        const part = idx.slice(s * batch, (s + 1) * batch).map((i) => train[i]!);
        const views = part.map((c) => viewOf(c, S, o.flipMap, aug, rng));
        const lr = learningRateAt(epoch + s / steps, lr0, o.warmupEpochs, o.epochs, 0);
        const x = tf.tensor4d(concat(views.map((v) => v.x)), [batch, S, S, 3]);
        const y = tf.tensor3d(concat(views.map((v) => v.y)), [batch, o.points, 2]);
        const masks = model.clf.dropPathMasks(batch, rng);
        const value = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => landmarkLoss(model.predict(x, masks), y), [...vars.values()]);
          const byName = new Map<string, tf.Tensor>();
          for (const [n, va] of vars) if (grads[va.name]) byName.set(n, grads[va.name]!);
          opt.apply(vars, byName, lr);
          return value;
        });
        const loss = (await value.data())[0]!;
        tf.dispose([value, x, y, ...(masks ?? []).flat()]);
        lossSum += loss;
        o.onProgress?.({ type: 'step', epoch: epoch + 1, step: s + 1, steps, loss, lr });
      }
      if (stopped) break;
      const { errors } = await evaluateLandmarks(model, test, S, o.flipMap, o.errorOf);
      const e = { epoch: epoch + 1, loss: lossSum / Math.max(1, steps), errors };
      epochs.push(e);
      o.onProgress?.({ type: 'epoch', ...e });
    }
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    opt.dispose();
  }
  return { epochs, model, posEmbed, stopped };
}
