/**
 * `camd pretrain`: a pre-training run from a folder of face images, end to end.
 *   folder → dataset index (store) → decode cache → batches (two views + masks) → CAMD steps →
 *   metrics (store) and atomic checkpoints (run folder) → encoder export.
 * The setup reads as its steps: the run folder locked → what the run is (run-settings.ts) → the
 * store → its images → batches and the decode cache → backend and model → its weights (resume.ts)
 * → its record (run-record.ts) → the loop (pretrain-loop.ts), with a failure recorded.
 * Emits typed events (events.ts); the CLI renders them as a progress bar or JSON lines.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend, type Selection } from '../backends/ladder.js';
import { planWasmPretrain, wasmMemoryProblem } from '../model/memory.js';
import { hostStateKernels } from '../ops/host-state.js';
import { gridOf, maskedCount, type CamdConfig } from '../model/config.js';
import { Store } from '../store/store.js';
import { scanDataset } from '../data/scan.js';
import { DecodeCache, cacheSideFor } from '../data/decode-cache.js';
import { BatchSource } from '../data/batches.js';
import { CamdTrainer } from './step.js';
import type { EventSink } from '../protocol/events.js';
import type { PretrainSpec } from '../protocol/specs.js';
import { RunFolder, stepOfCheckpoint } from './run-folder.js';
import { trainLoop, writeCheckpoint, type LoopContext, type LoopOutcome } from './pretrain-loop.js';
import type { StartingPoint } from './start-from.js';
import {
  ImagesFile,
  resolveRun,
  RunFile,
  startingPoint,
  type Log,
  type ResolvedRun,
  type RunSettings,
  type RunStart,
} from './run-settings.js';
import { resumeFromCheckpoints, startFromFile } from './resume.js';
import { recordRun } from './run-record.js';
import { cacheDirFor, defaultDbPath } from '../util/paths.js';
import { CamdError, UserError } from '../util/errors.js';
import { asInputError, describeUserFacing } from '../util/system-errors.js';
import { onHardExit } from '../util/exit-hooks.js';

export interface PretrainResult {
  outcome: LoopOutcome;
  outDir: string;
  runId: string;
}

/** By default the monitor probes every tenth of the run (at most ten probes, and the last): it stays a small part of training. */
function defaultProbeEvery(epochs: number): number {
  return Math.max(1, Math.ceil(epochs / 10));
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

interface Schedule {
  ipe: number;
  totalSteps: number;
  epochs: number;
}

/** The dataset indexed, then the run's fixed image list: the recorded one on resume, the scan's otherwise. */
async function runImages(
  store: Store,
  settings: RunSettings,
  folder: RunFolder,
  resuming: boolean,
  emit: EventSink,
): Promise<{ report: Awaited<ReturnType<typeof scanDataset>>; images: { path: string; sha256: string }[] }> {
  if (!existsSync(settings.data)) throw new UserError(`the folder ${settings.data} does not exist`);
  const report = await scanDataset(store, settings.data, {
    maxPixels: settings.maxPixels,
    onProgress: (done, total) => emit({ type: 'progress', phase: 'scanning', done, total }),
  }).catch((e: unknown) => {
    throw asInputError(e); // a full disk under the store is disk-full, not an input error
  });
  const scanned = () => {
    const list = store.images(report.datasetId, 'ok').map((r) => ({ path: r.rel_path, sha256: r.sha256! }));
    if (list.length === 0) {
      const why = report.bad.length
        ? ` (${report.bad.length} unreadable file(s), e.g. ${report.bad[0]!.path}: ${report.bad[0]!.reason})`
        : '';
      throw new UserError(`no readable image in ${settings.data}${why}`);
    }
    return list;
  };
  let images: { path: string; sha256: string }[];
  if (resuming) {
    if (!existsSync(folder.imagesFile))
      throw new UserError(
        `${folder.imagesFile} is missing: the run's image list is lost, so it cannot be resumed; start a new run`,
      );
    images = folder.readJson(folder.imagesFile, ImagesFile, "the run's image list").images;
  } else images = scanned();

  return { report, images };
}

/** The run's batches (the image count checked against the batch before any decoding), its images decoded into the cache. */
async function prepareBatches(
  dbPath: string,
  settings: RunSettings,
  cfg: CamdConfig,
  images: { path: string; sha256: string }[],
  emit: EventSink,
): Promise<{ source: BatchSource } & Schedule> {
  const cache = new DecodeCache(cacheDirFor(dbPath), cacheSideFor(settings.imgSize));
  const { grid, tokens } = gridOf(cfg.model);
  let source: BatchSource;
  try {
    source = new BatchSource({
      hashes: images.map((i) => i.sha256),
      cache,
      imgSize: settings.imgSize,
      grid,
      maskCount: maskedCount(cfg.mask.ratio, tokens), // the mask ratio has one carrier: the model config
      batchSize: settings.batch,
      seed: settings.seed,
    });
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const ipe = source.itersPerEpoch;
  const totalSteps = settings.steps ?? Math.max(1, Math.round(settings.epochs! * ipe));
  const epochs = totalSteps / ipe;

  // every image decoded once into the cache, before the first step
  const cacheRes = await cache.ensure(
    images.map((im) => ({ abs: join(settings.data, im.path), sha256: im.sha256 })),
    settings.maxPixels,
    (done, total) => emit({ type: 'progress', phase: 'decoding', done, total }),
  );
  if (cacheRes.failed.length)
    throw new UserError(
      `cannot decode ${cacheRes.failed[0]!.path}: ${cacheRes.failed[0]!.reason} (changed since the run started?)`,
    );

  return { source, ipe, totalSteps, epochs };
}

/** The backend (the run's choice, or the best that loads) and the model on it, recomputing activations where the wasm heap needs it. */
async function buildTrainer(
  options: ResolvedRun['options'],
  cfg: CamdConfig,
  settings: RunSettings,
  schedule: { epochs: number; ipe: number },
  log: Log,
): Promise<{
  sel: Selection;
  trainer: CamdTrainer;
  recompute: boolean;
  plan: ReturnType<typeof planWasmPretrain> | null;
}> {
  const { epochs, ipe } = schedule;
  let sel;
  try {
    sel = await selectBackend(options.backend, { wasmThreads: options.threads });
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  // auto may have chosen wasm; the plan is exact now that we know whether the state can live outside its heap
  const hostState = hostStateKernels() !== null;
  const tooBigHere =
    sel.backend === 'wasm' ? wasmMemoryProblem(cfg, settings.batch, options.recompute, hostState) : null;
  if (tooBigHere) throw new UserError(tooBigHere, 2, 'batch');
  const plan = sel.backend === 'wasm' ? planWasmPretrain(cfg, settings.batch, options.recompute, hostState) : null;
  const recompute = plan ? plan.recompute : options.recompute === 'on';
  if (plan?.recompute && options.recompute === 'auto')
    log(
      'info',
      `activations are recomputed in the backward pass: kept, this step would not fit the wasm heap (about ${(planWasmPretrain(cfg, settings.batch, 'off', hostState).totalBytes / 1e9).toFixed(1)} GB); recomputed it needs about ${(plan.totalBytes / 1e9).toFixed(1)} GB, for about a fifth more time a step`,
    );
  const trainer = new CamdTrainer(
    cfg,
    settings.seed,
    { epochs, itersPerEpoch: ipe, batchSize: settings.batch },
    { recompute },
  );
  return { sel, trainer, recompute, plan };
}

/** The run folder made and locked; a run.json already there is refused unless resuming. */
function openRunFolder(flags: PretrainSpec): {
  folder: RunFolder;
  created: boolean;
  cleaned: ReturnType<RunFolder['acquire']>;
} {
  const folder = new RunFolder(flags.out);
  if (flags.resume) {
    if (!existsSync(folder.dir)) throw new UserError(`${folder.dir} does not exist`, 2, 'resume');
    if (!existsSync(folder.runFile))
      throw new UserError(`${folder.dir} is not a CAMD run folder (no run.json)`, 2, 'resume');
  } else if (existsSync(folder.dir) && !statSync(folder.dir).isDirectory())
    throw new UserError(`--out ${folder.dir} is a file, not a folder`, 2, 'out');
  else if (existsSync(join(folder.dir, 'finetune.json')))
    throw new UserError(`${folder.dir} holds a fine-tuning run; choose another --out`, 2, 'out');
  const created = !existsSync(folder.dir);
  folder.create();
  try {
    return { folder, created, cleaned: folder.acquire('camd pretrain') };
  } catch (e) {
    if (created) rmSync(folder.dir, { recursive: true, force: true });
    throw e;
  }
}

/** What a locked folder says of its past: partial files removed, a holder that died; then its run.json (resume) or a refusal to overwrite it. */
function savedRun(
  flags: PretrainSpec,
  folder: RunFolder,
  cleaned: ReturnType<RunFolder['acquire']>,
  log: Log,
): RunFile | null {
  if (cleaned.removedTemps.length)
    log(
      'info',
      `removed ${cleaned.removedTemps.length} partial file(s) (${mb(cleaned.removedBytes)}) left in ${folder.dir} by a process that was stopped while writing`,
    );
  if (folder.lock?.previousHolder)
    log(
      'info',
      `the previous process in ${folder.dir} (pid ${folder.lock.previousHolder.pid}) ended without releasing it`,
    );
  if (flags.resume) return folder.readJson(folder.runFile, RunFile, 'the run cannot be resumed without it');
  if (existsSync(folder.runFile)) {
    const cks = folder.checkpoints();
    const what = cks.length
      ? ` (last checkpoint at step ${stepOfCheckpoint(cks[0]!)})`
      : ' (it never reached a checkpoint: --resume restarts it from step 1)';
    throw new UserError(
      `${folder.dir} already holds a run${what}; continue it with --resume ${folder.dir}, or choose another --out`,
    );
  }
  return null;
}

/** The store, with runs whose process is gone marked interrupted. */
function openStore(dbPath: string, log: Log): Store {
  const store = new Store(dbPath);
  for (const r of store.reapDeadRuns())
    log('info', `run ${r.id} was shown as running, but its process (pid ${r.pid}) is gone: marked interrupted`);
  return store;
}

/** Where the run's weights are now, and what it records of where it started. */
interface Placed {
  runId: string;
  resumedFrom: string | null;
  restart: boolean;
  start: StartingPoint | null;
  runStart: RunStart | null;
}

/**
 * The run's weights: its newest sound checkpoint on resume (a run with none left restarts, from its
 * starting point again if it had one), else a starting point's, else the random ones it was built with.
 */
async function placeWeights(
  trainer: CamdTrainer,
  run: { flags: PretrainSpec; saved: RunFile | null; resolved: ResolvedRun; folder: RunFolder; store: Store },
  schedule: Schedule,
  log: Log,
): Promise<Placed> {
  const { flags, saved, resolved, folder, store } = run;
  if (saved && flags.runId && flags.runId !== saved.run_id)
    throw new UserError(`${folder.dir} holds run ${saved.run_id}, not ${flags.runId}`, 2, 'runId');
  const runId = saved?.run_id ?? flags.runId ?? randomUUID();
  const { resumedFrom, damaged } = resumeFromCheckpoints(trainer, resolved.candidates, { folder, store, runId, log });
  let { restart, start } = resolved;
  if (saved && !resumedFrom) {
    restart = true;
    log(
      'warn',
      `no ${damaged ? 'sound ' : ''}checkpoint in ${folder.checkpointsDir}${damaged ? ` (${damaged} damaged)` : ''}: restarting the run from ${saved.start ? `${saved.start.file} again` : 'step 1'}`,
    );
    if (saved.start && !start) start = await startingPoint(saved.start.file, saved.start);
  }
  let runStart: RunStart | null = !resumedFrom || !saved?.start ? null : saved.start;
  if (start && resolved.startMode && !resumedFrom)
    runStart = startFromFile(trainer, start, resolved.startMode, schedule, log);
  if (flags.stopAt !== undefined && flags.stopAt <= trainer.step)
    throw new UserError(`--stop-at ${flags.stopAt}: the run is already at step ${trainer.step}`, 2, 'stopAt');
  return { runId, resumedFrom, restart, start, runStart };
}

/** The representation-quality monitor's probe set (loaded once), and how often it runs. */
async function loadProbe(
  store: Store,
  probe: ResolvedRun['options']['probe'],
  seed: number,
  schedule: Schedule,
  log: Log,
): Promise<LoopContext['probe']> {
  if (!probe) return null;
  const { loadProbeSet } = await import('../probe/evaluate.js');
  const set = await loadProbeSet(store, probe.format, probe.data, {
    seed,
    ...(probe.schema ? { schema: probe.schema } : {}),
  }).catch((e: unknown) => {
    throw e instanceof UserError ? new UserError(`--probe-data: ${e.message}`, 2, 'probeData') : e;
  });
  const every = probe.every ?? defaultProbeEvery(Math.ceil(schedule.totalSteps / schedule.ipe));
  log(
    'info',
    `probe monitor: ${set.names.length} ${set.task === 'far' ? 'attributes' : 'classes'} from ${probe.data} (${set.splitNote}), every ${every} epoch(s) and at the end`,
  );
  return { set, every };
}

/** A warm-up that covers half the run or more keeps the learning rate low for most of it: said before the first step. */
function warnLongWarmup(settings: RunSettings, schedule: Schedule, log: Log): void {
  const { ipe, totalSteps } = schedule;
  const warmSteps = settings.warmupEpochs * ipe;
  if (warmSteps < 0.5 * totalSteps || warmSteps <= 0) return;
  const peak = Math.min(1, totalSteps / warmSteps);
  log(
    'warn',
    `the warm-up (${settings.warmupEpochs} epoch(s) = ${Math.round(warmSteps)} steps) covers ${Math.min(100, (100 * warmSteps) / totalSteps).toFixed(0)} % of this ${totalSteps}-step run: the learning rate ${peak < 1 ? `peaks at ${(100 * peak).toFixed(0)} % of its value` : 'reaches its value only at the end of the warm-up'}; for a short run, lower --warmup-epochs`,
  );
}

/**
 * The loop, with the run's end recorded whatever happens: a hard quit (second Ctrl-C) marks it
 * interrupted; a failure (disk full, a vanished cache file, …) marks it failed, keeps the last good
 * checkpoint and becomes one line for the user.
 */
async function loopRecorded(ctx: LoopContext, writeStartingPoint: boolean): Promise<LoopOutcome> {
  const { trainer, store, folder, runId } = ctx;
  const offHardExit = onHardExit((reason) => {
    const msg = `quit at once (${reason}) after step ${trainer.step}; ${ctx.lastCheckpoint ? `the last checkpoint is ${ctx.lastCheckpoint}` : 'no checkpoint was written'}; continue with --resume ${folder.dir}`;
    store.updateRun(runId, {
      status: 'interrupted',
      error: msg,
      finished_at: new Date().toISOString(),
      last_step: trainer.step,
    });
    folder.appendEvent({ type: 'error', message: msg, step: trainer.step, cause: 'io' });
    folder.release();
  });
  try {
    // a run that starts from a file has its starting point as a checkpoint at once: a crash before the first regular one resumes from it
    if (writeStartingPoint) await writeCheckpoint(ctx);
    return await trainLoop(ctx);
  } catch (e) {
    const uf = describeUserFacing(e);
    const where = `at step ${trainer.step}; ${ctx.lastCheckpoint ? `the last good checkpoint is ${ctx.lastCheckpoint}` : 'no checkpoint was written yet'}`;
    const msg = uf ? `${uf.message} (${where})` : `internal error ${where}: ${(e as Error).message}`;
    store.updateRun(runId, {
      status: 'failed',
      error: msg,
      finished_at: new Date().toISOString(),
      last_step: trainer.step,
    });
    folder.appendEvent({
      type: 'error',
      message: msg,
      step: trainer.step,
      cause: uf?.kind ?? 'internal',
      ...(uf?.field ? { field: uf.field } : {}),
    });
    if (!uf) throw e;
    throw new CamdError(uf.kind === 'disk-full' ? 'disk-full' : 'io', msg);
  } finally {
    offHardExit();
  }
}

/** Runs (or resumes) a pre-training run; `flags` is a validated spec (protocol/specs.ts). */
export async function pretrain(flags: PretrainSpec, emit: EventSink, signal: AbortSignal): Promise<PretrainResult> {
  const log: Log = (level, message) => emit({ type: 'log', level, message });
  const { folder, created, cleaned } = openRunFolder(flags);
  let store: Store | null = null;
  try {
    const saved = savedRun(flags, folder, cleaned, log);
    const resolved = await resolveRun(flags, saved, folder, log);
    const { settings, cfg, options } = resolved;
    const dbPath = flags.db ?? saved?.db ?? defaultDbPath();
    store = openStore(dbPath, log);
    const { report, images } = await runImages(store, settings, folder, saved !== null && !resolved.restart, emit);
    const { source, ...schedule } = await prepareBatches(dbPath, settings, cfg, images, emit);
    const { sel, trainer, recompute, plan } = await buildTrainer(options, cfg, settings, schedule, log);
    try {
      const placed = await placeWeights(trainer, { flags, saved, resolved, folder, store }, schedule, log);
      const { runId, resumedFrom } = placed;
      const { restart, runStart } = placed;
      const { totalSteps } = schedule;
      const step = trainer.step;
      const datasetId = report.datasetId;
      recordRun(
        { folder, store, runId, dbPath, saved, settings, options, cfg, images, sel, resumedFrom },
        { restart, runStart, datasetId, totalSteps, step },
        log,
      );
      const send: EventSink = (e) => {
        if (e.type !== 'progress') folder.appendEvent(e);
        emit(e);
      };
      const probe = await loadProbe(store, options.probe, settings.seed, schedule, log);
      const ctx: LoopContext = {
        trainer,
        source,
        store,
        folder,
        runId,
        settings,
        settingsRecord: settings,
        totalSteps,
        checkpointEvery: options.checkpointEvery,
        keep: options.keepCheckpoints,
        cfg,
        signal,
        send,
        lastCheckpoint: resumedFrom,
        resumedFrom,
        written: [],
        stopAt: flags.stopAt,
        probe,
      };
      warnLongWarmup(settings, schedule, log);
      send({
        type: 'start',
        kind: 'pretrain',
        run_id: runId,
        out_dir: folder.dir,
        db: dbPath,
        backend: sel.backend,
        backend_package: sel.package,
        skipped_backends: sel.skipped,
        preset: settings.preset,
        img_size: settings.imgSize,
        batch: settings.batch,
        images: images.length,
        bad_images: report.bad.length,
        iters_per_epoch: schedule.ipe,
        epochs: schedule.epochs,
        total_steps: schedule.totalSteps,
        first_step: trainer.step + 1,
        resumed_from: resumedFrom,
        recompute,
        ...(plan ? { wasm_heap_estimate_bytes: plan.totalBytes } : {}),
      });
      const outcome = await loopRecorded(ctx, placed.start !== null && !resumedFrom);
      return { outcome, outDir: folder.dir, runId };
    } finally {
      trainer.dispose();
    }
  } finally {
    store?.close();
    folder.release();
    // a run that failed before it started leaves no folder behind
    if (created && !existsSync(folder.runFile)) rmSync(folder.dir, { recursive: true, force: true });
  }
}
