/**
 * `camd pretrain`: a pre-training run from a folder of face images, end to end.
 *   folder → dataset index (store) → decode cache → batches (two views + masks) → CAMD steps →
 *   metrics (store) and atomic checkpoints (run folder) → encoder export.
 * Emits typed events (events.ts); the CLI renders them as a progress bar or JSON lines.
 */
import { randomUUID, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { BACKEND_CHOICES_TEXT, isBackendChoice, selectBackend } from '../backends/ladder.js';
import { gridOf, maskedCount, PRESET_NAMES, presetConfig, DEFAULT_MASK_RATIO, type CamdConfig } from '../model/config.js';
import { Store } from '../store/store.js';
import { scanDataset } from '../data/scan.js';
import { DecodeCache, cacheSideFor } from '../data/decode-cache.js';
import { BatchSource } from '../data/batches.js';
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { VGGFACE2_MEAN, VGGFACE2_STD } from '../data/augment.js';
import { CamdTrainer } from './step.js';
import { toDeviceBatch, disposeBatch, type HostBatch } from './synthetic.js';
import { encodeTensorFile, readTensorFile, writeFileAtomic, CHECKPOINT_FORMAT, ENCODER_FORMAT } from './checkpoint.js';
import type { PretrainEvent } from './events.js';
import { cacheDirFor, defaultDbPath } from '../util/paths.js';
import { UserError } from '../util/errors.js';

/** The settings that define the computation; saved in run.json and fixed for the life of a run. */
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

const RunFile = z.object({ format: z.literal('camd-run'), version: z.literal(1), run_id: z.string(), db: z.string(), settings: RunSettings, created_at: z.string() });
const ImagesFile = z.object({ root: z.string(), images: z.array(z.object({ path: z.string(), sha256: z.string() })) });

export interface PretrainFlags {
  data?: string;
  preset?: string;
  imgSize?: number;
  maskRatio?: number;
  batch?: number;
  epochs?: number;
  steps?: number;
  blr?: number;
  warmupEpochs?: number;
  seed?: number;
  maxPixels?: number;
  backend?: string;
  threads?: number | 'auto';
  out?: string;
  db?: string;
  resume?: string;
  checkpointEvery?: number;
  keepCheckpoints?: number;
  /** Stop (resumable, like an interrupt) once this step is done. */
  stopAt?: number;
}

export const DEFAULTS = { preset: 'tiny', maskRatio: DEFAULT_MASK_RATIO, batch: 16, epochs: 100, blr: 3.125e-5, warmupEpochs: 5, seed: 0, checkpointEvery: 500, keepCheckpoints: 2 } as const;

/** Set by a signal handler: finish the step, checkpoint, exit 0. */
export interface StopSignal {
  stop: boolean;
}

export interface PretrainResult {
  exitCode: number;
  runDir: string | null;
}

function stateOf(trainer: CamdTrainer, runId: string, settings: RunSettings, totalSteps: number): Record<string, unknown> {
  return {
    kind: 'camd-pretrain',
    run_id: runId,
    step: trainer.step,
    optimizer_step: trainer.optimizer.step,
    total_steps: totalSteps,
    schedule: trainer.sched,
    config: trainer.cfg,
    settings,
    // Every random draw of step s comes from Rng(seed).fork("step-s") (batches.ts), so (seed, step) is the whole RNG state.
    rng: { scheme: 'fork-per-step', seed: settings.seed, next_step: trainer.step },
    normalisation: { name: 'vggface2', mean: VGGFACE2_MEAN, std: VGGFACE2_STD },
  };
}

function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}.ckpt`;
}

/** Checkpoints of a run folder, newest first. */
function listCheckpoints(runDir: string): string[] {
  const dir = join(runDir, 'checkpoints');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^step-\d{8}\.ckpt$/.test(f))
    .sort()
    .reverse()
    .map((f) => join(dir, f));
}

function resolveSettings(flags: PretrainFlags, saved: RunSettings | null): RunSettings {
  if (saved) {
    // a resumed run keeps its computation; a flag that would change it is refused
    const fixed: [keyof PretrainFlags, keyof RunSettings, string][] = [
      ['preset', 'preset', '--preset'],
      ['imgSize', 'imgSize', '--img-size'],
      ['maskRatio', 'maskRatio', '--mask-ratio'],
      ['batch', 'batch', '--batch'],
      ['epochs', 'epochs', '--epochs'],
      ['steps', 'steps', '--steps'],
      ['blr', 'blr', '--blr'],
      ['warmupEpochs', 'warmupEpochs', '--warmup-epochs'],
      ['seed', 'seed', '--seed'],
      ['maxPixels', 'maxPixels', '--max-pixels'],
    ];
    for (const [f, s, flag] of fixed) {
      if (flags[f] !== undefined && flags[f] !== saved[s]) throw new UserError(`${flag} ${String(flags[f])} differs from the resumed run's ${String(saved[s])}; a resumed run keeps its configuration`);
    }
    if (flags.data !== undefined && resolve(flags.data) !== saved.data) throw new UserError(`--data ${flags.data} differs from the resumed run's ${saved.data}`);
    return saved;
  }
  if (!flags.data) throw new UserError('--data DIR is required (the folder of face images)');
  if (flags.epochs !== undefined && flags.steps !== undefined) throw new UserError('give --epochs or --steps, not both');
  const preset = flags.preset ?? DEFAULTS.preset;
  if (!(PRESET_NAMES as readonly string[]).includes(preset)) throw new UserError(`--preset must be one of ${PRESET_NAMES.join(', ')}, got '${preset}'`);
  const r = RunSettings.safeParse({
    data: resolve(flags.data),
    preset,
    imgSize: flags.imgSize ?? presetConfig(preset as (typeof PRESET_NAMES)[number]).model.imgSize,
    maskRatio: flags.maskRatio ?? DEFAULTS.maskRatio,
    batch: flags.batch ?? DEFAULTS.batch,
    epochs: flags.steps !== undefined ? null : (flags.epochs ?? DEFAULTS.epochs),
    steps: flags.steps ?? null,
    blr: flags.blr ?? DEFAULTS.blr,
    warmupEpochs: flags.warmupEpochs ?? DEFAULTS.warmupEpochs,
    seed: flags.seed ?? DEFAULTS.seed,
    maxPixels: flags.maxPixels ?? DEFAULT_MAX_PIXELS,
  });
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new UserError(`invalid value for ${i.path.join('.')}: ${i.message}`);
  }
  return r.data;
}

