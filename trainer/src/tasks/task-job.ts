/**
 * A face-geometry fine-tuning run (face alignment, head pose, face parsing) as a run of the store,
 * the same for `camd finetune --task …` and for the app's worker. Each task's own run (its model,
 * views, loop and files, in its folder) speaks TaskRunEvents through its adapter (TaskAdapter); this
 * module does what is common: the run folder created and locked (finetune.json, events.jsonl), the
 * run recorded and claimed, and the task's events turned into the store's records and the run
 * events every fine-tuning run speaks (protocol/events.ts):
 *
 *   prepare   → progress (decoding)              the faces cut out or found
 *   start     → start (the task)                 `classes` is the head's outputs (points, classes)
 *   step      → step; metrics loss, lr           at the run's step, epochs fractional
 *   eval      → eval (the task's metric, its other figures as `values`); metrics test/<name>;
 *               an evaluation of the test split with the task's detail (a CED, per-class F1, …)
 *   done      → the model as the run's fine-tuned checkpoint; done
 *
 * The model kept is the last epoch's (no validation split to select by); the best test value over
 * epochs is recorded beside it, lowest or highest as the metric goes. A run stopped inside an epoch
 * (Ctrl-C, SIGTERM) keeps the model as it was at the stop: recorded as the run's `last` checkpoint
 * (done's `last`), not as the last evaluated epoch's, whose figures it no longer has.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openRunFolder } from '../finetune/run-folder.js';
import { testSplitWords } from './task-setup.js';
import type { ModelConfig } from '../model/config.js';
import { lowerIsBetter, type EventSink } from '../protocol/events.js';
import { Store } from '../store/store.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { CamdError } from '../util/errors.js';
import { onHardExit } from '../util/exit-hooks.js';
import { defaultDbPath } from '../util/paths.js';
import { currentProcess } from '../util/process-identity.js';
import { describeUserFacing } from '../util/system-errors.js';

export type GeometryMetric = 'nme' | 'mae' | 'mean_f1';

/** What a task's run tells the job (each task's adapter translates its own events into these). */
export type TaskRunEvent<S> =
  | { type: 'prepare'; done: number; total: number }
  | {
      type: 'start';
      train: number;
      test: number;
      /** Samples not read (no annotation, a missing image, no face found). */
      skipped: number;
      backend: string;
      backend_detail: string;
      pos_embed: string;
      model: ModelConfig;
      batch: number;
      steps_per_epoch: number;
      /** The head's outputs, in words for `start.classes`: points, classes, rotation numbers. */
      outputs: number;
      /** The task's own settings for the run's record (scheme, classes, split, …). */
      config: Record<string, unknown>;
    }
  | { type: 'step'; epoch: number; step: number; loss: number; lr: number }
  | { type: 'eval'; epoch: number; summary: S }
  | { type: 'done'; file: string | null };

/** The common settings of a geometry task's spec (protocol/*-spec.ts), defaults filled in. */
export interface TaskSettings {
  task: string;
  format: string;
  data: string;
  testData?: string;
  init: string;
  epochs: number;
  blr: number;
  warmupEpochs: number;
  dropPath: number;
  weightDecay: number;
  seed: number;
  out: string;
  db?: string;
  runId?: string;
}

/** A task's defaults (protocol/defaults.ts): the schedule its spec leaves out. */
export interface TaskDefaults {
  epochs: number;
  batch: number;
  blr: number;
  warmupEpochs: number;
  dropPath: number;
  weightDecay: number;
}

/** A geometry spec with the task's defaults filled in (the weight decay is the task's, not a flag). */
export function withDefaults<T extends Partial<Omit<TaskDefaults, 'weightDecay'>> & { seed?: number | undefined }>(
  spec: T,
  D: TaskDefaults,
): T & TaskDefaults & { seed: number } {
  return {
    ...spec,
    epochs: spec.epochs ?? D.epochs,
    batch: spec.batch ?? D.batch,
    blr: spec.blr ?? D.blr,
    warmupEpochs: spec.warmupEpochs ?? D.warmupEpochs,
    dropPath: spec.dropPath ?? D.dropPath,
    weightDecay: D.weightDecay,
    seed: spec.seed ?? 0,
  };
}

export interface TaskAdapter<S> {
  task: string;
  metric: GeometryMetric;
  /** Runs the task into `settings.out`, its events to `emit`; the model file named in `done`. */
  run(emit: (e: TaskRunEvent<S>) => void, signal: AbortSignal): Promise<unknown>;
  /** A summary's headline value, number of test faces, other figures (named, for metrics and events) and detail (the evaluation's). */
  figures(s: S): { value: number; n: number; values: Record<string, number>; detail: Record<string, unknown> };
}

