/**
 * `camd pretrain`: a pre-training run from a folder of face images, end to end.
 *   folder → dataset index (store) → decode cache → batches (two views + masks) → CAMD steps →
 *   metrics (store) and atomic checkpoints (run folder) → encoder export.
 * This module prepares a run (settings, run folder and its lock, store record, data, backend,
 * model, resume); pretrain-loop.ts runs its steps. Emits typed events (events.ts); the CLI renders
 * them as a progress bar or JSON lines.
 */
import { randomUUID, createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BACKEND_CHOICES_TEXT, isBackendChoice, selectBackend } from '../backends/ladder.js';
import { planWasmPretrain, wasmMemoryProblem } from '../model/memory.js';
import { hostStateKernels } from '../ops/host-state.js';
import { gridOf, maskedCount, PRESET_NAMES, presetConfig, runConfig, type CamdConfig } from '../model/config.js';
import { PRETRAIN_DEFAULTS } from '../protocol/defaults.js';
import { Store } from '../store/store.js';
import { scanDataset } from '../data/scan.js';
import { DecodeCache, cacheSideFor } from '../data/decode-cache.js';
import { BatchSource } from '../data/batches.js';
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { CamdTrainer } from './step.js';
import { readTensorFile, CheckpointError, CHECKPOINT_FORMAT } from '../store/checkpoint.js';
import type { EventSink } from '../protocol/events.js';
import type { PretrainSpec } from '../protocol/specs.js';
import { RunFolder, RunOptions, stepOfCheckpoint } from './run-folder.js';
import type { BackendChoice } from '../backends/names.js';
import { trainLoop, writeCheckpoint, type LoopContext, type LoopOutcome } from './pretrain-loop.js';
import { readStartingPoint, tensorsFor, type StartingPoint, type StartMode } from './start-from.js';
import { cacheDirFor, defaultDbPath } from '../util/paths.js';
import { CamdError, UserError } from '../util/errors.js';
import { asInputError, describeUserFacing } from '../util/system-errors.js';
import { currentProcess } from '../util/process-identity.js';
import { onHardExit } from '../util/exit-hooks.js';

/** The settings that define the computation; saved in run.json and fixed once a checkpoint exists. */
export const RunSettings = z.object({
  data: z.string(),
  preset: z.enum(PRESET_NAMES),
  imgSize: z.number().int().positive(),
  maskRatio: z.number().gt(0).lt(1),
  batch: z.number().int().positive(),
  epochs: z.number().positive().nullable(),
  steps: z.number().int().positive().nullable(),
  blr: z.number().positive(),
  warmupEpochs: z.number().nonnegative(),
  seed: z.number().int().nonnegative(),
  maxPixels: z.number().int().positive(),
});
export type RunSettings = z.infer<typeof RunSettings>;

/** What a run started from when not from random weights (--continue / --init; train/start-from.ts). */
const RunStart = z.object({
  mode: z.enum(['continue', 'init']),
  file: z.string(),
  sha256: z.string(),
  format: z.enum(['released', 'camd']),
  epochs_done: z.number().int().nonnegative(),
  step: z.number().int().nonnegative(),
  optimizer: z.boolean(),
});
type RunStart = z.infer<typeof RunStart>;
const RunFile = z.object({
  format: z.literal('camd-run'),
  version: z.literal(1),
  run_id: z.string(),
  db: z.string(),
  settings: RunSettings,
  options: RunOptions.optional(),
  start: RunStart.optional(),
  created_at: z.string(),
});
type RunFile = z.infer<typeof RunFile>;
const ImagesFile = z.object({ root: z.string(), images: z.array(z.object({ path: z.string(), sha256: z.string() })) });

const DEFAULTS = PRETRAIN_DEFAULTS;

export interface PretrainResult {
  outcome: LoopOutcome;
  outDir: string;
  runId: string;
}

/** Flags that would change the computation, with their names on the command line. */
const COMPUTATION_FLAGS: [keyof PretrainSpec & keyof RunSettings, string][] = [
  ['preset', '--preset'],
  ['imgSize', '--img-size'],
  ['maskRatio', '--mask-ratio'],
  ['batch', '--batch'],
  ['epochs', '--epochs'],
  ['steps', '--steps'],
  ['blr', '--blr'],
  ['warmupEpochs', '--warmup-epochs'],
  ['seed', '--seed'],
  ['maxPixels', '--max-pixels'],
];

