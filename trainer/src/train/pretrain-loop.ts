/**
 * The pre-training loop (the "engine" that MAE keeps apart from its setup): steps until the run
 * is done or stopped, metrics to the store in batched transactions, a checkpoint every N steps,
 * at a stop and at the end, retention of old checkpoints, then the encoder export.
 */
import { probeEncoder, type ProbeSet } from '../probe/evaluate.js';
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { CamdTrainer } from './step.js';
import { toDeviceBatch, disposeBatch, type HostBatch } from './synthetic.js';
import { tensorFileParts, CHECKPOINT_FORMAT, ENCODER_FORMAT } from '../store/checkpoint.js';
import { writeFileAtomicYielding } from '../util/atomic-file.js';
import { checkpointName, type RunFolder } from './run-folder.js';
import type { EventSink } from '../protocol/events.js';
import type { BatchSource } from '../data/batches.js';
import type { Store } from '../store/store.js';
import type { CamdConfig } from '../model/config.js';
import { VGGFACE2_MEAN, VGGFACE2_STD } from '../data/augment.js';

export interface LoopContext {
  trainer: CamdTrainer;
  source: BatchSource;
  store: Store;
  folder: RunFolder;
  runId: string;
  /** Settings of the computation (saved in run.json and in every checkpoint). */
  settings: { seed: number; batch: number };
  settingsRecord: unknown;
  totalSteps: number;
  checkpointEvery: number;
  keep: number;
  cfg: CamdConfig;
  signal: AbortSignal;
  send: EventSink;
  /** The newest good checkpoint (written or resumed from). */
  lastCheckpoint: string | null;
  /** The checkpoint the run resumed from: retention keeps it until `keep` newer ones exist. */
  resumedFrom: string | null;
  /** Checkpoints written by this process. */
  written: string[];
  stopAt?: number;
  /** The representation-quality monitor: a labelled probe set, probed every `every` epochs and at the end. */
  probe?: { set: ProbeSet; every: number } | null;
}

export type LoopOutcome = 'completed' | 'stopped' | 'diverged';

function stateOf(c: LoopContext): Record<string, unknown> {
  const { trainer } = c;
  return {
    kind: 'camd-pretrain',
    run_id: c.runId,
    step: trainer.step,
    optimizer_step: trainer.optimizer.step,
    total_steps: c.totalSteps,
    schedule: trainer.sched,
    config: trainer.cfg,
    settings: c.settingsRecord,
    // Every random draw of step s comes from Rng(seed).fork("step-s") (batches.ts), so (seed, step) is the whole RNG state.
    rng: { scheme: 'fork-per-step', seed: c.settings.seed, next_step: trainer.step },
    normalisation: { name: 'vggface2', mean: VGGFACE2_MEAN, std: VGGFACE2_STD },
  };
}

export async function writeCheckpoint(c: LoopContext): Promise<void> {
  const { trainer, folder, runId, store } = c;
  const file = join(folder.checkpointsDir, checkpointName(trainer.step));
  c.send({ type: 'progress', phase: 'checkpoint', done: 0, total: 1 });
  // room first: on a nearly full disk the new file must not need the space of the ones it replaces.
  // Down to keep − 1 (never below one intact checkpoint) before writing, to keep after.
  const early = folder.prune(Math.max(1, c.keep - 1), resumedFromProtected(c, 1));
  if (early.length) store.removeCheckpoints(runId, early);
  const { parts, bytes, sha256 } = tensorFileParts(CHECKPOINT_FORMAT, stateOf(c), await trainer.exportTensors());
  await writeFileAtomicYielding(file, parts); // a second Ctrl-C quits during a long write, not after it
  store.addCheckpoint({ run_id: runId, step: trainer.step, kind: 'full', path: file, sha256, bytes });
  c.lastCheckpoint = file;
  c.written.push(file);
  c.send({ type: 'progress', phase: 'checkpoint', done: 1, total: 1 });
  c.send({ type: 'checkpoint', role: 'full', step: trainer.step, path: file, sha256 });
  const removed = c.folder.prune(c.keep, resumedFromProtected(c, 0));
  if (removed.length) store.removeCheckpoints(runId, removed);
}

/** Retention: never the checkpoint we resumed from while fewer than `keep` newer ones exist (`pending`: written soon). */
function resumedFromProtected(c: LoopContext, pending: number): Set<string> {
  const protect = new Set<string>();
  if (c.resumedFrom && c.written.filter((f) => f !== c.resumedFrom).length + pending < c.keep)
    protect.add(c.resumedFrom);
  return protect;
}