export interface TaskJobResult {
  outcome: 'completed' | 'stopped';
  runId: string;
  outDir: string;
}

/** Runs a geometry task's run recorded in the store. */
export async function runTaskJob<S>(
  settings: TaskSettings,
  adapter: TaskAdapter<S>,
  emit: EventSink,
  signal: AbortSignal,
): Promise<TaskJobResult> {
  const s = settings;
  const outDir = s.out;
  const folder = openRunFolder(outDir);
  const dbPath = s.db ?? defaultDbPath();
  let store: Store;
  try {
    store = new Store(dbPath);
  } catch (e) {
    folder.release();
    throw e;
  }
  const runId = s.runId ?? randomUUID();
  const eventsFile = join(outDir, 'events.jsonl');
  let started = false;
  let step = 0;
  let stepsPerEpoch = 1;
  let batch = 1;
  let file: string | null = null;
  /** The model file was written inside an epoch (a stop), after the last evaluation. */
  let midEpoch = false;
  let t = performance.now();
  const history: { epoch: number; value: number }[] = [];
  const t0 = performance.now();
  const better = (a: number, b: number) => (lowerIsBetter(adapter.metric) ? a < b : a > b);
  const send: EventSink = (e) => {
    if (started && e.type !== 'progress') appendFileSync(eventsFile, `${JSON.stringify(e)}\n`);
    emit(e);
  };
  const offHardExit = onHardExit((reason) => {
    if (!started) return;
    const msg = `quit at once (${reason}) after step ${step}; nothing was written for the unfinished epoch`;
    store.updateRun(runId, {
      status: 'interrupted',
      error: msg,
      finished_at: new Date().toISOString(),
      last_step: step,
    });
    appendFileSync(eventsFile, `${JSON.stringify({ type: 'error', message: msg, cause: 'io' })}\n`);
    folder.lock.release();
  });

  const record = (e: TaskRunEvent<S>): void => {
    if (e.type === 'prepare') {
      send({ type: 'progress', phase: 'decoding', done: e.done, total: e.total });
    } else if (e.type === 'start') {
      stepsPerEpoch = e.steps_per_epoch;
      batch = e.batch;
      const config = {
        task: s.task,
        format: s.format,
        data: s.data,
        test_data: s.testData ?? null,
        init: s.init,
        model: e.model,
        train: e.train,
        test: e.test,
        split: testSplitWords(s.testData, e.test, e.train + e.test, s.seed),
        epochs: s.epochs,
        batch: e.batch,
        blr: s.blr,
        warmup_epochs: s.warmupEpochs,
        drop_path: s.dropPath,
        weight_decay: s.weightDecay,
        seed: s.seed,
        pos_embed: e.pos_embed,
        // the task's own (its scheme, classes; a split of the dataset's own, as parsing's)
        ...e.config,
      };
      const dataset = store.datasetByRoot(s.data);
      const parentRunId = s.init === 'none' ? null : store.runOfCheckpointFile(s.init);
      const fields = {
        config: JSON.stringify(config),
        dataset_id: dataset?.id ?? null,
        parent_run_id: parentRunId,
        out_dir: outDir,
        total_steps: s.epochs * e.steps_per_epoch,
      };
      if (store.run(runId)) {
        // queued by the app, which knows the dataset and the encoder's run
        const row = store.run(runId)!;
        store.updateRun(runId, {
          ...fields,
          dataset_id: row.dataset_id ?? fields.dataset_id,
          parent_run_id: row.parent_run_id ?? fields.parent_run_id,
        });
      } else
        store.createRun({
          id: runId,
          kind: 'finetune',
          datasetId: fields.dataset_id,
          parentRunId,
          config,
          seed: s.seed,
          outDir,
          totalSteps: fields.total_steps,
        });
      writeFileAtomic(
        join(outDir, 'finetune.json'),
        Buffer.from(
          `${JSON.stringify({ format: 'camd-finetune', version: 1, run_id: runId, db: dbPath, config, created_at: new Date().toISOString() }, null, 2)}\n`,
        ),
      );
      store.claimRun(runId, currentProcess(), {
        backend: e.backend,
        backend_detail: e.backend_detail,
        started_at: new Date().toISOString(),
      });
      started = true;
      send({
        type: 'start',
        kind: 'finetune',
        run_id: runId,
        out_dir: outDir,
        db: dbPath,
        backend: e.backend,
        task: s.task as never,
        format: s.format,
        classes: e.outputs,
        train: e.train,
        val: 0,
        test: e.test,
        dropped: e.skipped,
        init: s.init,
        pos_embed: e.pos_embed,
        epochs: s.epochs,
        steps_per_epoch: e.steps_per_epoch,
        batch: e.batch,
        dropped_per_epoch: e.train - e.steps_per_epoch * e.batch,
        linear_probe: false,
      });
      t = performance.now();
    } else if (e.type === 'step') {
      step = (e.epoch - 1) * stepsPerEpoch + e.step;
      const epoch = e.epoch - 1 + e.step / stepsPerEpoch;
      store.addMetrics(runId, [
        { step, epoch, name: 'loss', value: e.loss },
        { step, epoch, name: 'lr', value: e.lr },
      ]);
      const now = performance.now();
      send({
        type: 'step',
        kind: 'finetune',
        step,
        epoch: e.epoch,
        loss: e.loss,
        lr: e.lr,
        images_per_s: (batch * 1000) / Math.max(1, now - t),
      });
      t = now;
    } else if (e.type === 'eval') {
      const f = adapter.figures(e.summary);
      history.push({ epoch: e.epoch, value: f.value });
      store.addMetrics(runId, [
        { step, epoch: e.epoch, name: `test/${adapter.metric}`, value: f.value },
        ...Object.entries(f.values).map(([name, value]) => ({ step, epoch: e.epoch, name: `test/${name}`, value })),
      ]);
      store.addEvaluation({
        run_id: runId,
        dataset_id: store.run(runId)?.dataset_id ?? null,
        epoch: e.epoch,
        split: 'test',
        metric: adapter.metric,
        value: f.value,
        detail: { metric: adapter.metric, n: f.n, ...f.values, ...f.detail },
      });
      send({
        type: 'eval',
        epoch: e.epoch,
        split: 'test',
        metric: adapter.metric,
        value: f.value,
        n: f.n,
        values: f.values,
      });
    } else if (e.type === 'done') {
      file = e.file;
      if (e.file) {
        const bytes = readFileSync(e.file);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        // the run's fine-tuned model (its file's own format says which task's); stopped inside an
        // epoch, it is the model as it was then, past the last evaluated epoch: 'last', not that epoch's
        const evaluated = history.at(-1)?.epoch ?? 0;
        midEpoch = step !== evaluated * stepsPerEpoch;
        const role = midEpoch ? 'last' : 'best';
        store.replaceCheckpoint({
          run_id: runId,
          step,
          kind: midEpoch ? 'last' : 'classifier',
          path: e.file,
          sha256,
          bytes: bytes.length,
        });
        send({ type: 'checkpoint', role, epoch: evaluated, step, path: e.file, sha256 });
      }
    }
  };

  try {
    await adapter.run(record, signal);
    const stopped = signal.aborted;
    const last = history.at(-1) ?? null;
    const best = history.length ? history.reduce((a, b) => (better(b.value, a.value) ? b : a)) : null;
    if (last && best) {
      store.selectEvaluationEpoch(runId, last.epoch);
      store.addEvaluation({
        run_id: runId,
        dataset_id: store.run(runId)?.dataset_id ?? null,
        epoch: best.epoch,
        split: 'test',
        metric: `${adapter.metric}_best_over_epochs`,
        value: best.value,
        detail: {
          note: `${lowerIsBetter(adapter.metric) ? 'lowest' : 'highest'} test value over epochs; the model kept is the last epoch’s`,
        },
      });
    }
    if (started)
      store.updateRun(runId, {
        status: stopped ? 'stopped' : 'done',
        finished_at: new Date().toISOString(),
        last_step: step,
      });
    send({
      type: 'done',
      kind: 'finetune',
      reason: stopped ? 'interrupted' : 'completed',
      seconds: (performance.now() - t0) / 1000,
      step,
      selected_epoch: last?.epoch ?? null,
      selected_by: last ? 'last' : null,
      test_at_selected: last?.value ?? null,
      best_test: best?.value ?? null,
      best_test_epoch: best?.epoch ?? null,
      metric: adapter.metric,
      checkpoint: last && !midEpoch ? file : null,
      last: midEpoch ? file : null,
    });
    return { outcome: stopped ? 'stopped' : 'completed', runId, outDir };
  } catch (e) {
    if (!started) throw e;
    const uf = describeUserFacing(e);
    const msg = uf ? `${uf.message} (at step ${step})` : `internal error at step ${step}: ${(e as Error).message}`;
    store.updateRun(runId, { status: 'failed', error: msg, finished_at: new Date().toISOString(), last_step: step });
    appendFileSync(eventsFile, `${JSON.stringify({ type: 'error', message: msg, cause: uf?.kind ?? 'internal' })}\n`);
    if (!uf) throw e;
    throw new CamdError(uf.kind === 'disk-full' ? 'disk-full' : 'io', msg);
  } finally {
    offHardExit();
    store.close();
    folder.release();
  }
}
