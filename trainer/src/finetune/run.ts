/**
 * `camd finetune`: fine-tune (or linear-probe) an encoder on a labelled face dataset and evaluate
 * it every epoch (CAMD.md §5). Selection is by the validation split when the dataset has one
 * ("Our decisions"); the test value at that epoch is reported, and the best test value over epochs
 * too, labelled as such.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_CHOICES_TEXT, isBackendChoice, selectBackend } from '../backends/ladder.js';
import { PRESET_NAMES, presetConfig, ModelConfigSchema, type ModelConfig } from '../model/config.js';
import { Store } from '../store/store.js';
import { DecodeCache } from '../data/decode-cache.js';
import { DEFAULT_MAX_PIXELS, type RgbImage } from '../data/image-io.js';
import { AdamW } from '../optim/adamw.js';
import { learningRateAt } from '../optim/schedule.js';
import { encodeTensorFile, writeFileAtomic, readTensorFile } from '../train/checkpoint.js';
import { Classifier, readEncoder } from './classifier.js';
import { loadLabeled, type ResolvedDataset, type ResolvedItem } from './dataset.js';
import { drawTrain, evalSide, evalTransform, trainTransform, IMAGENET_MEAN, IMAGENET_STD, DEFAULT_AUG, type AugOptions } from './transforms.js';
import { farMetrics, ferMetrics, type FarMetrics, type FerMetrics } from './metrics.js';
import type { Task, Split, LfwaSplit } from './labels.js';
import { Rng } from '../util/rng.js';
import { CamdError, UserError, describeUserFacing, makeFolder } from '../util/errors.js';
import { cacheDirFor, defaultDbPath } from '../util/paths.js';
import { FolderLock } from '../util/folder-lock.js';
import { removeStaleTemps } from '../util/atomic-file.js';
import { currentProcess } from '../util/process-identity.js';
import { onHardExit } from '../util/exit-hooks.js';
import type { FinetuneEvent } from './events.js';
import { z } from 'zod';

export const CLASSIFIER_FORMAT = 'camd-classifier';

export interface FinetuneFlags {
  task: string;
  format: string;
  data: string;
  init: string;
  preset?: string;
  fewShot?: number;
  linearProbe?: boolean;
  epochs?: number;
  batch?: number;
  blr?: number;
  imgSize?: number;
  warmupEpochs?: number;
  layerDecay?: number;
  dropPath?: number;
  minLr?: number;
  weightDecay?: number;
  seed?: number;
  split?: string;
  backend?: string;
  threads?: number | 'auto';
  out?: string;
  db?: string;
  maxPixels?: number;
  randAugment?: string;
  reprob?: number;
  minCropScale?: number;
}

export type { FinetuneEvent } from './events.js';

const DEFAULTS = { epochs: 50, batch: 32, blr: 2.5e-4, warmupEpochs: 5, layerDecay: 0.65, dropPath: 0.1, minLr: 1e-6, weightDecay: 0.05, seed: 0 } as const;

/** Batched forward pass on host images; returns logits (B·K) or features. */
export async function* evalBatches(items: ResolvedItem[], cache: DecodeCache, S: number, batch: number): AsyncGenerator<{ x: Float32Array; n: number; items: ResolvedItem[] }> {
  for (let i = 0; i < items.length; i += batch) {
    const chunk = items.slice(i, i + batch);
    const views = await Promise.all(chunk.map((it) => evalTransform(mustGet(cache, it), S)));
    const x = new Float32Array(chunk.length * S * S * 3);
    views.forEach((v, b) => x.set(v, b * S * S * 3));
    yield { x, n: chunk.length, items: chunk };
  }
}

function mustGet(cache: DecodeCache, it: ResolvedItem): RgbImage {
  const img = cache.get(it.sha256);
  if (!img) throw new Error(`${it.path} is missing from the decode cache`);
  return img;
}

function lossOf(task: Task, logits: tf.Tensor2D, labels: tf.Tensor): tf.Scalar {
  if (task === 'far') return tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar; // BCEWithLogits, mean
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar; // plain cross-entropy (no smoothing, §5)
}

function labelTensor(task: Task, items: ResolvedItem[], K: number): tf.Tensor {
  if (task === 'far') return tf.tensor2d(items.flatMap((i) => i.labels), [items.length, K]);
  return tf.oneHot(tf.tensor1d(items.map((i) => i.labels[0]!), 'int32'), K).toFloat();
}

