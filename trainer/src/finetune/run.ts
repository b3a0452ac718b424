/**
 * `camd finetune`: fine-tune (or linear-probe) an encoder on a labelled face dataset and evaluate
 * it every epoch (method.md §5). This module prepares a run — the encoder, the run folder and its
 * lock, the store record, the labelled data and its decode cache, the backend, the classifier and
 * its optimiser — and loop.ts runs its epochs.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../backends/ladder.js';
import { planWasmFinetune, wasmFinetuneProblem } from '../model/memory.js';
import { hostStateKernels } from '../ops/host-state.js';
import { presetConfig, ModelConfigSchema, type ModelConfig } from '../model/config.js';
import { Store } from '../store/store.js';
import { DecodeCache } from '../data/decode-cache.js';
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { AdamW } from '../optim/adamw.js';
import { writeFileAtomic, removeStaleTemps } from '../util/atomic-file.js';
import { Classifier, readEncoder } from './classifier.js';
import { loadLabeled, type ResolvedDataset } from './dataset.js';
import { evalSide, IMAGENET_MEAN, IMAGENET_STD, DEFAULT_AUG, type AugOptions } from './transforms.js';
import type { Split } from '../labels/label-files.js';
import { finetuneLoop, type FinetuneContext, type FinetuneOutcome } from './loop.js';
import type { EventSink } from '../protocol/events.js';
import type { FinetuneSpec } from '../protocol/specs.js';
import { FINETUNE_DEFAULTS } from '../protocol/defaults.js';
import { CamdError, UserError } from '../util/errors.js';
import { describeUserFacing, makeFolder } from '../util/system-errors.js';
import { cacheDirFor, defaultDbPath } from '../util/paths.js';
import { FolderLock } from '../util/folder-lock.js';
import { currentProcess } from '../util/process-identity.js';
import { onHardExit } from '../util/exit-hooks.js';

const DEFAULTS = FINETUNE_DEFAULTS;

export interface FinetuneResult {
  outcome: FinetuneOutcome;
  runId: string;
  outDir: string;
}

/** Training images that fit in whole batches, and whether the last partial batch is kept (tiny sets). */
export function epochPlan(
  trainCount: number,
  batch: number,
): { stepsPerEpoch: number; droppedPerEpoch: number; keptPartial: boolean } {
  const full = Math.floor(trainCount / batch);
  const rest = trainCount - full * batch;
  // drop_last as the reference, except where whole batches would leave out a large part of a tiny set
  const keptPartial = rest > 0 && full < 4;
  return { stepsPerEpoch: full + (keptPartial ? 1 : 0), droppedPerEpoch: keptPartial ? 0 : rest, keptPartial };
}

/** Creates and locks the run folder; refuses one that holds a run already. `created`: it did not exist. */
function openRunFolder(outDir: string): { lock: FolderLock; created: boolean } {
  if (existsSync(outDir) && !statSync(outDir).isDirectory())
    throw new UserError(`--out ${outDir} is a file, not a folder`, 2, 'out');
  const created = !existsSync(outDir);
  makeFolder(outDir, 'the run folder');
  const lock = FolderLock.acquire(outDir, 'camd finetune');
  removeStaleTemps(outDir);
  if (existsSync(join(outDir, 'finetune.json'))) {
    lock.release();
    throw new UserError(`${outDir} already holds a fine-tuning run; choose another --out`, 2, 'out');
  }
  if (existsSync(join(outDir, 'run.json'))) {
    lock.release();
    const encoder = join(outDir, 'encoder.safetensors');
    throw new UserError(
      `${outDir} holds a pre-training run; choose another --out${existsSync(encoder) ? ` (to fine-tune its encoder: --init ${encoder})` : ''}`,
      2,
      'out',
    );
  }
  return { lock, created };
}

/** The encoder's architecture at the requested input size, and its weights (null: random init). */
function encoderOf(spec: FinetuneSpec): { model: ModelConfig; encoder: ReturnType<typeof readEncoder> | null } {
  let model: ModelConfig;
  let encoder: ReturnType<typeof readEncoder> | null = null;
  if (spec.init === 'none') model = presetConfig(spec.preset ?? DEFAULTS.preset).model;
  else {
    try {
      encoder = readEncoder(spec.init);
    } catch (e) {
      throw new UserError((e as Error).message, 2, 'init');
    }
    model = encoder.model;
  }
  const S = spec.imgSize ?? model.imgSize;
  const m2 = ModelConfigSchema.safeParse({ ...model, imgSize: S });
  if (!m2.success) throw new UserError(`--img-size ${S}: ${m2.error.issues[0]!.message}`, 2, 'imgSize');
  return { model: m2.data, encoder };
}

