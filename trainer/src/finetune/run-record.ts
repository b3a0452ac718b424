/**
 * A fine-tuning run's record: its configuration in the run folder (finetune.json) and the store,
 * its events file, and how it ended when the loop could not say so (a failure, a hard quit).
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendDetail, type Selection } from '../backends/ladder.js';
import type { FinetuneSpec } from '../protocol/specs.js';
import type { Store } from '../store/store.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { CamdError } from '../util/errors.js';
import { onHardExit } from '../util/exit-hooks.js';
import type { FolderLock } from '../util/folder-lock.js';
import { currentProcess } from '../util/process-identity.js';
import { describeUserFacing } from '../util/system-errors.js';
import type { Classifier } from './classifier.js';
import type { LabelledData } from './run-data.js';
import type { Schedule } from './run-schedule.js';
import type { FinetuneSettings } from './run-settings.js';
import { IMAGENET_MEAN, IMAGENET_STD } from './transforms.js';

export interface RunInputs {
  spec: FinetuneSpec;
  settings: FinetuneSettings;
  data: LabelledData;
  schedule: Schedule;
  clf: Classifier;
  /** How the classifier's pos_embed was made. */
  posNote: string;
}

/** The run's configuration, as finetune.json and the store's run row hold it. */
function configOf({ spec, settings, data, schedule, clf, posNote }: RunInputs) {
  const { ds } = data;
  const normalisation = { name: 'imagenet', mean: IMAGENET_MEAN, std: IMAGENET_STD };
  return {
    task: settings.task,
    format: ds.set.format,
    data: ds.root,
    schema_id: ds.schemaId,
    field_ids: ds.fieldIds,
    labels: spec.labels ?? (spec.format === 'store' ? 'human' : null),
    init: spec.init,
    model: settings.model,
    outputs: ds.set.names.length,
    names: ds.set.names,
    split: ds.set.splitNote,
    few_shot: spec.fewShot ?? null,
    linear_probe: settings.linearProbe,
    epochs: settings.epochs,
    batch: schedule.batch,
    blr: schedule.blr,
    lr: schedule.lr0,
    warmup_epochs: schedule.warmup,
    layer_decay: schedule.decay,
    drop_path: clf.spec.dropPath,
    augmentation: settings.aug,
    min_lr: schedule.minLr,
    seed: settings.seed,
    pos_embed: posNote,
    normalisation,
  };
}

export type RunConfig = ReturnType<typeof configOf>;

export interface RecordedRun {
  runId: string;
  config: RunConfig;
  eventsFile: string;
}

/** The run recorded (folder, then store) and claimed by this process on its backend. */
export function recordRun(
  run: RunInputs,
  where: { store: Store; dbPath: string; outDir: string },
  sel: Selection,
): RecordedRun {
  const { store, dbPath, outDir } = where;
  const { ds } = run.data;
  const { epochs, seed, encoder } = run.settings;
  const totalSteps = epochs * run.schedule.plan.stepsPerEpoch;
  const runId = run.spec.runId ?? randomUUID();
  const config = configOf(run);
  const parentRunId = encoder?.runId && store.run(encoder.runId) ? encoder.runId : null;
  if (store.run(runId))
    store.updateRun(runId, {
      config: JSON.stringify(config),
      dataset_id: ds.datasetId,
      parent_run_id: parentRunId,
      out_dir: outDir,
      total_steps: totalSteps,
    }); // queued by the app
  else
    store.createRun({
      id: runId,
      kind: 'finetune',
      datasetId: ds.datasetId,
      parentRunId,
      config,
      seed,
      outDir,
      totalSteps,
    });
  writeFileAtomic(
    join(outDir, 'finetune.json'),
    Buffer.from(
      `${JSON.stringify({ format: 'camd-finetune', version: 1, run_id: runId, db: dbPath, config, created_at: new Date().toISOString() }, null, 2)}\n`,
    ),
  );
  store.claimRun(runId, currentProcess(), {
    backend: sel.backend,
    backend_detail: backendDetail(sel),
    started_at: new Date().toISOString(),
  });
  return { runId, config, eventsFile: join(outDir, 'events.jsonl') };
}

/** A hard quit (second Ctrl-C) still records the run as interrupted, and unlocks its folder; returns the hook's removal. */
export function recordHardExit(store: Store, run: RecordedRun, lock: FolderLock, step: () => number): () => void {
  return onHardExit((reason) => {
    const msg = `quit at once (${reason}) after step ${step()}; nothing was written for the unfinished epoch`;
    store.updateRun(run.runId, {
      status: 'interrupted',
      error: msg,
      finished_at: new Date().toISOString(),
      last_step: step(),
    });
    appendFileSync(run.eventsFile, `${JSON.stringify({ type: 'error', message: msg, cause: 'io' })}\n`);
    lock.release();
  });
}

/** A run that failed at `step` (a full disk while writing best.safetensors, a vanished cache file, …), recorded in one line; rethrown as the user's error where it is one. */
export function recordFailure(store: Store, run: RecordedRun, step: number, e: unknown): never {
  const uf = describeUserFacing(e);
  const msg = uf ? `${uf.message} (at step ${step})` : `internal error at step ${step}: ${(e as Error).message}`;
  store.updateRun(run.runId, {
    status: 'failed',
    error: msg,
    finished_at: new Date().toISOString(),
    last_step: step,
  });
  appendFileSync(run.eventsFile, `${JSON.stringify({ type: 'error', message: msg, cause: uf?.kind ?? 'internal' })}\n`);
  if (!uf) throw e;
  throw new CamdError(uf.kind === 'disk-full' ? 'disk-full' : 'io', msg);
}
