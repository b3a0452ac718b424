/**
 * `npm run bench -- --compare-torch`: the same CAMD step in tfjs (this process) and in PyTorch
 * (bench/torch_camd_step.py, a child process), and with `--released DIR` the authors' released
 * step (bench/released_camd_step.py, importing DIR), each at its own fastest thread setting on the
 * same cores (thread-plan.ts): first every setting of each side is timed for a few steps (the
 * sweep: ours OpenBLAS 1..cores beside the process's wasm threads; PyTorch every torch intra-op
 * count T and OpenBLAS count B with T·B ≤ cores, or every T where its BLAS follows torch's threads,
 * as MKL does), then the sides run alternating, step by step, each at its fastest, for the medians,
 * the ratio tfjs ÷ PyTorch, GFLOP/s against each side's measured matMul peak and each side's share
 * of the step spent in matrix products. `--thread-sweep` repeats the alternation within smaller
 * core budgets (the scaling measurement).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gridOf, maskedCount, type CamdConfig, type PresetName } from '../model/config.js';
import type { CamdBatch } from '../model/camd.js';
import { CamdTrainer } from '../train/step.js';
import { disposeBatch, syntheticHostBatch, toDeviceBatch } from '../train/synthetic.js';
import { Rng } from '../util/rng.js';
import { nativeBlas, nativeOps } from '../backends/native.js';
import { median } from '../util/stats.js';
import { releasedArgv, releasedFlags } from '../interop/released-args.js';
import { cpuModel, type TorchBlas } from './machine-info.js';
import { startStepProcess, type StepProcess } from './step-process.js';
import {
  fastest,
  ourSettings,
  referenceSettings,
  sweepPoint,
  type SweepPoint,
  type ThreadSetting,
} from './thread-plan.js';

const SCRIPT = fileURLToPath(new URL('../../../bench/torch_camd_step.py', import.meta.url));
const RELEASED_SCRIPT = fileURLToPath(new URL('../../../bench/released_camd_step.py', import.meta.url));
/** Our timm stand-in and a turtle without tkinter, for importing the released models on a CPU. */
const SHIM = fileURLToPath(new URL('../../../tests/support/released-shim', import.meta.url));

/**
 * Matmul FLOPs of one training step, from the kernels tfjs actually ran, and the share of the
 * step's kernel time spent in them (wasm kernels run synchronously, so their times are real).
 */
async function stepProfile(run: () => Promise<void>): Promise<StepProfile> {
  const info = await tf.profile(run);
  let flops = 0;
  let matmulMs = 0;
  let allMs = 0;
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    allMs += ms;
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    byKernel.set(k.name, { ms: e.ms + ms, calls: e.calls + 1 });
    if (k.name !== 'BatchMatMul' && k.name !== '_FusedMatMul') continue;
    matmulMs += ms;
    const a = k.inputShapes[0]!;
    const out = k.outputShapes[0]!;
    const M = out[out.length - 2]!;
    const K = a[a.length - 2] === M ? a[a.length - 1]! : a[a.length - 2]!;
    flops += 2 * out.reduce((x, y) => x * y, 1) * K;
  }
  const kernels = [...byKernel]
    .map(([name, e]) => ({ name, share: allMs > 0 ? e.ms / allMs : 0, ms: e.ms, calls: e.calls }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, KERNELS_LISTED);
  return { flops, matmulShare: allMs > 0 ? matmulMs / allMs : 0, kernels };
}

/** How many of the step's kernels (by time) the results list. */
const KERNELS_LISTED = 12;

/** One kernel's part of a profiled step: its share of the kernel time, its milliseconds and calls. */
export interface KernelShare {
  name: string;
  share: number;
  ms: number;
  calls: number;
}

interface StepProfile {
  flops: number;
  matmulShare: number;
  /** The step's costliest kernels, costliest first. */
  kernels: KernelShare[];
}

/** A side's chosen setting as the result names it. */
export interface ChosenThreads {
  /** torch's intra-op threads (PyTorch, released) or our wasm threads. */
  threads: number;
  /** The BLAS's own threads (OpenBLAS), or null where they are no separate knob. */
  blas_threads: number | null;
  /** What it reads as, e.g. "torch 1 × OpenBLAS 2", "wasm 1 × OpenBLAS 2". */
  label: string;
}