async function writeEncoder(c: LoopContext): Promise<string> {
  const { trainer, folder, runId, store } = c;
  const file = join(folder.dir, 'encoder.safetensors');
  const state = {
    kind: 'camd-encoder',
    run_id: runId,
    step: trainer.step,
    model: c.cfg.model,
    normalisation: { name: 'vggface2', mean: VGGFACE2_MEAN, std: VGGFACE2_STD },
  };
  const { parts, bytes, sha256 } = tensorFileParts(ENCODER_FORMAT, state, await trainer.exportEncoder());
  await writeFileAtomicYielding(file, parts);
  store.replaceCheckpoint({
    run_id: runId,
    step: trainer.step,
    kind: 'encoder',
    path: file,
    sha256,
    bytes,
  });
  return file;
}

/**
 * The probe monitor (probe/evaluate.ts) on the momentum (teacher) and the online encoder at this
 * step: k-NN and linear-probe accuracy recorded as metrics `probe/knn_<m>`, `probe/linear_<m>`
 * (teacher) and `probe/online_knn_<m>`, `probe/online_linear_<m>` (m: top1 or mean_acc), with the
 * seconds it took as `probe/seconds`.
 */
async function runMonitor(c: LoopContext, epoch: number, push: (name: string, value: number) => void): Promise<void> {
  const p = c.probe!;
  const t0 = performance.now();
  const scores = [];
  for (const which of ['momentum', 'online'] as const) {
    const tensors = new Map((await c.trainer.exportEncoder(which)).map((t) => [t.name, t]));
    scores.push(await probeEncoder(c.cfg.model, tensors, p.set, c.store.file));
  }
  const [teacher, online] = scores as [
    Awaited<ReturnType<typeof probeEncoder>>,
    Awaited<ReturnType<typeof probeEncoder>>,
  ];
  const m = teacher.metric;
  const seconds = (performance.now() - t0) / 1000;
  push(`probe/knn_${m}`, teacher.knn);
  push(`probe/linear_${m}`, teacher.linear);
  push(`probe/online_knn_${m}`, online.knn);
  push(`probe/online_linear_${m}`, online.linear);
  push('probe/seconds', seconds);
  c.send({
    type: 'log',
    level: 'info',
    message: `probe at epoch ${epoch} (step ${c.trainer.step}): k-NN ${m} ${teacher.knn.toFixed(3)} (online ${online.knn.toFixed(3)}), linear ${teacher.linear.toFixed(3)} (online ${online.linear.toFixed(3)}) on ${teacher.test} held-out face(s), ${seconds.toFixed(1)} s`,
  });
}

/**
 * The monitor's references, once, before the run's first step: the probe of the weights the run
 * starts from (at its starting step, as the curves' first point) and of an untrained network of the
 * same architecture (`probe/untrained_*`: fine-tuning's initialisation, as `camd probe --random`),
 * and the number of held-out faces (`probe/held_out`: one face is 1/n of an accuracy) — what the
 * run view's verdict compares the later probes with.
 */
async function probeReferences(c: LoopContext, push: (name: string, value: number) => void): Promise<void> {
  await runMonitor(c, Math.floor(c.trainer.step / c.source.itersPerEpoch), push);
  const untrained = await probeEncoder(c.cfg.model, 'random', c.probe!.set, c.store.file);
  push(`probe/untrained_knn_${untrained.metric}`, untrained.knn);
  push(`probe/untrained_linear_${untrained.metric}`, untrained.linear);
  push('probe/held_out', untrained.test);
  c.send({
    type: 'log',
    level: 'info',
    message: `probe of an untrained network (the reference): k-NN ${untrained.metric} ${untrained.knn.toFixed(3)}, linear ${untrained.linear.toFixed(3)} on ${untrained.test} held-out face(s)`,
  });
}

const METRIC_NAMES = [
  'loss',
  'loss_dense',
  'loss_global',
  'loss_agmd',
  'lr',
  'mm',
  'grad_norm',
  'images_per_s',
] as const;

