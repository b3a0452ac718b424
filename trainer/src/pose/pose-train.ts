/**
 * Fine-tuning for head pose: the encoder and the 6-D head (pose-model.ts) trained on augmented views
 * (pose-views.ts) with AdamW, warm-up then half-cosine learning rate and the geodesic loss; every
 * epoch the test faces are predicted on their plain view and scored with the literature's metrics
 * (pose-metrics.ts). The loop yields to the event loop between steps so that Ctrl-C / SIGTERM
 * (the caller's AbortSignal) is seen, and stops after the step it is in.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { decodeRgb } from '../data/image-io.js';
import type { ModelConfig } from '../model/config.js';
import { AdamW } from '../optim/adamw.js';
import { absoluteLr, learningRateAt } from '../optim/schedule.js';
import { Rng } from '../util/rng.js';
import { type PoseError, poseError } from './pose-metrics.js';
import { geodesicLoss, PoseModel } from './pose-model.js';
import { canonicalPose, DEFAULT_POSE_AUG, type PoseCanonical, type PoseViewAug, poseViewOf } from './pose-views.js';
import type { PoseAngles } from './rotation.js';

export interface PoseItem {
  /** Absolute path of the image. */
  image: string;
  R: Float64Array;
  angles: PoseAngles;
  /** The face's points box x0, y0, x1, y1 (image pixels). */
  box: [number, number, number, number];
}

export interface PoseTrainOptions {
  model: ModelConfig;
  /** Encoder tensors to start from (a `camd pretrain` checkpoint's), or null for random weights. */
  encoder: Map<string, { name: string; shape: number[]; data: Float32Array }> | null;
  train: PoseItem[];
  test: PoseItem[];
  epochs: number;
  batch: number;
  blr: number;
  weightDecay: number;
  warmupEpochs: number;
  dropPath: number;
  seed: number;
  aug?: PoseViewAug;
  onProgress?: (e: PoseProgress) => void;
  signal?: AbortSignal;
}

export type PoseProgress =
  | { type: 'prepare'; done: number; total: number }
  | { type: 'ready'; posEmbed: string; stepsPerEpoch: number; batch: number }
  /** epoch counts from 1, as every fine-tuning run's; step from 1 within the epoch, of `steps`. */
  | { type: 'step'; epoch: number; step: number; steps: number; loss: number; lr: number }
  | { type: 'epoch'; epoch: number; loss: number; errors: PoseError[] };

export interface PoseTrainResult {
  /** Per epoch: mean training loss (geodesic, radians) and each test face's errors. */
  epochs: { epoch: number; loss: number; errors: PoseError[] }[];
  /** The model after the last epoch (the caller exports and disposes it). */
  model: PoseModel;
  posEmbed: string;
  stopped: boolean;
}

/** A test (or training) face cut out, with its true angles. */
export interface Prepared {
  c: PoseCanonical;
  angles: PoseAngles;
}

/** Each face's image decoded and cut out at side S (training's, and `camd eval`'s, test set). */
export async function cutOutPose(items: PoseItem[], S: number, onDone: (n: number) => void): Promise<Prepared[]> {
  const out: Prepared[] = [];
  for (const it of items) {
    const img = await decodeRgb(readFileSync(it.image));
    out.push({ c: canonicalPose(img, it.box, it.R, S), angles: it.angles });
    onDone(out.length);
  }
  return out;
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

/** Each test face's errors on its plain view, and the predicted rotations (row-major). */
export async function evaluatePose(
  model: PoseModel,
  set: Prepared[],
  S: number,
): Promise<{ errors: PoseError[]; predictions: Float32Array[] }> {
  const errors: PoseError[] = [];
  const predictions: Float32Array[] = [];
  for (let i = 0; i < set.length; i += 16) {
    const part = set.slice(i, i + 16);
    const views = part.map((s) => poseViewOf(s.c, S, DEFAULT_POSE_AUG, null));
    const x = tf.tensor4d(concat(views.map((v) => v.x)), [part.length, S, S, 3]);
    const p = tf.tidy(() => model.predict(x));
    const data = (await p.data()) as Float32Array;
    tf.dispose([x, p]);
    part.forEach((s, b) => {
      const pred = data.slice(b * 9, (b + 1) * 9);
      predictions.push(pred);
      errors.push(poseError(pred, s.c.R, s.angles));
    });
  }
  return { errors, predictions };
}

/** One optimisation step on a batch of views; returns the loss (the caller disposes nothing). */
export async function poseStep(
  model: PoseModel,
  opt: AdamW,
  vars: Map<string, tf.Variable>,
  views: { x: Float32Array; R: Float32Array }[],
  S: number,
  lr: number,
  rng: Rng,
): Promise<number> {
  const B = views.length;
  const x = tf.tensor4d(concat(views.map((v) => v.x)), [B, S, S, 3]);
  const y = tf.tensor3d(concat(views.map((v) => v.R)), [B, 3, 3]);
  const masks = model.clf.dropPathMasks(B, rng);
  const value = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => geodesicLoss(model.predict(x, masks), y), [...vars.values()]);
    const byName = new Map<string, tf.Tensor>();
    for (const [n, va] of vars) if (grads[va.name]) byName.set(n, grads[va.name]!);
    opt.apply(vars, byName, lr);
    return value;
  });
  const loss = (await value.data())[0]!;
  tf.dispose([value, x, y, ...(masks ?? []).flat()]);
  return loss;
}

/** The optimiser of a pose model (AdamW; no decay on biases, norms, cls_token, pos_embed) and its variables. */
export function poseOptimiser(model: PoseModel, weightDecay: number): { opt: AdamW; vars: Map<string, tf.Variable> } {
  const opt = new AdamW(
    { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay },
    (name, shape) => !(shape.length <= 1 || name === 'cls_token' || name === 'pos_embed'),
  );
  const vars = new Map<string, tf.Variable>(
    model.clf.params.names().map((n) => [n, model.clf.params.get(n) as tf.Variable]),
  );
  return { opt, vars };
}

export async function trainPose(o: PoseTrainOptions): Promise<PoseTrainResult> {
  const S = o.model.imgSize;
  const total = o.train.length + o.test.length;
  const prep = (n: number) => o.onProgress?.({ type: 'prepare', done: n, total });
  const train = await cutOutPose(o.train, S, prep);
  const test = await cutOutPose(o.test, S, (n) => prep(train.length + n));
  const model = new PoseModel(o.model, o.dropPath, o.seed);
  const posEmbed = o.encoder ? model.clf.loadEncoder(o.encoder, 'the encoder') : '2-D sin-cos table (random init)';
  const { opt, vars } = poseOptimiser(model, o.weightDecay);
  const rng = new Rng(o.seed).fork('pose-views');
  const aug = o.aug ?? DEFAULT_POSE_AUG;
  const batch = Math.min(o.batch, train.length);
  const steps = Math.floor(train.length / batch);
  const lr0 = absoluteLr(o.blr, batch);
  const epochs: PoseTrainResult['epochs'] = [];
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
        const views = idx.slice(s * batch, (s + 1) * batch).map((i) => poseViewOf(train[i]!.c, S, aug, rng));
        const lr = learningRateAt(epoch + s / steps, lr0, o.warmupEpochs, o.epochs, 0);
        const loss = await poseStep(model, opt, vars, views, S, lr, rng);
        lossSum += loss;
        o.onProgress?.({ type: 'step', epoch: epoch + 1, step: s + 1, steps, loss, lr });
      }
      if (stopped) break;
      const { errors } = await evaluatePose(model, test, S);
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