/** A resumed run keeps its computation: a flag that would change it is refused. */
/** By default the monitor probes every tenth of the run (at most ten probes, and the last): it stays a small part of training. */
function defaultProbeEvery(epochs: number): number {
  return Math.max(1, Math.ceil(epochs / 10));
}

function checkUnchanged(flags: PretrainSpec, saved: RunSettings): void {
  for (const [k, flag] of COMPUTATION_FLAGS) {
    if (flags[k] !== undefined && flags[k] !== saved[k])
      throw new UserError(
        `${flag} ${String(flags[k])} differs from the resumed run's ${String(saved[k])}; a resumed run keeps its configuration`,
        2,
        k,
      );
  }
  if (flags.data !== undefined && flags.data !== saved.data)
    throw new UserError(`--data ${flags.data} differs from the resumed run's ${saved.data}`, 2, 'data');
}

/** Settings from the flags, falling back to `base` (a run restarted from step 1) and the defaults. */
function settingsFrom(flags: PretrainSpec, base: RunSettings | null): RunSettings {
  const data = flags.data ?? base?.data;
  if (!data)
    throw new UserError(
      '--data DIR is required (the folder of face images; --data sample pre-trains on the sample faces that come with the installed packages)',
      2,
      'data',
    );
  if (flags.epochs !== undefined && flags.steps !== undefined)
    throw new UserError('give --epochs or --steps, not both', 2, 'steps');
  const preset = flags.preset ?? base?.preset ?? DEFAULTS.preset;
  const length =
    flags.steps !== undefined
      ? { epochs: null, steps: flags.steps }
      : flags.epochs !== undefined
        ? { epochs: flags.epochs, steps: null }
        : base
          ? { epochs: base.epochs, steps: base.steps }
          : { epochs: DEFAULTS.epochs, steps: null };
  const r = RunSettings.safeParse({
    data,
    preset,
    imgSize:
      flags.imgSize ??
      (flags.preset === undefined ? base?.imgSize : undefined) ??
      presetConfig(preset as (typeof PRESET_NAMES)[number]).model.imgSize,
    maskRatio: flags.maskRatio ?? base?.maskRatio ?? DEFAULTS.maskRatio,
    batch: flags.batch ?? base?.batch ?? DEFAULTS.batch,
    ...length,
    blr: flags.blr ?? base?.blr ?? DEFAULTS.blr,
    warmupEpochs: flags.warmupEpochs ?? base?.warmupEpochs ?? DEFAULTS.warmupEpochs,
    seed: flags.seed ?? base?.seed ?? DEFAULTS.seed,
    maxPixels: flags.maxPixels ?? base?.maxPixels ?? DEFAULT_MAX_PIXELS,
  });
  if (!r.success) {
    const i = r.error.issues[0]!;
    const flag = COMPUTATION_FLAGS.find(([k]) => k === i.path[0])?.[1] ?? i.path.join('.');
    throw new UserError(`invalid value for ${flag}: ${i.message}`, 2, String(i.path[0]));
  }
  return r.data;
}

/** Reads a run's starting point; for a run restarted from it, the file must be the one it started from. */
async function startingPoint(file: string, recorded: RunStart | undefined): Promise<StartingPoint> {
  const p = await readStartingPoint(file);
  if (recorded && recorded.sha256 !== p.sha256)
    throw new UserError(
      `${file}, which the run started from, has changed since: the run cannot restart from it; start a new run`,
      2,
      'resume',
    );
  return p;
}

/** The defaults a starting point gives the run's settings: the architecture always, the rest under --continue. */
function startBase(p: StartingPoint, mode: StartMode, data: string | undefined): RunSettings {
  const g = p.suggested;
  const cont = mode === 'continue';
  return {
    data: data ?? '',
    preset: g.preset,
    imgSize: g.imgSize ?? presetConfig(g.preset).model.imgSize,
    maskRatio: (cont ? g.maskRatio : undefined) ?? DEFAULTS.maskRatio,
    batch: DEFAULTS.batch,
    epochs: (cont ? g.epochs : undefined) ?? DEFAULTS.epochs,
    steps: null,
    blr: (cont ? g.blr : undefined) ?? DEFAULTS.blr,
    warmupEpochs: (cont ? g.warmupEpochs : undefined) ?? DEFAULTS.warmupEpochs,
    seed: (cont ? g.seed : undefined) ?? DEFAULTS.seed,
    maxPixels: DEFAULT_MAX_PIXELS,
  };
}

