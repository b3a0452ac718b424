/**
 * One CAMD pre-training step (method.md §2–§4): EMA update, teacher forward, student forward,
 * losses, backward, global-norm clipping, AdamW. Everything allocated is released: the number
 * of live tensors is the same before and after a step.
 */
import * as tf from '@tensorflow/tfjs';
import { CamdModel, type CamdBatch } from '../model/camd.js';
import { AdamW, clipCoefficient, momentValues } from '../optim/adamw.js';
import { absoluteLr, learningRateAt, momentumAt } from '../optim/schedule.js';
import type { CamdConfig } from '../model/config.js';
import { OPT_M, OPT_V, readAll, type NamedArray } from '../store/checkpoint.js';

export interface StepMetrics {
  loss: number;
  loss_dense: number;
  loss_global: number;
  loss_agmd: number;
  agmd_weight: number;
  grad_norm: number;
  lr: number;
  mm: number;
}

export interface ScheduleInfo {
  /** Epochs of the run (E of §4 / §2.1). */
  epochs: number;
  /** Optimiser steps per epoch. */
  itersPerEpoch: number;
  /** Batch size, for lr = blr × batch / 256. */
  batchSize: number;
}

export interface TrainerOptions {
  /** Recompute the student's activations in the backward pass (CamdModel.recompute); off by default. */
  recompute?: boolean;
}

export class CamdTrainer {
  readonly model: CamdModel;
  readonly optimizer: AdamW;
  readonly cfg: CamdConfig;
  readonly sched: ScheduleInfo;
  /** Completed optimiser steps. */
  step = 0;

  constructor(cfg: CamdConfig, seed: number, sched: ScheduleInfo, opts: TrainerOptions = {}) {
    this.cfg = cfg;
    this.sched = sched;
    this.model = new CamdModel(cfg, seed);
    this.model.recompute = opts.recompute ?? false;
    const o = cfg.optim;
    this.optimizer = new AdamW({ beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay });
  }

  /** Fractional epoch t = epoch + it/iters_per_epoch of the step about to run. */
  epochAt(step: number): number {
    return step / this.sched.itersPerEpoch;
  }

  lrAt(step: number): number {
    const o = this.cfg.optim;
    return learningRateAt(
      this.epochAt(step),
      absoluteLr(o.blr, this.sched.batchSize),
      o.warmupEpochs,
      this.sched.epochs,
      o.minLr,
    );
  }

  momentumAt(step: number): number {
    const o = this.cfg.optim;
    return momentumAt(this.epochAt(step), o.momentum, this.sched.epochs, o.momentumSchedule);
  }

  /**
   * Runs one optimiser step on a batch and returns its metrics: one asynchronous read-back per
   * step, so GPU backends (webgpu) queue the whole step without a sync point. `inspect`, if given,
   * sees the gradients by parameter name before clipping (inside the step: read them synchronously).
   */
  async trainStep(batch: CamdBatch, inspect?: (grads: ReadonlyMap<string, tf.Tensor>) => void): Promise<StepMetrics> {
    const lr = this.lrAt(this.step);
    const mm = this.momentumAt(this.step);
    const model = this.model;
    const onlineByName = new Map(model.params.names('online').map((n) => [n, model.params.get(n)]));
    const varList = [...onlineByName.values()];

    const packed = tf.tidy(() => {
      // §2.1: EMA first, then the target forward, no gradient
      model.emaUpdate(mm);
      const teacher = model.teacher(batch.x2);
      let parts: tf.Tensor | undefined;
      const { grads } = tf.variableGrads(() => {
        const l = model.losses(batch, teacher);
        parts = tf.keep(tf.stack([l.total, l.dense, l.global, l.agmd, l.agmdWeight]));
        return l.total;
      }, varList);
      const byName = new Map<string, tf.Tensor>();
      for (const v of varList) {
        const g = grads[v.name];
        if (g) byName.set(model.params.nameOf(v), g);
      }
      inspect?.(byName); // the gradients before clipping (the independent PyTorch check reads some)
      const { norm, coef } = clipCoefficient(byName, this.cfg.optim.clipGrad);
      this.optimizer.apply(onlineByName, byName, lr, undefined, coef ?? undefined);
      const out = tf.concat([parts!, norm.reshape([1])]);
      parts!.dispose();
      return out;
    });
    this.step++;
    const v = await packed.data();
    packed.dispose();
    return {
      loss: v[0]!,
      loss_dense: v[1]!,
      loss_global: v[2]!,
      loss_agmd: v[3]!,
      agmd_weight: v[4]!,
      grad_norm: v[5]!,
      lr,
      mm,
    };
  }

