/**
 * A face-alignment run as a run of the store, the same for `camd finetune --task landmarks` and for
 * the app's worker: the run folder created and locked (finetune.json, events.jsonl), the run
 * recorded and claimed, then landmark-run.ts's events turned into the store's records and the run
 * events every fine-tuning run speaks (protocol/events.ts):
 *
 *   prepare   → progress (decoding)             the faces cut out
 *   start     → start (task landmarks)          `classes` is the number of points
 *   step      → step; metrics loss, lr          at the run's step, epochs fractional
 *   eval      → eval (metric nme); metrics test/nme, test/failure_rate10, test/auc10;
 *               an evaluation of the test split with the CED in its detail
 *   done      → the model as a checkpoint of the run; done
 *
 * NME is lower-is-better: the epoch reported is the last (no validation split to select by), and
 * the best over epochs is the lowest.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openRunFolder } from '../finetune/run-folder.js';
import { LANDMARK_DEFAULTS } from '../protocol/defaults.js';
import type { EventSink, RunEvent } from '../protocol/events.js';
import type { LandmarkSpec } from '../protocol/landmark-spec.js';
import { Store } from '../store/store.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { CamdError } from '../util/errors.js';
import { onHardExit } from '../util/exit-hooks.js';
import { defaultDbPath } from '../util/paths.js';
import { currentProcess } from '../util/process-identity.js';
import { describeUserFacing } from '../util/system-errors.js';
import { FORMAT_SCHEME } from '../geometry/landmark-formats.js';
import { SCHEMES } from '../geometry/landmark-schemes.js';
import { type LandmarkRunEvent, runLandmarks } from './landmark-run.js';

export interface LandmarkJobResult {
  outcome: 'completed' | 'stopped';
  runId: string;
  outDir: string;
}

/** The spec with its defaults filled in (protocol/defaults.ts LANDMARK_DEFAULTS). */
function settingsOf(spec: LandmarkSpec) {
  const D = LANDMARK_DEFAULTS;
  return {
    epochs: spec.epochs ?? D.epochs,
    batch: spec.batch ?? D.batch,
    blr: spec.blr ?? D.blr,
    warmupEpochs: spec.warmupEpochs ?? D.warmupEpochs,
    dropPath: spec.dropPath ?? D.dropPath,
    weightDecay: D.weightDecay,
    seed: spec.seed ?? 0,
  };
}