function configFor(s: RunSettings): CamdConfig {
  let cfg: CamdConfig;
  try {
    cfg = presetConfig(s.preset, { imgSize: s.imgSize, maskRatio: s.maskRatio });
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  cfg.optim.blr = s.blr;
  cfg.optim.warmupEpochs = s.warmupEpochs;
  return cfg;
}

export async function pretrain(flags: PretrainFlags, emit: (e: PretrainEvent) => void, signal: StopSignal): Promise<PretrainResult> {
  // ---- run folder and settings ----
  let saved: z.infer<typeof RunFile> | null = null;
  let runDir: string;
  if (flags.resume) {
    runDir = resolve(flags.resume);
    const runFile = join(runDir, 'run.json');
    if (!existsSync(runFile)) throw new UserError(`${flags.resume} is not a CAMD run folder (no run.json)`);
    const parsed = RunFile.safeParse(JSON.parse(readFileSync(runFile, 'utf8')));
    if (!parsed.success) throw new UserError(`${runFile} is damaged or from another version`);
    saved = parsed.data;
    if (flags.out && resolve(flags.out) !== runDir) throw new UserError('--out and --resume name different folders; a resumed run writes to its own folder');
  } else {
    runDir = resolve(flags.out ?? join('runs', `pretrain-${new Date().toISOString().replace(/[:.]/g, '-')}`));
    if (existsSync(join(runDir, 'run.json'))) throw new UserError(`${runDir} already holds a run; use --resume ${runDir} to continue it, or another --out`);
  }
  const settings = resolveSettings(flags, saved?.settings ?? null);
  const dbPath = resolve(flags.db ?? saved?.db ?? defaultDbPath());
  const checkpointEvery = flags.checkpointEvery ?? DEFAULTS.checkpointEvery;
  const keep = flags.keepCheckpoints ?? DEFAULTS.keepCheckpoints;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 1) throw new UserError('--checkpoint-every must be a positive integer');
  const backendChoice = flags.backend ?? 'auto';
  if (!isBackendChoice(backendChoice)) throw new UserError(`--backend must be ${BACKEND_CHOICES_TEXT}, got '${backendChoice}'`);

  const store = new Store(dbPath);
  try {
    // ---- dataset: index, then the fixed image list of the run ----
    if (!existsSync(settings.data)) throw new UserError(`the folder ${settings.data} does not exist`);
    const report = await scanDataset(store, settings.data, { maxPixels: settings.maxPixels, onProgress: (done, total) => emit({ type: 'progress', phase: 'scan', done, total }) }).catch((e: Error) => {
      throw new UserError(e.message);
    });
    let images: { path: string; sha256: string }[];
    if (saved) {
      const f = ImagesFile.safeParse(JSON.parse(readFileSync(join(runDir, 'images.json'), 'utf8')));
      if (!f.success) throw new UserError(`${join(runDir, 'images.json')} is damaged`);
      images = f.data.images;
    } else {
      images = store.images(report.datasetId, 'ok').map((r) => ({ path: r.rel_path, sha256: r.sha256! }));
      if (images.length === 0) {
        const why = report.bad.length ? ` (${report.bad.length} unreadable file(s), e.g. ${report.bad[0]!.path}: ${report.bad[0]!.reason})` : '';
        throw new UserError(`no readable image in ${settings.data}${why}`);
      }
    }

    // ---- decode cache ----
    const cache = new DecodeCache(cacheDirFor(dbPath), cacheSideFor(settings.imgSize));
    const cacheRes = await cache.ensure(
      images.map((im) => ({ abs: join(settings.data, im.path), sha256: im.sha256 })),
      settings.maxPixels,
      (done, total) => emit({ type: 'progress', phase: 'cache', done, total }),
    );
    if (cacheRes.failed.length) throw new UserError(`cannot decode ${cacheRes.failed[0]!.path}: ${cacheRes.failed[0]!.reason} (changed since the run started?)`);

    // ---- backend, model, data ----
    let sel;
    try {
      sel = await selectBackend(backendChoice, { wasmThreads: flags.threads ?? 'auto' });
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    const cfg = configFor(settings);
    const { grid, tokens } = gridOf(cfg.model);
    let source: BatchSource;
    try {
      source = new BatchSource({ hashes: images.map((i) => i.sha256), cache, imgSize: settings.imgSize, grid, maskCount: maskedCount(settings.maskRatio, tokens), batchSize: settings.batch, seed: settings.seed });
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    const ipe = source.itersPerEpoch;
    const totalSteps = settings.steps ?? Math.max(1, Math.round(settings.epochs! * ipe));
    const epochs = totalSteps / ipe;
    const trainer = new CamdTrainer(cfg, settings.seed, { epochs, itersPerEpoch: ipe, batchSize: settings.batch });

    // ---- resume ----
    let resumedFrom: string | null = null;
    if (saved) {
      const candidates = listCheckpoints(runDir);
      if (candidates.length === 0) throw new UserError(`${runDir} has no checkpoint to resume from`);
      for (const file of candidates) {
        try {
          const ck = readTensorFile(file, CHECKPOINT_FORMAT);
          const st = z.object({ step: z.number().int(), optimizer_step: z.number().int(), run_id: z.string() }).parse(ck.state);
          if (st.run_id !== saved.run_id) throw new Error(`it belongs to run ${st.run_id}`);
          trainer.importTensors(ck.tensors, st.step, st.optimizer_step, file);
          resumedFrom = file;
          break;
        } catch (e) {
          process.stderr.write(`camd: skipping checkpoint ${file}: ${(e as Error).message}\n`);
        }
      }
      if (!resumedFrom) throw new UserError(`no usable checkpoint in ${join(runDir, 'checkpoints')}`);
    }

    // ---- run record ----
    const runId = saved?.run_id ?? randomUUID();
    mkdirSync(join(runDir, 'checkpoints'), { recursive: true });
    if (!saved) {
      writeFileAtomic(join(runDir, 'images.json'), Buffer.from(JSON.stringify({ root: settings.data, images }) + '\n'));
      writeFileAtomic(join(runDir, 'run.json'), Buffer.from(JSON.stringify({ format: 'camd-run', version: 1, run_id: runId, db: dbPath, settings, created_at: new Date().toISOString() }, null, 2) + '\n'));
      store.createRun({ id: runId, kind: 'pretrain', datasetId: report.datasetId, config: { settings, model: cfg, images: images.length, image_list_sha256: createHash('sha256').update(images.map((i) => i.sha256).join('\n')).digest('hex') }, seed: settings.seed, outDir: runDir, totalSteps });
    } else if (!store.run(runId)) {
      store.createRun({ id: runId, kind: 'pretrain', datasetId: report.datasetId, config: { settings, model: cfg, images: images.length }, seed: settings.seed, outDir: runDir, totalSteps });
    }
    store.truncateMetrics(runId, trainer.step);
    store.updateRun(runId, {
      status: 'running',
      backend: sel.backend,
      backend_detail: JSON.stringify({ package: sel.package, skipped: sel.skipped, details: sel.reports.find((r) => r.loaded && r.backend === sel.backend)?.details ?? {} }),
      started_at: new Date().toISOString(),
      error: null,
      last_step: trainer.step,
    });
    const eventsFile = join(runDir, 'events.jsonl');
    const send = (e: PretrainEvent) => {
      if (e.type !== 'progress') appendFileSync(eventsFile, JSON.stringify(e) + '\n');
      emit(e);
    };
    send({
      type: 'start',
      run_id: runId,
      out_dir: runDir,
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
    });

    const ctx: LoopContext = { trainer, source, store, runId, runDir, settings, totalSteps, checkpointEvery, keep, cfg, signal, send, eventsFile, lastCheckpoint: resumedFrom, stopAt: flags.stopAt };
    try {
      return await trainLoop(ctx);
    } catch (e) {
      if (e instanceof UserError) throw e;
      // disk full, a vanished cache file, …: record it, keep the last good checkpoint, one line for the user
      const msg = `${(e as Error).message} (at step ${trainer.step}; ${ctx.lastCheckpoint ? `the last good checkpoint is ${ctx.lastCheckpoint}` : 'no checkpoint was written yet'})`;
      store.updateRun(runId, { status: 'failed', error: msg, finished_at: new Date().toISOString(), last_step: trainer.step });
      appendFileSync(eventsFile, JSON.stringify({ type: 'error', message: msg, step: trainer.step }) + '\n');
      throw new UserError(msg, 4);
    } finally {
      trainer.dispose();
    }
  } finally {
    store.close();
  }
}

interface LoopContext {
  trainer: CamdTrainer;
  source: BatchSource;
  store: Store;
  runId: string;
  runDir: string;
  settings: RunSettings;
  totalSteps: number;
  checkpointEvery: number;
  keep: number;
  cfg: CamdConfig;
  signal: StopSignal;
  send: (e: PretrainEvent) => void;
  eventsFile: string;
  lastCheckpoint: string | null;
  stopAt?: number;
}

async function writeCheckpoint(c: LoopContext): Promise<void> {
  const { trainer, runDir, runId, store } = c;
  const file = join(runDir, 'checkpoints', checkpointName(trainer.step));
  const { bytes, sha256 } = encodeTensorFile(CHECKPOINT_FORMAT, stateOf(trainer, runId, c.settings, c.totalSteps), await trainer.exportTensors());
  writeFileAtomic(file, bytes);
  store.addCheckpoint({ run_id: runId, step: trainer.step, kind: 'full', path: file, sha256, bytes: bytes.length });
  c.lastCheckpoint = file;
  c.send({ type: 'checkpoint', step: trainer.step, path: file, sha256 });
  for (const old of listCheckpoints(runDir).slice(c.keep)) rmSync(old, { force: true });
}

async function writeEncoder(c: LoopContext): Promise<string> {
  const { trainer, runDir, runId, store } = c;
  const file = join(runDir, 'encoder.safetensors');
  const state = { kind: 'camd-encoder', run_id: runId, step: trainer.step, model: c.cfg.model, normalisation: { name: 'vggface2', mean: VGGFACE2_MEAN, std: VGGFACE2_STD } };
  const { bytes, sha256 } = encodeTensorFile(ENCODER_FORMAT, state, await trainer.exportEncoder());
  writeFileAtomic(file, bytes);
  store.addCheckpoint({ run_id: runId, step: trainer.step, kind: 'encoder', path: file, sha256, bytes: bytes.length });
  return file;
}

const METRIC_NAMES = ['loss', 'loss_dense', 'loss_global', 'loss_agmd', 'lr', 'mm', 'grad_norm', 'images_per_s'] as const;

/** Steps until done or stopped; checkpoints every N steps, at a stop and at the end. */
async function trainLoop(c: LoopContext): Promise<PretrainResult> {
  const { trainer, source, store, runId, settings, totalSteps, signal, send } = c;
  const ipe = source.itersPerEpoch;
  const t0 = performance.now();
  const pending: { step: number; epoch: number; name: string; value: number }[] = [];
  const flush = () => {
    store.addMetrics(runId, pending.splice(0));
    store.updateRun(runId, { last_step: trainer.step });
  };
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
        const msg = `the loss became ${m.loss} at step ${step} (dense ${m.loss_dense}, global ${m.loss_global}, agmd ${m.loss_agmd}); training stopped. ${c.lastCheckpoint ? `The last good checkpoint is ${c.lastCheckpoint}.` : 'No checkpoint was written yet.'} Try a lower --blr.`;
        store.updateRun(runId, { status: 'failed', error: msg, finished_at: new Date().toISOString() });
        send({ type: 'error', message: msg, step });
        return { exitCode: 3, runDir: c.runDir };
      }
      const ev = { type: 'step' as const, step, epoch: Math.floor((step - 1) / ipe) + 1, loss: m.loss, loss_dense: m.loss_dense, loss_global: m.loss_global, loss_agmd: m.loss_agmd, lr: m.lr, mm: m.mm, grad_norm: m.grad_norm, images_per_s: (settings.batch * 1000) / (performance.now() - ts) };
      for (const k of METRIC_NAMES) pending.push({ step, epoch: step / ipe, name: k, value: ev[k] });
      send(ev);
      sinceCheckpoint++;
      const last = step >= totalSteps;
      if (pending.length >= 400) flush();
      if (sinceCheckpoint >= c.checkpointEvery || last || signal.stop) {
        flush();
        await writeCheckpoint(c);
        sinceCheckpoint = 0;
      }
      if (signal.stop) break;
      if (c.stopAt !== undefined && step >= c.stopAt) {
        if (sinceCheckpoint > 0) await writeCheckpoint(c);
        sinceCheckpoint = 0;
        break;
      }
      await new Promise((r) => setImmediate(r)); // let signals in between steps
    }
  } finally {
    await prefetch?.catch(() => undefined);
  }
  flush();
  const interrupted = trainer.step < totalSteps;
  const encoder = await writeEncoder(c);
  store.updateRun(runId, { status: interrupted ? 'stopped' : 'done', finished_at: new Date().toISOString(), last_step: trainer.step });
  send({ type: 'done', step: trainer.step, reason: interrupted ? 'interrupted' : 'completed', checkpoint: c.lastCheckpoint, encoder, seconds: (performance.now() - t0) / 1000 });
  if (tf.memory().numTensors > 10_000) process.stderr.write(`camd: warning: ${tf.memory().numTensors} tensors still live\n`);
  return { exitCode: 0, runDir: c.runDir };
}