  /** Losses of a batch without any update (for parity checks and evaluation). */
  async evaluate(
    batch: CamdBatch,
  ): Promise<{ loss: number; loss_dense: number; loss_global: number; loss_agmd: number }> {
    const v = tf.tidy(() => {
      const teacher = this.model.teacher(batch.x2);
      const l = this.model.losses(batch, teacher);
      return tf.stack([l.total, l.dense, l.global, l.agmd]);
    });
    const d = await v.data();
    v.dispose();
    return { loss: d[0]!, loss_dense: d[1]!, loss_global: d[2]!, loss_agmd: d[3]! };
  }

  /** Every weight (online, frozen, momentum) and the AdamW moments, as host arrays. */
  async exportTensors(): Promise<NamedArray[]> {
    // host-held values (momentum copies, moments) are handed over as they are, not copied: the
    // caller encodes them before the next step changes them
    const ps = this.model.params;
    const out = await Promise.all(
      ps.names().map(async (name) => ({ name, shape: ps.shapeOf(name), data: await ps.values(name) })),
    );
    for (const [prefix, slots] of [
      [OPT_M, this.optimizer.m],
      [OPT_V, this.optimizer.v],
    ] as const) {
      for (const [name, v] of slots)
        out.push({ name: prefix + name, shape: ps.shapeOf(name), data: await momentValues(v) });
    }
    return out;
  }

  /** The online (or the momentum) encoder as fine-tuning loads it: patch_embed, cls_token, pos_embed, blocks.* (§4 last bullet). */
  async exportEncoder(which: 'online' | 'momentum' = 'online'): Promise<NamedArray[]> {
    const isEncoder = (n: string) => n.startsWith('patch_embed.') || n === 'cls_token' || n.startsWith('blocks.');
    if (which === 'momentum') {
      // the teacher's copy (§2.1), named as the online encoder; host-held values are copied
      const ps = this.model.params;
      const names = ps.names('momentum').filter((n) => isEncoder(n.slice('mm_'.length)));
      const out: NamedArray[] = await Promise.all(
        names.map(async (name) => ({
          name: name.slice('mm_'.length),
          shape: ps.shapeOf(name),
          data: new Float32Array(await ps.values(name)),
        })),
      );
      const pe = this.model.posEmbed;
      out.push({ name: 'pos_embed', shape: [1, ...pe.shape], data: (await pe.data()) as Float32Array });
      return out;
    }
    const names = this.model.params.names().filter(isEncoder);
    const out = await readAll(names.map((name) => [name, this.model.params.get(name)]));
    const pe = this.model.posEmbed;
    out.push({ name: 'pos_embed', shape: [1, ...pe.shape], data: (await pe.data()) as Float32Array });
    return out;
  }

  /**
   * Restores weights and optimiser state saved by exportTensors. Every parameter of this model must
   * be present with the same shape; anything else is refused with a message naming the tensor.
   */
  importTensors(tensors: Map<string, NamedArray>, step: number, optimizerStep: number, what: string): void {
    const sameShape = (a: readonly number[], b: readonly number[]) =>
      a.length === b.length && a.every((d, i) => d === b[i]);
    const ps = this.model.params;
    for (const name of ps.names()) {
      const t = tensors.get(name);
      const shape = ps.shapeOf(name);
      if (!t) throw new Error(`${what} has no tensor ${name}: it was written for another model configuration`);
      if (!sameShape(t.shape, shape))
        throw new Error(`${what}: tensor ${name} has shape [${t.shape}], this model needs [${shape}]`);
    }
    for (const [key, t] of tensors) {
      if (!key.startsWith(OPT_M) && !key.startsWith(OPT_V)) continue;
      const name = key.slice(OPT_M.length);
      if (!ps.has(name) || ps.roles.get(name) !== 'online')
        throw new Error(`${what}: optimiser state for unknown parameter ${name}`);
      if (!sameShape(t.shape, ps.shapeOf(name))) throw new Error(`${what}: optimiser state ${key} has the wrong shape`);
    }
    for (const name of ps.names()) ps.setValues(name, tensors.get(name)!.data);
    this.optimizer.dispose();
    for (const [key, t] of tensors) {
      if (key.startsWith(OPT_M) || key.startsWith(OPT_V))
        this.optimizer.setMoment(key.startsWith(OPT_M) ? 'm' : 'v', key.slice(OPT_M.length), t.data, t.shape);
    }
    this.step = step;
    this.optimizer.step = optimizerStep;
  }

  dispose(): void {
    this.model.dispose();
    this.optimizer.dispose();
  }
}