/** Runs a fine-tuning run; `spec` is validated (protocol/specs.ts). */
export async function finetune(spec: FinetuneSpec, emit: EventSink, signal: AbortSignal): Promise<FinetuneResult> {
  const task = spec.task;
  const seed = spec.seed ?? DEFAULTS.seed;
  const epochs = spec.epochs ?? DEFAULTS.epochs;
  const aug: AugOptions = {
    randAugment: spec.randAugment ?? DEFAULT_AUG.randAugment,
    reprob: spec.reprob ?? DEFAULT_AUG.reprob,
    minCropScale: spec.minCropScale ?? DEFAULT_AUG.minCropScale,
  };
  const maxPixels = spec.maxPixels ?? DEFAULT_MAX_PIXELS;
  const { model, encoder } = encoderOf(spec);
  const S = model.imgSize;

  const outDir = spec.out;
  const { lock, created } = openRunFolder(outDir);
  const release = () => {
    lock.release();
    // a run that failed before it started leaves no folder behind
    if (created && !existsSync(join(outDir, 'finetune.json'))) rmSync(outDir, { recursive: true, force: true });
  };
  const dbPath = spec.db ?? defaultDbPath();
  let store: Store;
  try {
    store = new Store(dbPath);
  } catch (e) {
    release();
    throw e;
  }
  for (const r of store.reapDeadRuns())
    emit({
      type: 'log',
      level: 'info',
      message: `run ${r.id} was shown as running, but its process (pid ${r.pid}) is gone: marked interrupted`,
    });
  try {
    // ---- the labelled data, decoded once ----
    const ds: ResolvedDataset = await loadLabeled(store, spec.format, spec.data, {
      split: spec.split,
      seed,
      fewShot: spec.fewShot,
      maxPixels,
      onProgress: (done, total) => emit({ type: 'progress', phase: 'scanning', done, total }),
      schema: spec.schema,
      labels: spec.labels,
    });
    if (ds.set.task !== task)
      throw new UserError(
        `the ${ds.set.format === 'store' ? `schema's` : ds.set.format} labels are ${ds.set.task === 'far' ? 'attributes (far)' : 'classes (fer)'}, not ${task}`,
        2,
        'task',
      );
    for (const n of ds.notes) emit({ type: 'log', level: 'warn', message: n });
    const K = ds.set.names.length;
    const bySplit = (s: Split) => ds.items.filter((i) => i.split === s);
    const train = bySplit('train');
    const val = bySplit('val');
    const test = bySplit('test');
    const cache = new DecodeCache(cacheDirFor(dbPath), evalSide(S));
    const cres = await cache.ensure(
      ds.items.map((i) => ({ abs: join(ds.root, i.path), sha256: i.sha256 })),
      maxPixels,
      (done, total) => emit({ type: 'progress', phase: 'decoding', done, total }),
    );
    if (cres.failed.length) throw new UserError(`cannot decode ${cres.failed[0]!.path}: ${cres.failed[0]!.reason}`);

    // ---- backend, classifier, optimiser ----
    let sel;
    try {
      sel = await selectBackend(spec.backend ?? 'auto', { wasmThreads: spec.threads ?? 'auto' });
    } catch (e) {
      throw new UserError((e as Error).message, 2, 'backend');
    }
    const linearProbe = Boolean(spec.linearProbe);
    // the memory plan on wasm, as for pre-training: refused when it cannot fit, recomputed when only that fits
    const batchWanted = Math.min(spec.batch ?? DEFAULTS.batch, train.length);
    const hostState = hostStateKernels() !== null;
    const mode = spec.recompute ?? 'auto';
    if (sel.backend === 'wasm' && !linearProbe) {
      const tooBig = wasmFinetuneProblem(model, batchWanted, mode, hostState);
      if (tooBig) throw new UserError(tooBig, 2, 'batch');
    }
    const recompute =
      !linearProbe &&
      (sel.backend === 'wasm' ? planWasmFinetune(model, batchWanted, mode, hostState).recompute : mode === 'on');
    if (recompute && mode === 'auto')
      emit({
        type: 'log',
        level: 'info',
        message: 'activations are recomputed in the backward pass: kept, this step would not fit the wasm heap',
      });
    const clf = new Classifier(
      { model, outputs: K, dropPath: linearProbe ? 0 : (spec.dropPath ?? DEFAULTS.dropPath) },
      seed,
    );
    clf.recompute = recompute;
    const opt = new AdamW(
      { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: spec.weightDecay ?? DEFAULTS.weightDecay },
      (name, shape) => !(shape.length <= 1 || name === 'cls_token' || name === 'pos_embed'),
    );
    try {
      let posNote = '2-D sin-cos table (random init)';
      if (encoder) {
        try {
          posNote = clf.loadEncoder(encoder.tensors, spec.init);
        } catch (e) {
          throw new UserError((e as Error).message, 2, 'init');
        }
      }
      const batch = Math.min(spec.batch ?? DEFAULTS.batch, train.length);
      const plan = epochPlan(train.length, batch);
      const blr = spec.blr ?? DEFAULTS.blr;
      const lr0 = (blr * batch) / 256;
      const warmup = spec.warmupEpochs ?? DEFAULTS.warmupEpochs;
      const minLr = spec.minLr ?? DEFAULTS.minLr;
      const decay = spec.layerDecay ?? DEFAULTS.layerDecay;
      const L = model.depth + 1;
      const trainable = linearProbe ? ['head.weight', 'head.bias'] : clf.params.names();
      const vars = new Map(trainable.map((n) => [n, clf.params.get(n)]));
      const lrScale = new Map(trainable.map((n) => [n, Math.pow(decay, L - clf.layerId(n))])); // §5: 0.65^(L − id)

      // ---- run record: folder, then store ----
      const runId = spec.runId ?? randomUUID();
      const normalisation = { name: 'imagenet', mean: IMAGENET_MEAN, std: IMAGENET_STD };
      const config = {
        task,
        format: ds.set.format,
        data: ds.root,
        schema_id: ds.schemaId,
        field_ids: ds.fieldIds,
        labels: spec.labels ?? (spec.format === 'store' ? 'human' : null),
        init: spec.init,
        model,
        outputs: K,
        names: ds.set.names,
        split: ds.set.splitNote,
        few_shot: spec.fewShot ?? null,
        linear_probe: linearProbe,
        epochs,
        batch,
        blr,
        lr: lr0,
        warmup_epochs: warmup,
        layer_decay: decay,
        drop_path: clf.spec.dropPath,
        augmentation: aug,
        min_lr: minLr,
        seed,
        pos_embed: posNote,
        normalisation,
      };
      const parentRunId = encoder?.runId && store.run(encoder.runId) ? encoder.runId : null;
      if (store.run(runId))
        store.updateRun(runId, {
          config: JSON.stringify(config),
          dataset_id: ds.datasetId,
          parent_run_id: parentRunId,
          out_dir: outDir,
          total_steps: epochs * plan.stepsPerEpoch,
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
          totalSteps: epochs * plan.stepsPerEpoch,
        });
      writeFileAtomic(
        join(outDir, 'finetune.json'),
        Buffer.from(
          `${JSON.stringify({ format: 'camd-finetune', version: 1, run_id: runId, db: dbPath, config, created_at: new Date().toISOString() }, null, 2)}\n`,
        ),
      );
      store.claimRun(runId, currentProcess(), {
        backend: sel.backend,
        backend_detail: JSON.stringify({
          package: sel.package,
          skipped: sel.skipped,
          details: sel.reports.find((r) => r.loaded && r.backend === sel.backend)?.details ?? {},
        }),
        started_at: new Date().toISOString(),
      });
      const eventsFile = join(outDir, 'events.jsonl');
      const send: EventSink = (e) => {
        if (e.type !== 'progress') appendFileSync(eventsFile, `${JSON.stringify(e)}\n`);
        emit(e);
      };
      const ctx: FinetuneContext = {
        task,
        names: ds.set.names,
        model,
        S,
        train,
        val,
        test,
        datasetId: ds.datasetId,
        cache,
        clf,
        opt,
        vars,
        lrScale,
        linearProbe,
        aug,
        epochs,
        batch,
        stepsPerEpoch: plan.stepsPerEpoch,
        lr0,
        warmup,
        minLr,
        seed,
        normalisation,
        store,
        runId,
        outDir,
        send,
        signal,
        step: 0,
      };
      // labels made in the app: the selected model's predictions on every face, for model-assisted labelling
      if (ds.set.format === 'store')
        ctx.afterTraining = async (bestFile) => {
          const { predictFaces } = await import('./predict.js');
          const { loadClassifier } = await import('./classifier-file.js');
          const { getSchema } = await import('../labels/schema.js');
          const best = loadClassifier(bestFile);
          try {
            const n = await predictFaces({
              store,
              schema: getSchema(store.db, ds.schemaId),
              runId,
              clf: best.clf,
              task: best.task,
              names: best.names,
              imgSize: best.imgSize,
              root: ds.root,
              emit: send,
              signal,
              maxPixels,
            });
            if (signal.aborted)
              send({
                type: 'log',
                level: 'info',
                message:
                  'stopped while predicting: no predictions saved for labelling (camd predict, or Predict in the Label view, makes them)',
              });
            else
              send({
                type: 'log',
                level: 'info',
                message: `predictions on ${n} face(s) saved for labelling (model-assisted; kept apart from the labels)`,
              });
          } finally {
            best.clf.dispose();
          }
        };
      const st = store;
      const offHardExit = onHardExit((reason) => {
        const msg = `quit at once (${reason}) after step ${ctx.step}; nothing was written for the unfinished epoch`;
        st.updateRun(runId, {
          status: 'interrupted',
          error: msg,
          finished_at: new Date().toISOString(),
          last_step: ctx.step,
        });
        appendFileSync(eventsFile, `${JSON.stringify({ type: 'error', message: msg, cause: 'io' })}\n`);
        lock.release();
      });
      try {
        if (plan.keptPartial)
          send({
            type: 'log',
            level: 'info',
            message: `${train.length} training images are not a multiple of the batch ${batch}: each epoch ends with a batch of ${train.length - (plan.stepsPerEpoch - 1) * batch} (kept: the set is smaller than 4 batches)`,
          });
        else if (plan.droppedPerEpoch)
          send({
            type: 'log',
            level: 'info',
            message: `each epoch leaves out ${plan.droppedPerEpoch} of ${train.length} training images (the last partial batch is dropped, as in the reference recipe; a different ${plan.droppedPerEpoch} each epoch)`,
          });
        send({
          type: 'start',
          kind: 'finetune',
          run_id: runId,
          out_dir: outDir,
          db: dbPath,
          backend: sel.backend,
          task,
          format: ds.set.format,
          classes: K,
          train: train.length,
          val: val.length,
          test: test.length,
          dropped: ds.dropped.length,
          init: spec.init,
          pos_embed: posNote,
          epochs,
          steps_per_epoch: plan.stepsPerEpoch,
          batch,
          dropped_per_epoch: plan.droppedPerEpoch,
          linear_probe: linearProbe,
        });
        const outcome = await finetuneLoop(ctx);
        return { outcome, runId, outDir };
      } catch (e) {
        // a full disk while writing best.safetensors, a vanished cache file, …: the run failed, one line
        const uf = describeUserFacing(e);
        const msg = uf
          ? `${uf.message} (at step ${ctx.step})`
          : `internal error at step ${ctx.step}: ${(e as Error).message}`;
        store.updateRun(runId, {
          status: 'failed',
          error: msg,
          finished_at: new Date().toISOString(),
          last_step: ctx.step,
        });
        appendFileSync(
          eventsFile,
          `${JSON.stringify({ type: 'error', message: msg, cause: uf?.kind ?? 'internal' })}\n`,
        );
        if (!uf) throw e;
        throw new CamdError(uf.kind === 'disk-full' ? 'disk-full' : 'io', msg);
      } finally {
        offHardExit();
      }
    } finally {
      clf.dispose();
      opt.dispose();
    }
  } finally {
    store.close();
    release();
  }
}