/** The comparison repeated within a smaller core budget (--thread-sweep): each side at its best within `cores`. */
export interface ThreadPoint {
  cores: number;
  tfjs_step_s: number;
  torch_step_s: number;
  ratio: number;
  tfjs_threads: ChosenThreads;
  torch_threads: ChosenThreads;
  released_step_s: number | null;
  released_threads: ChosenThreads | null;
}

/** The authors' released step beside ours (--released DIR). */
export interface ReleasedComparison {
  dir: string;
  /** The checkout's commit (git rev-parse HEAD), null where it is no git checkout. */
  commit: string | null;
  step_s: number;
  /** Ours ÷ the released step's time. */
  ratio: number;
  threads: ChosenThreads;
  sweep: SweepPoint[];
  matmul_share: number | null;
  max_rss_bytes: number | null;
}

export interface CompareOptions {
  steps: number;
  warmup: number;
  /** Timed and warm-up steps at each setting of the sweep that picks each side's best. */
  sweepSteps: number;
  sweepWarmup: number;
  /** The cores each side may keep busy (default: os.availableParallelism()). */
  cores?: number;
  /** Smaller (or larger) core budgets to repeat the comparison at (the scaling measurement). */
  sweep?: number[];
  python?: string;
  /** Recompute activations (the memory plan's choice for this configuration). */
  recompute?: boolean;
  /** Our backend and its wasm threads (fixed for the process; null for a backend other than wasm). */
  backend: string;
  wasmThreads: number | null;
  /** A checkout of github.com/mumumu-wss/CAMD: time its step too. */
  released?: string;
  /** Our preset's name (the released model function's name in its args). */
  preset: PresetName;
  /** Keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for the Python sides too (blas-env.ts; default: set aside). */
  keepOpenblasEnv?: boolean;
  /** What the bench set aside of this shell's OpenBLAS settings ("NAME=value"), for the record. */
  openblasEnvSetAside?: string[];
}

export interface TorchComparison {
  date: string;
  cpu_model: string;
  /** The core budget of the main comparison. */
  cores: number;
  tfjs_step_s: number;
  torch_step_s: number;
  ratio: number;
  gflop_per_step: number;
  tfjs_gflops: number;
  torch_gflops: number;
  tfjs_matmul_peak_gflops: number;
  torch_matmul_peak_gflops: number;
  torch_version: string;
  torch_blas: TorchBlas;
  /** Each side's fastest setting in the sweep, at which the alternating comparison ran. */
  tfjs_threads: ChosenThreads;
  torch_threads: ChosenThreads;
  steps: number;
  warmup: number;
  sweep_steps: number;
  sweep_warmup: number;
  /** Every setting tried, each side, with its median step time. */
  sweeps: { tfjs: SweepPoint[]; torch: SweepPoint[] };
  /** Share of the step's kernel time spent in matrix products, each side. */
  tfjs_matmul_share: number;
  /** Our step's costliest kernels (tf.profile at the kept setting), costliest first. */
  tfjs_kernels: KernelShare[];
  torch_matmul_share: number | null;
  /** The same comparison within other core budgets. */
  scaling: ThreadPoint[];
  released: ReleasedComparison | null;
  recompute: boolean;
  /** Peak resident set of each process (ours: the bench process, which ran only this configuration), and our wasm heap's high-water mark. */
  tfjs_max_rss_bytes: number;
  torch_max_rss_bytes: number | null;
  memory_ratio: number | null;
  tfjs_wasm_heap_bytes: number | null;
  /** Our OpenBLAS as loaded (its kernels and threads), and this shell's settings set aside for both sides. */
  openblas: { ours: string | null; env_set_aside: string[]; env_kept: boolean };
}

/** One side of the comparison: its settings, how to apply one, and one timed step. */
interface Side {
  name: string;
  settings: ThreadSetting[];
  apply(s: ThreadSetting): Promise<void>;
  /** One training step's seconds. */
  step(): Promise<number>;
  label(s: ThreadSetting): string;
  points: SweepPoint[];
}

function chosen(side: Side, p: ThreadSetting): ChosenThreads {
  return { threads: p.threads, blas_threads: p.blas, label: side.label(p) };
}