/** Steps until done or stopped; checkpoints every N steps, at a stop and at the end. */
export async function trainLoop(c: LoopContext): Promise<LoopOutcome> {
  const { trainer, source, store, runId, settings, totalSteps, signal, send } = c;
  const ipe = source.itersPerEpoch;
  const t0 = performance.now();
  const pending: { step: number; epoch: number; name: string; value: number; t: number }[] = [];
  let flushed = performance.now();
  const flush = () => {
    store.addMetrics(runId, pending.splice(0));
    store.updateRun(runId, { last_step: trainer.step });
    flushed = performance.now();
  };
  // the probe's references before the first step of the run (not again when it resumes)
  if (c.probe && store.metrics([runId], ['probe/held_out']).length === 0) {
    const at = Date.now();
    const s0 = trainer.step;
    await probeReferences(c, (name, value) => pending.push({ step: s0, epoch: s0 / ipe, name, value, t: at }));
    flush();
  }
  let prefetch: Promise<HostBatch> | null = trainer.step < totalSteps ? source.batch(trainer.step) : null;
  let sinceCheckpoint = 0;
  try {
    while (trainer.step < totalSteps) {
      const ts = performance.now();
      const host = await prefetch!;
      prefetch = trainer.step + 1 < totalSteps ? source.batch(trainer.step + 1) : null; // libvips works while we train
      const batch = toDeviceBatch(host);
      let m;
      try {
        m = await trainer.trainStep(batch);
      } finally {
        disposeBatch(batch);
      }
      const step = trainer.step;
      if (![m.loss, m.loss_dense, m.loss_global, m.loss_agmd].every(Number.isFinite)) {
        flush();
        const msg = `the loss became ${m.loss} at step ${step} (dense ${m.loss_dense}, global ${m.loss_global}, agmd ${m.loss_agmd}); training stopped. ${c.lastCheckpoint ? `The last good checkpoint is ${c.lastCheckpoint}.` : 'No checkpoint was written yet; --resume restarts the run from step 1 and may change its settings.'} Try a lower --blr.`;
        store.updateRun(runId, { status: 'failed', error: msg, finished_at: new Date().toISOString() });
        send({ type: 'error', message: msg, step, cause: 'diverged' });
        return 'diverged';
      }
      const ev = {
        type: 'step' as const,
        kind: 'pretrain' as const,
        step,
        epoch: Math.floor((step - 1) / ipe) + 1,
        loss: m.loss,
        loss_dense: m.loss_dense,
        loss_global: m.loss_global,
        loss_agmd: m.loss_agmd,
        lr: m.lr,
        mm: m.mm,
        grad_norm: m.grad_norm,
        images_per_s: (settings.batch * 1000) / (performance.now() - ts),
      };
      const now = Date.now();
      for (const k of METRIC_NAMES) pending.push({ step, epoch: step / ipe, name: k, value: ev[k], t: now });
      send(ev);
      sinceCheckpoint++;
      const last = step >= totalSteps;
      const stopHere = signal.aborted || (c.stopAt !== undefined && step >= c.stopAt);
      // batched, yet never more than two seconds behind: the app's curves read the store
      if (pending.length >= 400 || performance.now() - flushed > 2000) flush();
      if (sinceCheckpoint >= c.checkpointEvery || last || stopHere) {
        flush();
        await writeCheckpoint(c);
        sinceCheckpoint = 0;
      }
      if (stopHere) break;
      // the probe monitor at the end of every `every`-th epoch, and at the end of the run
      if (c.probe && ((step % ipe === 0 && (step / ipe) % c.probe.every === 0) || last)) {
        const at = Date.now();
        await runMonitor(c, Math.ceil(step / ipe), (name, value) =>
          pending.push({ step, epoch: step / ipe, name, value, t: at }),
        );
        flush();
      }
      await new Promise((r) => setImmediate(r)); // let signals in between steps
    }
  } finally {
    await prefetch?.catch(() => undefined);
  }
  flush();
  const interrupted = trainer.step < totalSteps;
  const encoder = await writeEncoder(c);
  store.updateRun(runId, {
    status: interrupted ? 'stopped' : 'done',
    finished_at: new Date().toISOString(),
    last_step: trainer.step,
  });
  send({
    type: 'done',
    kind: 'pretrain',
    step: trainer.step,
    reason: interrupted ? 'interrupted' : 'completed',
    checkpoint: c.lastCheckpoint,
    encoder,
    seconds: (performance.now() - t0) / 1000,
  });
  if (tf.memory().numTensors > 10_000)
    send({ type: 'log', level: 'warn', message: `${tf.memory().numTensors} tensors still live` });
  return interrupted ? 'stopped' : 'completed';
}