/** Runs a face-alignment run recorded in the store; `spec` is validated (protocol/landmark-spec.ts). */
export async function runLandmarkJob(
  spec: LandmarkSpec,
  emit: EventSink,
  signal: AbortSignal,
): Promise<LandmarkJobResult> {
  const s = settingsOf(spec);
  const outDir = spec.out;
  const folder = openRunFolder(outDir);
  const dbPath = spec.db ?? defaultDbPath();
  let store: Store;
  try {
    store = new Store(dbPath);
  } catch (e) {
    folder.release();
    throw e;
  }
  const runId = spec.runId ?? randomUUID();
  const eventsFile = join(outDir, 'events.jsonl');
  let started = false;
  let step = 0;
  let stepsPerEpoch = 1;
  let batch = 1;
  let t = performance.now();
  const history: { epoch: number; nme: number }[] = [];
  const t0 = performance.now();
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

  const record = (e: LandmarkRunEvent): void => {
    if (e.type === 'prepare') {
      send({ type: 'progress', phase: 'decoding', done: e.done, total: e.total });
    } else if (e.type === 'start') {
      stepsPerEpoch = e.steps_per_epoch;
      batch = e.batch;
      const config = {
        task: 'landmarks',
        format: spec.format,
        scheme: e.scheme,
        points: e.points,
        data: spec.data,
        init: spec.init,
        model: e.model,
        train: e.train,
        test: e.test,
        test_data: spec.testData ?? null,
        split:
          spec.testData !== undefined
            ? `the dataset's own test set (${spec.testData}): ${e.test} faces`
            : `a seeded ${e.test} of ${e.train + e.test} held out for testing (seed ${s.seed})`,
        epochs: s.epochs,
        batch: e.batch,
        blr: s.blr,
        warmup_epochs: s.warmupEpochs,
        drop_path: s.dropPath,
        weight_decay: s.weightDecay,
        seed: s.seed,
        pos_embed: e.pos_embed,
      };
      const dataset = store.datasetByRoot(spec.data);
      const parentRunId = spec.init === 'none' ? null : store.runOfCheckpointFile(spec.init);
      const fields = {
        config: JSON.stringify(config),
        dataset_id: dataset?.id ?? null,
        parent_run_id: parentRunId,
        out_dir: outDir,
        total_steps: s.epochs * e.steps_per_epoch,
      };
      if (store.run(runId))
        store.updateRun(runId, fields); // queued by the app
      else
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
        task: 'landmarks',
        format: spec.format,
        classes: e.points,
        train: e.train,
        val: 0,
        test: e.test,
        dropped: e.skipped,
        init: spec.init,
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
      const m = e.summary;
      history.push({ epoch: e.epoch, nme: m.nme });
      store.addMetrics(runId, [
        { step, epoch: e.epoch, name: 'test/nme', value: m.nme },
        { step, epoch: e.epoch, name: 'test/failure_rate10', value: m.failureRate10 },
        { step, epoch: e.epoch, name: 'test/auc10', value: m.auc10 },
      ]);
      store.addEvaluation({
        run_id: runId,
        dataset_id: store.run(runId)?.dataset_id ?? null,
        epoch: e.epoch,
        split: 'test',
        metric: 'nme',
        value: m.nme,
        detail: {
          metric: 'nme',
          n: m.count,
          failure_rate10: m.failureRate10,
          auc10: m.auc10,
          ced: m.ced,
          normaliser: SCHEMES[FORMAT_SCHEME[spec.format]].normaliser,
        },
      });
      send({
        type: 'eval',
        epoch: e.epoch,
        split: 'test',
        metric: 'nme',
        value: m.nme,
        n: m.count,
        failure_rate10: m.failureRate10,
        auc10: m.auc10,
      });
    } else if (e.type === 'done') {
      if (e.file) {
        const bytes = readFileSync(e.file);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        // a fine-tuned model of the run (its file's own format says it is a landmark model)
        store.replaceCheckpoint({ run_id: runId, step, kind: 'classifier', path: e.file, sha256, bytes: bytes.length });
        send({ type: 'checkpoint', role: 'best', epoch: history.at(-1)?.epoch ?? 0, step, path: e.file, sha256 });
      }
    }
  };

  try {
    await runLandmarks(
      {
        format: spec.format,
        data: spec.data,
        ...(spec.testData !== undefined ? { testData: spec.testData } : {}),
        init: spec.init,
        preset: spec.preset,
        imgSize: spec.imgSize,
        ...s,
        out: outDir,
        backend: spec.backend,
      },
      record,
      signal,
    );
    const stopped = signal.aborted;
    const last = history.at(-1) ?? null;
    const best = history.length ? history.reduce((a, b) => (b.nme < a.nme ? b : a)) : null;
    if (best) {
      store.selectEvaluationEpoch(runId, last!.epoch);
      store.addEvaluation({
        run_id: runId,
        dataset_id: store.run(runId)?.dataset_id ?? null,
        epoch: best.epoch,
        split: 'test',
        metric: 'nme_best_over_epochs',
        value: best.nme,
        detail: { note: 'lowest test NME over epochs; the model kept is the last epoch’s' },
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
      test_at_selected: last?.nme ?? null,
      best_test: best?.nme ?? null,
      best_test_epoch: best?.epoch ?? null,
      metric: 'nme',
      checkpoint: last ? join(outDir, 'landmarks.safetensors') : null,
      last: null,
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

export type { RunEvent };