function configFor(s: RunSettings): CamdConfig {
  try {
    return runConfig(s);
  } catch (e) {
    throw new UserError((e as Error).message, 2, 'imgSize');
  }
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

type Log = (level: 'info' | 'warn', message: string) => void;

/** What the run is: its settings (fixed once it has a checkpoint), its options, and where it starts from. */
interface ResolvedRun {
  candidates: string[];
  restart: boolean;
  startMode: StartMode | null;
  start: StartingPoint | null;
  settings: RunSettings;
  cfg: CamdConfig;
  options: RunOptions & { backend: BackendChoice };
}

/** Settings: fixed once the run has a checkpoint; options may change on resume. Refuses what cannot start. */
async function resolveRun(
  flags: PretrainSpec,
  saved: RunFile | null,
  folder: RunFolder,
  log: Log,
): Promise<ResolvedRun> {
  const candidates = saved ? folder.checkpoints() : [];
  const restart = saved !== null && candidates.length === 0;
  // a starting point: --continue/--init for a new run; the recorded one for a run restarted before its first checkpoint
  if (flags.continueFrom && flags.init) throw new UserError('give --continue or --init, not both', 2, 'init');
  if (flags.resume && (flags.continueFrom || flags.init))
    throw new UserError(
      `${flags.continueFrom ? '--continue' : '--init'} starts a new run; --resume continues the run in its folder`,
      2,
      flags.continueFrom ? 'continueFrom' : 'init',
    );
  const startMode: StartMode | null = flags.continueFrom
    ? 'continue'
    : flags.init
      ? 'init'
      : saved?.start
        ? saved.start.mode
        : null;
  const startFile = flags.continueFrom ?? flags.init ?? saved?.start?.file ?? null;
  let start: StartingPoint | null = null;
  if (startMode && startFile && (!saved || restart)) {
    start = await startingPoint(startFile, saved?.start);
    const flag = startMode === 'continue' ? '--continue' : '--init';
    if (flags.preset && flags.preset !== start.suggested.preset)
      throw new UserError(
        `--preset ${flags.preset}: ${startFile} holds a ViT-${start.suggested.preset}, and its weights fix the architecture (leave out --preset with ${flag})`,
        2,
        'preset',
      );
  }
  let settings: RunSettings;
  if (saved && !restart) {
    checkUnchanged(flags, saved.settings);
    settings = saved.settings;
  } else
    settings = settingsFrom(
      flags,
      saved?.settings ?? (start && startMode ? startBase(start, startMode, flags.data) : null),
    );
  const cfg = configFor(settings); // an image size the preset cannot use is refused here, before any work
  if ((flags.probeData === undefined) !== (flags.probeFormat === undefined))
    throw new UserError(
      '--probe-data and --probe-format go together (--probe-data DIR --probe-format F)',
      2,
      flags.probeData === undefined ? 'probeData' : 'probeFormat',
    );
  const options: RunOptions = {
    checkpointEvery: flags.checkpointEvery ?? saved?.options?.checkpointEvery ?? DEFAULTS.checkpointEvery,
    keepCheckpoints: flags.keepCheckpoints ?? saved?.options?.keepCheckpoints ?? DEFAULTS.keepCheckpoints,
    backend: flags.backend ?? saved?.options?.backend ?? 'auto',
    threads: flags.threads ?? saved?.options?.threads ?? 'auto',
    recompute: flags.recompute ?? saved?.options?.recompute ?? 'auto',
    probe: flags.probeData
      ? {
          data: flags.probeData,
          format: flags.probeFormat!,
          ...(flags.probeSchema ? { schema: flags.probeSchema } : {}),
          every: flags.probeEvery ?? saved?.options?.probe?.every ?? null,
        }
      : (saved?.options?.probe ?? null),
  };
  if (!isBackendChoice(options.backend))
    throw new UserError(
      `run.json names the backend '${options.backend}'; give --backend ${BACKEND_CHOICES_TEXT}`,
      2,
      'backend',
    );
  // a step that cannot fit in the wasm heap is refused now, not by an abort mid-run (model/memory.ts)
  const tooBig = options.backend === 'wasm' ? wasmMemoryProblem(cfg, settings.batch, options.recompute) : null;
  if (tooBig) throw new UserError(tooBig, 2, 'batch');
  if (saved?.options) {
    const shown = (v: unknown) => (v && typeof v === 'object' ? JSON.stringify(v) : String(v));
    const changed = (Object.keys(options) as (keyof RunOptions)[])
      .filter((k) => shown(options[k]) !== shown(saved!.options![k]))
      .map((k) => `${k} ${shown(saved!.options![k])} → ${shown(options[k])}`);
    if (changed.length) log('info', `run options changed on resume: ${changed.join(', ')}`);
  }

  return { candidates, restart, startMode, start, settings, cfg, options: { ...options, backend: options.backend } };
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
): Promise<{ source: BatchSource; ipe: number; totalSteps: number; epochs: number }> {
  const cache = new DecodeCache(cacheDirFor(dbPath), cacheSideFor(settings.imgSize));
  const { grid, tokens } = gridOf(cfg.model);
  let source: BatchSource;
  try {
    source = new BatchSource({
      hashes: images.map((i) => i.sha256),
      cache,
      imgSize: settings.imgSize,
      grid,
      maskCount: maskedCount(settings.maskRatio, tokens),
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
  sel: Awaited<ReturnType<typeof selectBackend>>;
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

/** Runs (or resumes) a pre-training run; `flags` is a validated spec (protocol/specs.ts). */
export async function pretrain(flags: PretrainSpec, emit: EventSink, signal: AbortSignal): Promise<PretrainResult> {
  const log: Log = (level, message) => emit({ type: 'log', level, message });

  // ---- the run folder, locked ----
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
  let cleaned;
  try {
    cleaned = folder.acquire('camd pretrain');
  } catch (e) {
    if (created) rmSync(folder.dir, { recursive: true, force: true });
    throw e;
  }
  let store: Store | null = null;
  try {
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

    let saved: RunFile | null = null;
    if (flags.resume) saved = folder.readJson(folder.runFile, RunFile, 'the run cannot be resumed without it');
    else if (existsSync(folder.runFile)) {
      const cks = folder.checkpoints();
      const what = cks.length
        ? ` (last checkpoint at step ${stepOfCheckpoint(cks[0]!)})`
        : ' (it never reached a checkpoint: --resume restarts it from step 1)';
      throw new UserError(
        `${folder.dir} already holds a run${what}; continue it with --resume ${folder.dir}, or choose another --out`,
      );
    }

    // ---- settings: fixed once the run has a checkpoint; options may change on resume ----
    const resolved = await resolveRun(flags, saved, folder, log);
    const { candidates, startMode, settings, cfg, options } = resolved;
    let { restart, start } = resolved;

    // ---- the store ----
    const dbPath = flags.db ?? saved?.db ?? defaultDbPath();
    store = new Store(dbPath);
    for (const r of store.reapDeadRuns())
      log('info', `run ${r.id} was shown as running, but its process (pid ${r.pid}) is gone: marked interrupted`);

    // ---- dataset: index, then the fixed image list of the run ----
    const { report, images } = await runImages(store, settings, folder, saved !== null && !restart, emit);

    // ---- batches (checks the image count against the batch before any decoding), then the decode cache ----
    const { source, ipe, totalSteps, epochs } = await prepareBatches(dbPath, settings, cfg, images, emit);

    // ---- backend, model ----
    const { sel, trainer, recompute, plan } = await buildTrainer(options, cfg, settings, { epochs, ipe }, log);
    try {
      // ---- resume from the newest sound checkpoint; damaged ones are moved aside ----
      if (saved && flags.runId && flags.runId !== saved.run_id)
        throw new UserError(`${folder.dir} holds run ${saved.run_id}, not ${flags.runId}`, 2, 'runId');
      const runId = saved?.run_id ?? flags.runId ?? randomUUID();
      let resumedFrom: string | null = null;
      let damaged = 0;
      for (const file of candidates) {
        try {
          const ck = readTensorFile(file, CHECKPOINT_FORMAT);
          const st = z
            .object({ step: z.number().int(), optimizer_step: z.number().int(), run_id: z.string() })
            .safeParse(ck.state);
          if (!st.success) throw new CheckpointError(`${file}: its state has no step or run id`, false);
          if (st.data.run_id !== runId)
            throw new CheckpointError(`${file} belongs to run ${st.data.run_id}, not ${runId}`, false);
          trainer.importTensors(ck.tensors, st.data.step, st.data.optimizer_step, file);
          resumedFrom = file;
          break;
        } catch (e) {
          if (e instanceof CheckpointError && e.damaged) {
            const to = folder.quarantine(file);
            store.removeCheckpoints(runId, [file]);
            damaged++;
            log(
              'warn',
              `skipping checkpoint ${file}: ${e.message.replace(/^.*? is not a usable CAMD checkpoint: /, '')}; moved aside as ${to} (removed at the next checkpoint)`,
            );
            continue;
          }
          throw new UserError(
            `cannot resume from ${file}: ${(e as Error).message.replace(/^.*? is not a usable CAMD checkpoint: /, '')}`,
          );
        }
      }
      if (saved && !resumedFrom) {
        restart = true;
        log(
          'warn',
          `no ${damaged ? 'sound ' : ''}checkpoint in ${folder.checkpointsDir}${damaged ? ` (${damaged} damaged)` : ''}: restarting the run from ${saved.start ? `${saved.start.file} again` : 'step 1'}`,
        );
        if (saved.start && !start) {
          start = await startingPoint(saved.start.file, saved.start);
        }
      }
      // ---- a starting point's weights (and, to continue, its moments and place in the schedule) ----
      let runStart: RunStart | null = !resumedFrom || !saved?.start ? null : saved.start;
      if (start && startMode && !resumedFrom) {
        const flag = startMode === 'continue' ? '--continue' : '--init';
        const step0 = startMode === 'continue' ? start.epochsDone * ipe : 0;
        if (step0 >= totalSteps)
          throw new UserError(
            `${flag} ${start.file}: its run completed ${start.epochsDone} epoch(s), and this run is ${+epochs.toFixed(2)} epoch(s) long: nothing is left to train (give --epochs more than ${start.epochsDone}, or --init to start a schedule of its own from these weights)`,
            2,
            'epochs',
          );
        const withMoments = startMode === 'continue' && start.optimizerNote === null;
        try {
          trainer.importTensors(tensorsFor(start, startMode), step0, withMoments ? start.optimizerStep : 0, start.file);
        } catch (e) {
          throw new UserError(`${flag} ${(e as Error).message}`, 2, startMode === 'continue' ? 'continueFrom' : 'init');
        }
        if (startMode === 'continue' && start.optimizerNote)
          log('warn', `${start.file}: ${start.optimizerNote}; AdamW starts afresh at epoch ${start.epochsDone + 1}`);
        log(
          'info',
          startMode === 'continue'
            ? `continuing ${start.format === 'released' ? 'a run of the released code' : 'a camd run'} from ${start.file}: ${start.epochsDone} epoch(s) done, this run starts at step ${step0 + 1} (epoch ${start.epochsDone + 1} of ${+epochs.toFixed(2)})${withMoments ? ' with its AdamW state' : ''}`
            : `starting from the weights of ${start.file} (a fresh optimiser, step 1)`,
        );
        runStart = {
          mode: startMode,
          file: start.file,
          sha256: start.sha256,
          format: start.format,
          epochs_done: start.epochsDone,
          step: step0,
          optimizer: withMoments,
        };
      }
      if (flags.stopAt !== undefined && flags.stopAt <= trainer.step)
        throw new UserError(`--stop-at ${flags.stopAt}: the run is already at step ${trainer.step}`, 2, 'stopAt');

      // ---- run record: run folder, then store ----
      if (!saved || restart) folder.writeJson(folder.imagesFile, { root: settings.data, images });
      folder.writeJson(folder.runFile, {
        format: 'camd-run',
        version: 1,
        run_id: runId,
        db: dbPath,
        settings,
        options,
        ...(runStart ? { start: runStart } : {}),
        created_at: saved?.created_at ?? new Date().toISOString(),
      });
      const config = {
        settings,
        model: cfg,
        images: images.length,
        image_list_sha256: createHash('sha256')
          .update(images.map((i) => i.sha256).join('\n'))
          .digest('hex'),
        ...(runStart ? { start: runStart } : {}),
      };
      const prior = store.run(runId);
      if (!prior)
        store.createRun({
          id: runId,
          kind: 'pretrain',
          datasetId: report.datasetId,
          config,
          seed: settings.seed,
          outDir: folder.dir,
          totalSteps,
        });
      else if (restart || !saved)
        store.updateRun(runId, {
          config: JSON.stringify(config),
          total_steps: totalSteps,
          dataset_id: report.datasetId,
          out_dir: folder.dir,
        }); // a run the app queued, or one restarted with new settings
      if (prior?.backend && resumedFrom && prior.backend !== sel.backend)
        log(
          'warn',
          `the run continues on ${sel.backend} after running on ${prior.backend}: its weights will not be bit-identical to an uninterrupted run`,
        );
      store.truncateMetrics(runId, trainer.step);
      reconcileCheckpoints(store, folder, runId);
      store.claimRun(runId, currentProcess(), {
        backend: sel.backend,
        backend_detail: JSON.stringify({
          package: sel.package,
          skipped: sel.skipped,
          details: sel.reports.find((r) => r.loaded && r.backend === sel.backend)?.details ?? {},
        }),
        started_at: new Date().toISOString(),
        finished_at: null,
        error: null,
        last_step: trainer.step,
      });
      const send: EventSink = (e) => {
        if (e.type !== 'progress') folder.appendEvent(e);
        emit(e);
      };
      let probe: LoopContext['probe'] = null;
      if (options.probe) {
        const { loadProbeSet } = await import('../probe/evaluate.js');
        const set = await loadProbeSet(store, options.probe.format, options.probe.data, {
          seed: settings.seed,
          ...(options.probe.schema ? { schema: options.probe.schema } : {}),
        }).catch((e: unknown) => {
          throw e instanceof UserError ? new UserError(`--probe-data: ${e.message}`, 2, 'probeData') : e;
        });
        const every = options.probe.every ?? defaultProbeEvery(Math.ceil(totalSteps / source.itersPerEpoch));
        probe = { set, every };
        log(
          'info',
          `probe monitor: ${set.names.length} ${set.task === 'far' ? 'attributes' : 'classes'} from ${options.probe.data} (${set.splitNote}), every ${every} epoch(s) and at the end`,
        );
      }
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
      // a hard quit (second Ctrl-C) still records the run's state
      const st = store;
      const offHardExit = onHardExit((reason) => {
        const msg = `quit at once (${reason}) after step ${trainer.step}; ${ctx.lastCheckpoint ? `the last checkpoint is ${ctx.lastCheckpoint}` : 'no checkpoint was written'}; continue with --resume ${folder.dir}`;
        st.updateRun(runId, {
          status: 'interrupted',
          error: msg,
          finished_at: new Date().toISOString(),
          last_step: trainer.step,
        });
        folder.appendEvent({ type: 'error', message: msg, step: trainer.step, cause: 'io' });
        folder.release();
      });

      const warmSteps = settings.warmupEpochs * ipe;
      if (warmSteps >= 0.5 * totalSteps && warmSteps > 0) {
        const peak = Math.min(1, totalSteps / warmSteps);
        log(
          'warn',
          `the warm-up (${settings.warmupEpochs} epoch(s) = ${Math.round(warmSteps)} steps) covers ${Math.min(100, (100 * warmSteps) / totalSteps).toFixed(0)} % of this ${totalSteps}-step run: the learning rate ${peak < 1 ? `peaks at ${(100 * peak).toFixed(0)} % of its value` : 'reaches its value only at the end of the warm-up'}; for a short run, lower --warmup-epochs`,
        );
      }
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
        iters_per_epoch: ipe,
        epochs,
        total_steps: totalSteps,
        first_step: trainer.step + 1,
        resumed_from: resumedFrom,
        recompute,
        ...(plan ? { wasm_heap_estimate_bytes: plan.totalBytes } : {}),
      });
      try {
        // a run that starts from a file has its starting point as a checkpoint at once: a crash before the first regular one resumes from it
        if (start && !resumedFrom) await writeCheckpoint(ctx);
        const outcome = await trainLoop(ctx);
        return { outcome, outDir: folder.dir, runId };
      } catch (e) {
        // disk full, a vanished cache file, …: record it, keep the last good checkpoint, one line for the user
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

/** The store's checkpoint rows of a run equal the files on disk: rows of missing files go, files without a row get one. */
function reconcileCheckpoints(store: Store, folder: RunFolder, runId: string): void {
  const files = folder.checkpoints();
  const rows = store.checkpoints(runId).filter((r) => r.kind === 'full');
  const gone = rows.filter((r) => !files.includes(r.path)).map((r) => r.path);
  if (gone.length) store.removeCheckpoints(runId, gone);
  for (const f of files) {
    if (rows.some((r) => r.path === f)) continue;
    const bytes = readFileSync(f);
    store.addCheckpoint({
      run_id: runId,
      step: stepOfCheckpoint(f)!,
      kind: 'full',
      path: f,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
    });
  }
}