export interface FinetuneResult {
  outcome: 'completed' | 'stopped' | 'diverged';
  runId: string;
  outDir: string;
}

/** Training images that fit in whole batches, and whether the last partial batch is kept (tiny sets). */
export function epochPlan(trainCount: number, batch: number): { stepsPerEpoch: number; droppedPerEpoch: number; keptPartial: boolean } {
  const full = Math.floor(trainCount / batch);
  const rest = trainCount - full * batch;
  // drop_last as the reference, except where whole batches would leave out a large part of a tiny set
  const keptPartial = rest > 0 && full < 4;
  return { stepsPerEpoch: full + (keptPartial ? 1 : 0), droppedPerEpoch: keptPartial ? 0 : rest, keptPartial };
}

/** Creates and locks the run folder; refuses one that holds a run already. `created`: it did not exist. */
function openRunFolder(outDir: string, shown: string): { lock: FolderLock; created: boolean } {
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UserError(`--out ${shown} is a file, not a folder`);
  const created = !existsSync(outDir);
  makeFolder(outDir, 'the run folder');
  const lock = FolderLock.acquire(outDir, 'camd finetune');
  removeStaleTemps(outDir);
  if (existsSync(join(outDir, 'finetune.json'))) {
    lock.release();
    throw new UserError(`${outDir} already holds a fine-tuning run; choose another --out`);
  }
  return { lock, created };
}

