/**
 * Fine-tuning for face parsing: the encoder and the UperNet-style head (parsing-model.ts) trained
 * on augmented views (parsing-views.ts) with AdamW, warm-up then half-cosine learning rate, and the
 * cross-entropy + Dice loss; every epoch the test samples are predicted on their plain view and
 * scored with FaRL's metric (parsing-metrics.ts). The loop yields to the event loop between steps,
 * so that Ctrl-C / SIGTERM (the caller's `signal`) stops it after the step.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { decodeRgb } from '../data/image-io.js';
import type { ModelConfig } from '../model/config.js';
import { AdamW } from '../optim/adamw.js';
import { absoluteLr, learningRateAt } from '../optim/schedule.js';
import { Rng } from '../util/rng.js';
import { CLASS_MAPS, type ParsingScheme } from './parsing-classes.js';
import { ParsingConfusion, type ParsingSummary } from './parsing-metrics.js';
import { ParsingModel, parsingLoss } from './parsing-model.js';
import { type ParsingSample, readSampleLabels } from './parsing-sample.js';
import {
  type ParsingAug,
  type ParsingCanonical,
  canonicalParsing,
  DEFAULT_PARSING_AUG,
  parsingView,
} from './parsing-views.js';

export interface ParsingTrainOptions {
  model: ModelConfig;
  /** Encoder tensors to start from (a `camd pretrain` checkpoint's), or null for random weights. */
  encoder: Map<string, { name: string; shape: number[]; data: Float32Array }> | null;
  scheme: ParsingScheme;
  train: ParsingSample[];
  test: ParsingSample[];
  epochs: number;
  batch: number;
  blr: number;
  weightDecay: number;
  warmupEpochs: number;
  dropPath: number;
  /** The head's channels per level. */
  width: number;
  /** Weight of the Dice term (0: cross-entropy only). */
  dice: number;
  seed: number;
  aug?: ParsingAug;
  onProgress?: (e: ParsingProgress) => void;
  signal?: AbortSignal;
}

export type ParsingProgress =
  | { type: 'prepare'; done: number; total: number }
  | { type: 'ready'; posEmbed: string; stepsPerEpoch: number; batch: number }
  /** epoch counts from 1, as every fine-tuning run's; step from 1 within the epoch, of `steps`. */
  | { type: 'step'; epoch: number; step: number; steps: number; loss: number; lr: number }
  | { type: 'epoch'; epoch: number; loss: number; summary: ParsingSummary };

export interface ParsingTrainResult {
  epochs: { epoch: number; loss: number; summary: ParsingSummary }[];
  /** The model after the last epoch (the caller exports and disposes it). */
  model: ParsingModel;
  posEmbed: string;
  stopped: boolean;
}

/** Each sample's image and label map read and cut out at side S (training's, and `camd eval`'s, test set). */
export async function cutOutParsing(
  items: ParsingSample[],
  scheme: ParsingScheme,
  S: number,
  onDone: (n: number) => void,
): Promise<ParsingCanonical[]> {
  const out: ParsingCanonical[] = [];
  for (const it of items) {
    const img = await decodeRgb(readFileSync(it.image));
    out.push(canonicalParsing(img, await readSampleLabels(it, scheme), S, it.image));
    onDone(out.length);
  }
  return out;
}

function concat<T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The test set's plain views predicted and scored. */
export async function evaluateParsing(
  model: ParsingModel,
  set: ParsingCanonical[],
  S: number,
  flipMap: readonly number[],
): Promise<ParsingSummary> {
  const conf = new ParsingConfusion(model.classes);
  for (let i = 0; i < set.length; i += 8) {
    const views = set.slice(i, i + 8).map((s) => parsingView(s, S, flipMap, DEFAULT_PARSING_AUG, null));
    const x = tf.tensor4d(
      concat(
        views.map((v) => v.x),
        (n) => new Float32Array(n),
      ),
      [views.length, S, S, 3],
    );
    const p = tf.tidy(() => model.logits(x).argMax(3));
    const pred = await p.data();
    tf.dispose([x, p]);
    views.forEach((v, b) => conf.add(pred.subarray(b * S * S, (b + 1) * S * S), v.y));
  }
  return conf.summary();
}

/** One optimisation step on a batch of views; returns the loss. Disposes everything it allocates. */
export async function parsingStep(
  model: ParsingModel,
  opt: AdamW,
  vars: Map<string, tf.Variable>,
  x: tf.Tensor4D,
  y: tf.Tensor3D,
  lr: number,
  dice: number,
  rng: Rng | null,
): Promise<number> {
  const masks = rng ? model.clf.dropPathMasks(x.shape[0], rng) : null;
  const value = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => parsingLoss(model.logits(x, masks), y, dice), [...vars.values()]);
    const byName = new Map<string, tf.Tensor>();
    for (const [n, va] of vars) if (grads[va.name]) byName.set(n, grads[va.name]!);
    opt.apply(vars, byName, lr);
    return value;
  });
  const loss = (await value.data())[0]!;
  tf.dispose([value, ...(masks ?? []).flat()]);
  return loss;
}

export function parsingOptimizer(weightDecay: number): AdamW {
  return new AdamW(
    { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay },
    (name, shape) => !(shape.length <= 1 || name === 'cls_token' || name === 'pos_embed'),
  );
}

export async function trainParsing(o: ParsingTrainOptions): Promise<ParsingTrainResult> {
  const S = o.model.imgSize;
  const { names, flip } = CLASS_MAPS[o.scheme];
  const total = o.train.length + o.test.length;
  const prep = (n: number) => o.onProgress?.({ type: 'prepare', done: n, total });
  const train = await cutOutParsing(o.train, o.scheme, S, prep);
  const test = await cutOutParsing(o.test, o.scheme, S, (n) => prep(train.length + n));
  const model = new ParsingModel(o.model, names.length, o.width, o.dropPath, o.seed);
  const posEmbed = o.encoder ? model.clf.loadEncoder(o.encoder, 'the encoder') : '2-D sin-cos table (random init)';
  const opt = parsingOptimizer(o.weightDecay);
  const vars = model.variables();
  const rng = new Rng(o.seed).fork('parsing-views');
  const aug = o.aug ?? DEFAULT_PARSING_AUG;
  const batch = Math.min(o.batch, train.length);
  const steps = Math.floor(train.length / batch);
  const lr0 = absoluteLr(o.blr, batch);
  const epochs: ParsingTrainResult['epochs'] = [];
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
        await new Promise((r) => setImmediate(r)); // let signals in between steps
        if (o.signal?.aborted) {
          stopped = true;
          break;
        }
        const views = idx.slice(s * batch, (s + 1) * batch).map((i) => parsingView(train[i]!, S, flip, aug, rng));
        const lr = learningRateAt(epoch + s / steps, lr0, o.warmupEpochs, o.epochs, 0);
        const x = tf.tensor4d(
          concat(
            views.map((v) => v.x),
            (n) => new Float32Array(n),
          ),
          [batch, S, S, 3],
        );
        const y = tf.tensor3d(
          concat(
            views.map((v) => v.y),
            (n) => new Int32Array(n),
          ),
          [batch, S, S],
          'int32',
        );
        const loss = await parsingStep(model, opt, vars, x, y, lr, o.dice, rng);
        tf.dispose([x, y]);
        lossSum += loss;
        o.onProgress?.({ type: 'step', epoch: epoch + 1, step: s + 1, steps, loss, lr });
      }
      if (stopped) break;
      const summary = await evaluateParsing(model, test, S, flip);
      const e = { epoch: epoch + 1, loss: lossSum / Math.max(1, steps), summary };
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