/**
 * Every setting of a side: `warmup` untimed steps, then `steps` timed; the medians. First the
 * process's own warm-up (`processWarmup` steps at the first setting), so that the first setting
 * does not pay for the first steps ever (allocation, kernel set-up).
 */
async function sweepSide(side: Side, processWarmup: number, warmup: number, steps: number): Promise<void> {
  await side.apply(side.settings[0]!);
  for (let i = 0; i < processWarmup; i++) await side.step();
  for (const s of side.settings) {
    await side.apply(s);
    const times: number[] = [];
    for (let i = 0; i < warmup + steps; i++) {
      const dt = await side.step();
      if (i >= warmup) times.push(dt);
    }
    const p = sweepPoint(s, side.label(s), times);
    side.points.push(p);
    process.stderr.write(
      `[compare-torch] sweep ${side.name} ${p.label}: ${p.step_s.toFixed(3)} s (median of ${steps})\n`,
    );
  }
}

/** The sides at the given settings, step by step in turn: warm-up + timed steps; each side's median. */
async function alternate(
  sides: { side: Side; at: ThreadSetting }[],
  warmup: number,
  steps: number,
  label: string,
): Promise<number[]> {
  for (const { side, at } of sides) await side.apply(at);
  const times: number[][] = sides.map(() => []);
  for (let i = 0; i < warmup + steps; i++) {
    const line: string[] = [];
    for (const [k, { side }] of sides.entries()) {
      const dt = await side.step();
      if (i >= warmup) times[k]!.push(dt);
      line.push(`${side.name} ${dt.toFixed(2)} s`);
    }
    process.stderr.write(
      `[compare-torch] ${label} step ${i + 1}/${warmup + steps}: ${line.join(', ')}${i < warmup ? ' (warm-up)' : ''}\n`,
    );
  }
  return times.map(median);
}

/** Our side: the trainer in this process; OpenBLAS's threads where the wasm rung calls the native matMul. */
function ourSide(o: CompareOptions, budget: number, trainer: CamdTrainer, b: CamdBatch): Side {
  const blas = o.backend === 'wasm' ? nativeBlas().blas : null;
  const settings =
    o.wasmThreads === null
      ? [{ threads: budget, blas: null, cores: budget }]
      : ourSettings(budget, o.wasmThreads, blas !== null);
  return {
    name: 'tfjs',
    settings,
    points: [],
    apply: async (s) => {
      // the native threads: OpenBLAS's, and the fused kernels' (camd_ops) alike
      if (blas && s.blas !== null) {
        blas.setThreads(s.blas);
        nativeOps().ops?.setThreads(s.blas);
      }
    },
    step: async () => {
      const t0 = performance.now();
      const m = await trainer.trainStep(b);
      if (!Number.isFinite(m.loss)) throw new Error('non-finite loss in our step');
      return (performance.now() - t0) / 1000;
    },
    label: (s) =>
      o.wasmThreads === null
        ? `${o.backend} (its own threads)`
        : `wasm ${s.threads}${s.blas === null ? ' (XNNPACK matMul)' : ` × native ${s.blas} (OpenBLAS, fused kernels)`}`,
  };
}

/** A PyTorch side: a step process; its settings from its BLAS (separate OpenBLAS threads or not). */
function referenceSide(name: string, ref: StepProcess, budget: number, rss: { max: number | null }): Side {
  return {
    name,
    settings: referenceSettings(budget, ref.blas.separate_threads),
    points: [],
    apply: (s) => ref.setThreads(s.threads, s.blas),
    step: async () => {
      const r = await ref.step();
      if (r.maxRss !== null) rss.max = r.maxRss;
      return r.seconds;
    },
    label: (s) =>
      s.blas === null
        ? `torch ${s.threads} (${ref.blas.name}${ref.blas.name === 'MKL' ? ' follows torch' : ''})`
        : `torch ${s.threads} × ${ref.blas.name} ${s.blas}`,
  };
}