export async function finetune(flags: FinetuneFlags, emit: (e: FinetuneEvent) => void, signal: AbortSignal = new AbortController().signal): Promise<FinetuneResult> {
  if (flags.task !== 'far' && flags.task !== 'fer') throw new UserError(`--task must be far or fer, got '${flags.task}'`);
  const task = flags.task as Task;
  const backendChoice = flags.backend ?? 'auto';
  if (!isBackendChoice(backendChoice)) throw new UserError(`--backend must be ${BACKEND_CHOICES_TEXT}, got '${backendChoice}'`);
  const seed = flags.seed ?? DEFAULTS.seed;
  const epochs = flags.epochs ?? DEFAULTS.epochs;
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new UserError('--epochs must be a positive integer');
  if (flags.split !== undefined && flags.split !== 'lfwa-release' && flags.split !== 'random') throw new UserError(`--split must be lfwa-release or random, got '${flags.split}'`);

  const aa = flags.randAugment ?? DEFAULT_AUG.randAugment;
  if (aa !== 'none' && aa !== 'rand-m9-mstd0.5-inc1') throw new UserError(`--aa must be rand-m9-mstd0.5-inc1 or none, got '${aa}'`);
  const aug: AugOptions = { randAugment: aa, reprob: flags.reprob ?? DEFAULT_AUG.reprob, minCropScale: flags.minCropScale ?? DEFAULT_AUG.minCropScale };
  if (!(aug.reprob >= 0 && aug.reprob <= 1)) throw new UserError('--reprob must be in [0, 1]');
  if (!(aug.minCropScale > 0 && aug.minCropScale <= 1)) throw new UserError('--min-crop-scale must be in (0, 1]');

  // ---- the encoder ----
  let model: ModelConfig;
  let encoder: ReturnType<typeof readEncoder> | null = null;
  if (flags.init === 'none') {
    const preset = flags.preset ?? 'tiny';
    if (!(PRESET_NAMES as readonly string[]).includes(preset)) throw new UserError(`--preset must be one of ${PRESET_NAMES.join(', ')}, got '${preset}'`);
    model = presetConfig(preset as (typeof PRESET_NAMES)[number]).model;
  } else {
    if (flags.preset) throw new UserError('--preset goes with --init none; a checkpoint brings its own architecture');
    try {
      encoder = readEncoder(resolve(flags.init));
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    model = encoder.model;
  }
  const S = flags.imgSize ?? model.imgSize;
  const m2 = ModelConfigSchema.safeParse({ ...model, imgSize: S });
  if (!m2.success) throw new UserError(`--img-size ${S}: ${m2.error.issues[0]!.message}`);
  model = m2.data;

  const outDir = resolve(flags.out ?? join('runs', `finetune-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  const { lock, created } = openRunFolder(outDir, flags.out ?? outDir);
  const release = () => {
    lock.release();
    // a run that failed before it started leaves no folder behind
    if (created && !existsSync(join(outDir, 'finetune.json'))) rmSync(outDir, { recursive: true, force: true });
  };
  const dbPath = resolve(flags.db ?? defaultDbPath());
  let store: Store;
  try {
    store = new Store(dbPath);
  } catch (e) {
    release();
    throw e;
  }
  for (const r of store.reapDeadRuns()) emit({ type: 'log', level: 'info', message: `run ${r.id} was shown as running, but its process (pid ${r.pid}) is gone: marked interrupted` });
  try {
    const ds: ResolvedDataset = await loadLabeled(store, flags.format, flags.data, { split: flags.split as LfwaSplit | undefined, seed, fewShot: flags.fewShot, maxPixels: flags.maxPixels ?? DEFAULT_MAX_PIXELS, onProgress: (done, total) => emit({ type: 'progress', phase: 'scan', done, total }) });
    if (ds.set.task !== task) throw new UserError(`the ${ds.set.format} labels are a ${ds.set.task} task, not ${task}`);
    for (const n of ds.notes) emit({ type: 'log', level: 'warn', message: n });
    const K = ds.set.names.length;
    const bySplit = (s: Split) => ds.items.filter((i) => i.split === s);
    const train = bySplit('train');
    const val = bySplit('val');
    const test = bySplit('test');
    const cache = new DecodeCache(cacheDirFor(dbPath), evalSide(S));
    const cres = await cache.ensure(ds.items.map((i) => ({ abs: join(ds.root, i.path), sha256: i.sha256 })), flags.maxPixels ?? DEFAULT_MAX_PIXELS, (done, total) => emit({ type: 'progress', phase: 'cache', done, total }));
    if (cres.failed.length) throw new UserError(`cannot decode ${cres.failed[0]!.path}: ${cres.failed[0]!.reason}`);

    let sel;
    try {
      sel = await selectBackend(backendChoice, { wasmThreads: flags.threads ?? 'auto' });
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    const linearProbe = Boolean(flags.linearProbe);
    const clf = new Classifier({ model, outputs: K, dropPath: linearProbe ? 0 : (flags.dropPath ?? DEFAULTS.dropPath) }, seed);
    let posNote = '2-D sin-cos table (random init)';
    if (encoder) {
      try {
        posNote = clf.loadEncoder(encoder.tensors, flags.init);
      } catch (e) {
        throw new UserError((e as Error).message);
      }
    }

    const batch = Math.min(flags.batch ?? DEFAULTS.batch, train.length);
    const plan = epochPlan(train.length, batch);
    const ipe = plan.stepsPerEpoch;
    const blr = flags.blr ?? DEFAULTS.blr;
    const lr0 = (blr * batch) / 256;
    const warmup = flags.warmupEpochs ?? DEFAULTS.warmupEpochs;
    const minLr = flags.minLr ?? DEFAULTS.minLr;
    const L = model.depth + 1;
    const decay = flags.layerDecay ?? DEFAULTS.layerDecay;
    const trainable = linearProbe ? ['head.weight', 'head.bias'] : clf.params.names();
    const vars = new Map(trainable.map((n) => [n, clf.params.get(n)]));
    const lrScale = new Map(trainable.map((n) => [n, Math.pow(decay, L - clf.layerId(n))])); // §5: 0.65^(L − id)
    const opt = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: flags.weightDecay ?? DEFAULTS.weightDecay }, (name, shape) => !(shape.length <= 1 || name === 'cls_token' || name === 'pos_embed'));

    const runId = randomUUID();
    const config = { task, format: ds.set.format, data: ds.root, init: flags.init, model, outputs: K, names: ds.set.names, split: ds.set.splitNote, few_shot: flags.fewShot ?? null, linear_probe: linearProbe, epochs, batch, blr, lr: lr0, warmup_epochs: warmup, layer_decay: decay, drop_path: clf.spec.dropPath, augmentation: aug, min_lr: minLr, seed, pos_embed: posNote, normalisation: { name: 'imagenet', mean: IMAGENET_MEAN, std: IMAGENET_STD } };
    store.createRun({ id: runId, kind: 'finetune', datasetId: ds.datasetId, parentRunId: encoder?.runId && store.run(encoder.runId) ? encoder.runId : null, config, seed, outDir, totalSteps: epochs * ipe });
    writeFileAtomic(join(outDir, 'finetune.json'), Buffer.from(JSON.stringify({ format: 'camd-finetune', version: 1, run_id: runId, db: dbPath, config, created_at: new Date().toISOString() }, null, 2) + '\n'));
    store.claimRun(runId, currentProcess(), { backend: sel.backend, backend_detail: JSON.stringify({ package: sel.package, skipped: sel.skipped, details: sel.reports.find((r) => r.loaded && r.backend === sel.backend)?.details ?? {} }), started_at: new Date().toISOString() });
    const eventsFile = join(outDir, 'events.jsonl');
    const send = (e: FinetuneEvent) => {
      if (e.type !== 'progress') appendFileSync(eventsFile, JSON.stringify(e) + '\n');
      emit(e);
    };
    let step = 0;
    const st = store;
    const offHardExit = onHardExit((reason) => {
      const msg = `quit at once (${reason}) after step ${step}; nothing was written for the unfinished epoch`;
      st.updateRun(runId, { status: 'interrupted', error: msg, finished_at: new Date().toISOString(), last_step: step });
      appendFileSync(eventsFile, JSON.stringify({ type: 'error', message: msg, cause: 'io' }) + '\n');
      lock.release();
    });
    try {
      if (plan.keptPartial) send({ type: 'log', level: 'info', message: `${train.length} training images are not a multiple of the batch ${batch}: each epoch ends with a batch of ${train.length - (ipe - 1) * batch} (kept: the set is smaller than 4 batches)` });
      else if (plan.droppedPerEpoch) send({ type: 'log', level: 'info', message: `each epoch leaves out ${plan.droppedPerEpoch} of ${train.length} training images (the last partial batch is dropped, as in the reference recipe; a different ${plan.droppedPerEpoch} each epoch)` });
      send({ type: 'start', run_id: runId, out_dir: outDir, db: dbPath, backend: sel.backend, task, format: ds.set.format, classes: K, train: train.length, val: val.length, test: test.length, dropped: ds.dropped.length, init: flags.init, pos_embed: posNote, epochs, steps_per_epoch: ipe, batch, dropped_per_epoch: plan.droppedPerEpoch, linear_probe: linearProbe });

      // ---- linear probe: frozen features, computed once ----
      const featureCache = new Map<string, Float32Array>();
      if (linearProbe) {
        let done = 0;
        for (const part of [train, val, test]) {
          for await (const b of evalBatches(part, cache, S, 32)) {
            const f = tf.tidy(() => clf.features(tf.tensor4d(b.x, [b.n, S, S, 3])));
            const data = (await f.data()) as Float32Array;
            f.dispose();
            b.items.forEach((it, k) => featureCache.set(it.path, data.slice(k * model.embedDim, (k + 1) * model.embedDim)));
            done += b.n;
            emit({ type: 'progress', phase: 'features', done, total: ds.items.length });
          }
        }
      }

      const evaluate = async (items: ResolvedItem[]): Promise<FarMetrics | FerMetrics> => {
        const logits = new Float32Array(items.length * K);
        let o = 0;
        if (linearProbe) {
          const f = tf.tensor2d(items.flatMap((it) => [...featureCache.get(it.path)!]), [items.length, model.embedDim]);
          const l = tf.tidy(() => clf.head(f));
          logits.set(await l.data());
          tf.dispose([f, l]);
        } else {
          for await (const b of evalBatches(items, cache, S, 32)) {
            const l = tf.tidy(() => clf.logits(tf.tensor4d(b.x, [b.n, S, S, 3])));
            logits.set(await l.data(), o);
            o += b.n * K;
            l.dispose();
          }
        }
        return task === 'far' ? farMetrics(logits, items.map((i) => i.labels), ds.set.names) : ferMetrics(logits, items.map((i) => i.labels[0]!), ds.set.names);
      };

      const history: { epoch: number; val: number | null; test: number }[] = [];
      const metricName = task === 'far' ? 'mean_acc' : 'top1';
      const t0 = performance.now();
      const ckptOf = async (epoch: number, kind: 'best' | 'last') => {
        const file = join(outDir, `${kind}.safetensors`);
        const state = { kind: CLASSIFIER_FORMAT, run_id: runId, epoch, step, task, names: ds.set.names, spec: clf.spec, normalisation: config.normalisation, img_size: S };
        const { bytes, sha256 } = encodeTensorFile(CLASSIFIER_FORMAT, state, await clf.exportTensors());
        writeFileAtomic(file, bytes);
        store.replaceCheckpoint({ run_id: runId, step, kind: kind === 'best' ? 'classifier' : 'last', path: file, sha256, bytes: bytes.length });
        send({ type: 'checkpoint', epoch, step, kind, path: file });
        return file;
      };
      /** One optimiser step on the loss `f`; returns the loss value. */
      const trainStep = async (f: () => tf.Scalar, lr: number): Promise<number> => {
        const v = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(f, [...vars.values()]);
          const byName = new Map<string, tf.Tensor>();
          for (const [n, va] of vars) if (grads[va.name]) byName.set(n, grads[va.name]!);
          opt.apply(vars, byName, lr, lrScale); // no gradient clipping in fine-tuning (§5)
          return value;
        });
        const out = (await v.data())[0]!;
        v.dispose();
        return out;
      };
      let bestFile: string | null = null;
      let bestSel = -Infinity;
      let stoppedIn: number | null = null; // the epoch in which a stop arrived
      for (let epoch = 1; epoch <= epochs && stoppedIn === null; epoch++) {
        const order = new Rng(seed).fork(`ft-epoch-${epoch}`).shuffle([...train.keys()]);
        for (let it = 0; it < ipe; it++) {
          const ts = performance.now();
          const rng = new Rng(seed).fork(`ft-step-${step}`);
          const items = order.slice(it * batch, (it + 1) * batch).map((k) => train[k]!);
          const t = (epoch - 1) + it / ipe;
          const lr = learningRateAt(t, lr0, warmup, epochs, minLr);
          let loss: number;
          if (linearProbe) {
            const f = tf.tensor2d(items.flatMap((x) => [...featureCache.get(x.path)!]), [items.length, model.embedDim]);
            const y = labelTensor(task, items, K);
            loss = await trainStep(() => lossOf(task, clf.head(f), y), lr);
            tf.dispose([f, y]);
          } else {
            const draws = items.map((x) => {
              const img = mustGet(cache, x);
              return drawTrain(img.width, img.height, S, rng, aug);
            });
            const views = await Promise.all(items.map((x, b) => trainTransform(mustGet(cache, x), S, draws[b]!, (s) => { const g = new Rng(s); return () => g.normal(); })));
            const xb = new Float32Array(items.length * S * S * 3);
            views.forEach((v, b) => xb.set(v, b * S * S * 3));
            const x = tf.tensor4d(xb, [items.length, S, S, 3]);
            const y = labelTensor(task, items, K);
            const masks = clf.dropPathMasks(items.length, rng);
            loss = await trainStep(() => lossOf(task, clf.logits(x, masks), y), lr);
            tf.dispose([x, y, ...(masks ?? [])]);
          }
          step++;
          if (!Number.isFinite(loss)) {
            const msg = `the loss became ${loss} at step ${step} (epoch ${epoch}); fine-tuning stopped. Try a lower --blr.`;
            store.updateRun(runId, { status: 'failed', error: msg, finished_at: new Date().toISOString(), last_step: step });
            send({ type: 'error', message: msg, cause: 'diverged' });
            return { outcome: 'diverged', runId, outDir };
          }
          store.addMetrics(runId, [{ step, epoch: t + 1 / ipe, name: 'loss', value: loss }, { step, epoch: t + 1 / ipe, name: 'lr', value: lr }]);
          send({ type: 'step', step, epoch, loss, lr, images_per_s: (items.length * 1000) / (performance.now() - ts) });
          if (signal.aborted) {
            stoppedIn = epoch;
            break;
          }
          await new Promise((r) => setImmediate(r)); // let signals in between steps
        }
        if (stoppedIn !== null) break;
        // ---- evaluation every epoch ----
        const rec = (split: 'val' | 'test', r: FarMetrics | FerMetrics) => {
          store.addEvaluation({ run_id: runId, dataset_id: ds.datasetId, epoch, split, metric: r.metric, value: r.value, detail: r });
          send({ type: 'eval', epoch, split, metric: r.metric, value: r.value });
        };
        const v = val.length ? await evaluate(val) : null;
        if (v) rec('val', v);
        const te = await evaluate(test.length ? test : val);
        rec(test.length ? 'test' : 'val', te);
        history.push({ epoch, val: v?.value ?? null, test: te.value });
        const selValue = v ? v.value : te.value;
        if (v ? selValue > bestSel : epoch === epochs) {
          bestSel = selValue;
          bestFile = await ckptOf(epoch, 'best');
        }
        store.updateRun(runId, { last_step: step });
        if (signal.aborted && epoch < epochs) stoppedIn = epoch + 1; // stop arrived during the evaluation
      }
      // ---- a stop: the model as it is now; selection among the evaluated epochs ----
      const lastFile = stoppedIn !== null ? await ckptOf(stoppedIn, 'last') : null;
      // ---- selection ----
      const byVal = val.length > 0;
      const selected = history.length === 0 ? null : byVal ? history.reduce((a, b) => ((b.val ?? -1) > (a.val ?? -1) ? b : a)) : history[history.length - 1]!;
      const bestTest = history.length === 0 ? null : history.reduce((a, b) => (b.test > a.test ? b : a));
      if (selected && bestTest) {
        store.selectEvaluationEpoch(runId, selected.epoch);
        store.addEvaluation({ run_id: runId, dataset_id: ds.datasetId, epoch: bestTest.epoch, split: 'test', metric: `${metricName}_best_over_epochs`, value: bestTest.test, detail: { note: 'maximum test value over epochs, the released protocol; not a model selection' } });
      }
      store.updateRun(runId, { status: stoppedIn !== null ? 'stopped' : 'done', finished_at: new Date().toISOString(), last_step: step });
      send({ type: 'done', reason: stoppedIn !== null ? 'interrupted' : 'completed', step, selected_epoch: selected?.epoch ?? null, selected_by: selected ? (byVal ? 'val' : 'last') : null, test_at_selected: selected?.test ?? null, best_test: bestTest?.test ?? null, best_test_epoch: bestTest?.epoch ?? null, metric: metricName, checkpoint: bestFile, last: lastFile, seconds: (performance.now() - t0) / 1000 });
      clf.dispose();
      opt.dispose();
      return { outcome: stoppedIn !== null ? 'stopped' : 'completed', runId, outDir };
    } catch (e) {
      // a full disk while writing best.safetensors, a vanished cache file, …: the run failed, one line
      const uf = describeUserFacing(e);
      const msg = uf ? `${uf.message} (at step ${step})` : `internal error at step ${step}: ${(e as Error).message}`;
      store.updateRun(runId, { status: 'failed', error: msg, finished_at: new Date().toISOString(), last_step: step });
      appendFileSync(eventsFile, JSON.stringify({ type: 'error', message: msg, cause: uf?.kind ?? 'internal' }) + '\n');
      if (!uf) throw e;
      throw new CamdError(uf.kind === 'disk-full' ? 'disk-full' : 'io', msg);
    } finally {
      offHardExit();
    }
  } finally {
    store.close();
    release();
  }
}

const ClassifierState = z.object({ kind: z.literal(CLASSIFIER_FORMAT), task: z.enum(['far', 'fer']), names: z.array(z.string()), spec: z.object({ model: ModelConfigSchema, outputs: z.number().int(), dropPath: z.number() }), img_size: z.number().int() }).passthrough();

/** Loads a fine-tuned classifier written by `camd finetune`. */
export function loadClassifier(file: string): { clf: Classifier; task: Task; names: string[]; imgSize: number } {
  if (!existsSync(file)) throw new UserError(`checkpoint ${file} does not exist`);
  let f;
  try {
    f = readTensorFile(file, CLASSIFIER_FORMAT);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const s = ClassifierState.safeParse(f.state);
  if (!s.success) throw new UserError(`${file}: classifier metadata is invalid`);
  const clf = new Classifier({ ...s.data.spec, dropPath: 0 }, 0);
  try {
    clf.loadEncoder(f.tensors, file);
    for (const n of ['fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias']) {
      const t = f.tensors.get(n);
      if (!t) throw new Error(`${file} has no tensor ${n}`);
      tf.tidy(() => clf.params.get(n).assign(tf.tensor(t.data, clf.params.get(n).shape)));
    }
  } catch (e) {
    clf.dispose();
    throw new UserError((e as Error).message);
  }
  return { clf, task: s.data.task, names: s.data.names, imgSize: s.data.img_size };
}