function gitCommit(dir: string): string | null {
  const r = spawnSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Starts bench/released_camd_step.py on DIR at this configuration (the released flags of released-args.ts). */
function startReleased(
  python: string,
  dir: string,
  cfg: CamdConfig,
  batch: number,
  preset: PresetName,
  keepOpenblasEnv: boolean,
) {
  if (!existsSync(join(dir, 'models_CAMD.py')) || !existsSync(join(dir, 'CAMD_pretrain.py')))
    throw new Error(`--released ${dir}: no checkout of github.com/mumumu-wss/CAMD (models_CAMD.py, CAMD_pretrain.py)`);
  const m = cfg.model;
  const flags = releasedFlags(cfg, {
    preset,
    imgSize: m.imgSize,
    batchPerGpu: batch,
    gpus: 1,
    epochs: 1,
    warmupEpochs: 0,
    seed: 0,
  });
  const arg = {
    code: dir,
    shim: SHIM,
    argv: releasedArgv(flags),
    model: {
      imgSize: m.imgSize,
      patchSize: m.patchSize,
      embedDim: m.embedDim,
      depth: m.depth,
      numHeads: m.numHeads,
      decoderHeads: m.decoderHeads,
      mlpRatio: m.mlpRatio,
    },
    batch,
    maskCount: maskedCount(cfg.mask.ratio, gridOf(m).tokens),
  };
  return startStepProcess(python, RELEASED_SCRIPT, JSON.stringify(arg), 'released', keepOpenblasEnv);
}

/** The sides' fastest points within `budget`; null when a side has none that fits. */
function bestWithin(sides: Side[], budget: number): SweepPoint[] | null {
  const best = sides.map((s) => fastest(s.points, budget));
  return best.every((p) => p !== null) ? (best as SweepPoint[]) : null;
}

/** The scaling points: the comparison repeated with each side at its best within each budget. */
async function scalingPoints(sides: Side[], o: CompareOptions): Promise<ThreadPoint[]> {
  const out: ThreadPoint[] = [];
  for (const n of o.sweep ?? []) {
    const best = bestWithin(sides, n);
    if (!best) {
      process.stderr.write(`[compare-torch] ${n} cores: a side has no setting that fits; skipped\n`);
      continue;
    }
    const t = await alternate(
      sides.map((side, k) => ({ side, at: best[k]! })),
      o.warmup,
      o.steps,
      `${n} cores`,
    );
    out.push({
      cores: n,
      tfjs_step_s: t[0]!,
      torch_step_s: t[1]!,
      ratio: t[0]! / t[1]!,
      tfjs_threads: chosen(sides[0]!, best[0]!),
      torch_threads: chosen(sides[1]!, best[1]!),
      released_step_s: sides[2] ? t[2]! : null,
      released_threads: sides[2] ? chosen(sides[2], best[2]!) : null,
    });
  }
  return out;
}

export async function compareTorch(
  cfg: CamdConfig,
  batch: number,
  tfjsMatmulPeak: number,
  o: CompareOptions,
): Promise<TorchComparison> {
  const python = o.python ?? 'python3';
  const cores = o.cores ?? availableParallelism();
  const budget = Math.max(cores, ...(o.sweep ?? []));
  const { tokens } = gridOf(cfg.model);
  const model = { ...cfg.model, batch, maskCount: maskedCount(cfg.mask.ratio, tokens) };
  const refs: StepProcess[] = [];
  const blas = nativeBlas().blas;
  const blasBefore = blas?.threads() ?? null;
  const trainer = new CamdTrainer(
    cfg,
    0,
    { epochs: 100, itersPerEpoch: 100, batchSize: batch },
    { recompute: o.recompute ?? false },
  );
  const b = toDeviceBatch(syntheticHostBatch(cfg, batch, new Rng(0)));
  try {
    const keepEnv = o.keepOpenblasEnv ?? false;
    const ref = await startStepProcess(python, SCRIPT, JSON.stringify(model), 'PyTorch', keepEnv);
    refs.push(ref);
    const released = o.released
      ? await startReleased(python, resolve(o.released), cfg, batch, o.preset, keepEnv)
      : null;
    if (released) refs.push(released);
    const torchRss = { max: null as number | null };
    const releasedRss = { max: null as number | null };
    const sides = [
      ourSide(o, budget, trainer, b),
      referenceSide('PyTorch', ref, budget, torchRss),
      ...(released ? [referenceSide('released', released, budget, releasedRss)] : []),
    ];
    for (const side of sides) await sweepSide(side, o.warmup, o.sweepWarmup, o.sweepSteps);
    const best = bestWithin(sides, cores);
    if (!best)
      throw new Error(`a side has no thread setting within ${cores} cores (our wasm threads: ${o.wasmThreads})`);
    const at = sides.map((side, k) => ({ side, at: best[k]! }));
    const main = await alternate(at, o.warmup, o.steps, `${cores} cores, each side at its best`);
    // at the best settings still: the matMul peak, and each side's matMul share of a step
    const torchPeak = (await ref.ask('matmul 512'))['gflops'] as number;
    const prof = await stepProfile(async () => {
      await trainer.trainStep(b);
    });
    const torchShare = (await ref.ask('profile'))['matmul_share'];
    const releasedShare = released ? (await released.ask('profile'))['matmul_share'] : null;
    const scaling = await scalingPoints(sides, o);
    return comparison({
      main: { t: main[0]!, p: main[1]! },
      prof,
      torchShare,
      tfjsMatmulPeak,
      torchPeak,
      ref,
      torchRss: torchRss.max,
      o,
      cores,
      sides,
      best,
      scaling,
      released:
        released && o.released
          ? {
              dir: resolve(o.released),
              commit: gitCommit(resolve(o.released)),
              step_s: main[2]!,
              ratio: main[0]! / main[2]!,
              threads: chosen(sides[2]!, best[2]!),
              sweep: sides[2]!.points,
              matmul_share: typeof releasedShare === 'number' ? releasedShare : null,
              max_rss_bytes: releasedRss.max,
            }
          : null,
    });
  } finally {
    for (const r of refs) r.quit();
    if (blas && blasBefore !== null) {
      blas.setThreads(blasBefore);
      nativeOps().ops?.setThreads(blasBefore);
    }
    disposeBatch(b);
    trainer.dispose();
  }
}

/** The measurements as reported: times, ratios, GFLOP/s, matMul shares, settings, peak memory (ours read now, after the runs). */
function comparison(m: {
  main: { t: number; p: number };
  prof: StepProfile;
  torchShare: unknown;
  tfjsMatmulPeak: number;
  torchPeak: number;
  ref: StepProcess;
  torchRss: number | null;
  o: CompareOptions;
  cores: number;
  sides: Side[];
  best: SweepPoint[];
  scaling: ThreadPoint[];
  released: ReleasedComparison | null;
}): TorchComparison {
  const { main, prof, torchRss, o, sides, best } = m;
  const rss = process.resourceUsage().maxRSS * 1024;
  const heap =
    tf.getBackend() === 'wasm'
      ? (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length
      : null;
  return {
    date: new Date().toISOString(),
    cpu_model: cpuModel(),
    cores: m.cores,
    tfjs_step_s: main.t,
    torch_step_s: main.p,
    ratio: main.t / main.p,
    gflop_per_step: prof.flops / 1e9,
    tfjs_gflops: prof.flops / 1e9 / main.t,
    torch_gflops: prof.flops / 1e9 / main.p,
    tfjs_matmul_peak_gflops: m.tfjsMatmulPeak,
    torch_matmul_peak_gflops: m.torchPeak,
    torch_version: m.ref.torchVersion,
    torch_blas: m.ref.blas,
    tfjs_threads: chosen(sides[0]!, best[0]!),
    torch_threads: chosen(sides[1]!, best[1]!),
    steps: o.steps,
    warmup: o.warmup,
    sweep_steps: o.sweepSteps,
    sweep_warmup: o.sweepWarmup,
    sweeps: { tfjs: sides[0]!.points, torch: sides[1]!.points },
    tfjs_matmul_share: prof.matmulShare,
    tfjs_kernels: prof.kernels,
    torch_matmul_share: typeof m.torchShare === 'number' ? m.torchShare : null,
    scaling: m.scaling,
    released: m.released,
    recompute: o.recompute ?? false,
    tfjs_max_rss_bytes: rss,
    torch_max_rss_bytes: torchRss,
    memory_ratio: torchRss ? rss / torchRss : null,
    tfjs_wasm_heap_bytes: heap,
    openblas: {
      ours: nativeBlas().blas ? nativeBlas().reason : null,
      env_set_aside: o.openblasEnvSetAside ?? [],
      env_kept: o.keepOpenblasEnv ?? false,
    },
  };
}
