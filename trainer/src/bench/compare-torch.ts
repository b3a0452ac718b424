/**
 * `npm run bench -- --compare-torch`: the same CAMD step in tfjs (this process) and in PyTorch
 * (bench/torch_camd_step.py, a child process), alternating step by step, with medians, the ratio
 * tfjs ÷ PyTorch, GFLOP/s against each side's measured matMul peak and each side's share of the
 * step spent in matrix products. Both sides use the same number of threads (all cores unless told):
 * ours through OpenBLAS's thread count, PyTorch's through torch.set_num_threads (and OpenBLAS's,
 * for Debian's python3-torch, which calls OpenBLAS). A thread sweep repeats the comparison at each
 * given count.
 */
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { gridOf, maskedCount, type CamdConfig } from '../model/config.js';
import type { CamdBatch } from '../model/camd.js';
import { CamdTrainer } from '../train/step.js';
import { disposeBatch, syntheticHostBatch, toDeviceBatch } from '../train/synthetic.js';
import { Rng } from '../util/rng.js';
import { nativeBlas } from '../backends/native.js';
import { median } from '../util/stats.js';

const SCRIPT = fileURLToPath(new URL('../../../bench/torch_camd_step.py', import.meta.url));

/**
 * Matmul FLOPs of one training step, from the kernels tfjs actually ran, and the share of the
 * step's kernel time spent in them (wasm kernels run synchronously, so their times are real).
 */
async function stepProfile(run: () => Promise<void>): Promise<{ flops: number; matmulShare: number }> {
  const info = await tf.profile(run);
  let flops = 0;
  let matmulMs = 0;
  let allMs = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    allMs += ms;
    if (k.name !== 'BatchMatMul' && k.name !== '_FusedMatMul') continue;
    matmulMs += ms;
    const a = k.inputShapes[0]!;
    const out = k.outputShapes[0]!;
    const M = out[out.length - 2]!;
    const K = a[a.length - 2] === M ? a[a.length - 1]! : a[a.length - 2]!;
    flops += 2 * out.reduce((x, y) => x * y, 1) * K;
  }
  return { flops, matmulShare: allMs > 0 ? matmulMs / allMs : 0 };
}

export interface ThreadPoint {
  threads: number;
  tfjs_step_s: number;
  torch_step_s: number;
  ratio: number;
}

export interface CompareOptions {
  steps: number;
  warmup: number;
  /** Threads on both sides for the main comparison (default: every core). */
  threads?: number;
  /** Further thread counts to repeat the comparison at (the scaling measurement). */
  sweep?: number[];
  python?: string;
  /** Recompute activations (the memory plan's choice for this configuration). */
  recompute?: boolean;
}

export interface TorchComparison {
  tfjs_step_s: number;
  torch_step_s: number;
  ratio: number;
  gflop_per_step: number;
  tfjs_gflops: number;
  torch_gflops: number;
  tfjs_matmul_peak_gflops: number;
  torch_matmul_peak_gflops: number;
  torch_version: string;
  steps: number;
  threads: number;
  /** Share of the step's kernel time spent in matrix products, each side. */
  tfjs_matmul_share: number;
  torch_matmul_share: number | null;
  /** The same comparison at other thread counts. */
  scaling: ThreadPoint[];
  recompute: boolean;
  /** Peak resident set of each process (ours: the bench process, which ran only this configuration), and our wasm heap's high-water mark. */
  tfjs_max_rss_bytes: number;
  torch_max_rss_bytes: number | null;
  memory_ratio: number | null;
  tfjs_wasm_heap_bytes: number | null;
}

/** The PyTorch reference: a child process that answers each command with one JSON line. */
interface TorchReference {
  /** The next line it answers. */
  next(): Promise<Record<string, unknown>>;
  /** Sends a command and reads its answer. */
  ask(command: string): Promise<Record<string, unknown>>;
  /** Both sides at `n` threads. */
  setThreads(n: number): Promise<void>;
  quit(): void;
}

/** Starts bench/torch_camd_step.py on the model and batch of this configuration. */
function startReference(python: string, cfg: CamdConfig, batch: number): TorchReference {
  const { tokens } = gridOf(cfg.model);
  const m = { ...cfg.model, batch, maskCount: maskedCount(cfg.mask.ratio, tokens) };
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['OPENBLAS_CORETYPE'];
  delete env['OPENBLAS_L2_SIZE'];
  const child = spawn(python, [SCRIPT, JSON.stringify(m)], { stdio: ['pipe', 'pipe', 'inherit'], env });
  const spawned = new Promise<never>((_, reject) =>
    child.on('error', (e) =>
      reject(
        new Error(
          `cannot run ${python}: ${e.message} (--compare-torch needs Python 3 with PyTorch: Debian python3-torch, or --python PATH)`,
        ),
      ),
    ),
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await Promise.race([lines.next(), spawned]);
    if (r.done) throw new Error(`the PyTorch reference exited early (does ${python} have torch?)`);
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  const ask = (command: string) => {
    child.stdin!.write(`${command}\n`);
    return next();
  };
  const blas = nativeBlas().blas;
  return {
    next,
    ask,
    setThreads: async (n: number) => {
      blas?.setThreads(n);
      await ask(`threads ${n}`);
    },
    quit: () => child.stdin!.end('quit\n'),
  };
}

/** One side-by-side measurement: our trainer and batch against the reference; the reference's peak memory as it reports it. */
interface Alternation {
  ref: TorchReference;
  trainer: CamdTrainer;
  b: CamdBatch;
  warmup: number;
  steps: number;
  torchRss: number | null;
}

/** warm-up + timed steps, alternating; medians of the timed ones */
async function alternate(a: Alternation, label: string): Promise<{ t: number; p: number }> {
  const tj: number[] = [];
  const pt: number[] = [];
  for (let i = 0; i < a.warmup + a.steps; i++) {
    const t0 = performance.now();
    await a.trainer.trainStep(a.b);
    const dt = (performance.now() - t0) / 1000;
    const r = await a.ref.ask('step');
    if (typeof r['max_rss_bytes'] === 'number') a.torchRss = r['max_rss_bytes'];
    if (i >= a.warmup) {
      tj.push(dt);
      pt.push(r['seconds'] as number);
    }
    process.stderr.write(
      `[compare-torch] ${label} step ${i + 1}/${a.warmup + a.steps}: tfjs ${dt.toFixed(2)} s, PyTorch ${(r['seconds'] as number).toFixed(2)} s${i < a.warmup ? ' (warm-up)' : ''}\n`,
    );
  }
  return { t: median(tj), p: median(pt) };
}

/** The measurements as reported: times, ratios, GFLOP/s, matMul shares, peak memory (ours read now, after the runs). */
function comparison(m: {
  main: { t: number; p: number };
  prof: { flops: number; matmulShare: number };
  torchShare: unknown;
  tfjsMatmulPeak: number;
  torchPeak: number;
  torchVersion: unknown;
  torchRss: number | null;
  steps: number;
  threads: number;
  scaling: ThreadPoint[];
  recompute: boolean;
}): TorchComparison {
  const { main, prof, torchRss } = m;
  const rss = process.resourceUsage().maxRSS * 1024;
  const heap =
    tf.getBackend() === 'wasm'
      ? (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length
      : null;
  return {
    tfjs_max_rss_bytes: rss,
    torch_max_rss_bytes: torchRss,
    memory_ratio: torchRss ? rss / torchRss : null,
    tfjs_wasm_heap_bytes: heap,
    tfjs_step_s: main.t,
    torch_step_s: main.p,
    ratio: main.t / main.p,
    gflop_per_step: prof.flops / 1e9,
    tfjs_gflops: prof.flops / 1e9 / main.t,
    torch_gflops: prof.flops / 1e9 / main.p,
    tfjs_matmul_peak_gflops: m.tfjsMatmulPeak,
    torch_matmul_peak_gflops: m.torchPeak,
    tfjs_matmul_share: prof.matmulShare,
    torch_matmul_share: typeof m.torchShare === 'number' ? m.torchShare : null,
    torch_version: String(m.torchVersion),
    steps: m.steps,
    threads: m.threads,
    scaling: m.scaling,
    recompute: m.recompute,
  };
}

export async function compareTorch(
  cfg: CamdConfig,
  batch: number,
  tfjsMatmulPeak: number,
  o: CompareOptions,
): Promise<TorchComparison> {
  const ref = startReference(o.python ?? 'python3', cfg, batch);
  try {
    const ready = await ref.next();
    const threads = o.threads ?? availableParallelism();
    await ref.setThreads(threads);
    const torchPeak = (await ref.ask('matmul 512'))['gflops'] as number;
    const trainer = new CamdTrainer(
      cfg,
      0,
      { epochs: 100, itersPerEpoch: 100, batchSize: batch },
      { recompute: o.recompute ?? false },
    );
    const b = toDeviceBatch(syntheticHostBatch(cfg, batch, new Rng(0)));
    const a: Alternation = { ref, trainer, b, warmup: o.warmup, steps: o.steps, torchRss: null };
    const main = await alternate(a, `${threads} threads`);
    const prof = await stepProfile(async () => {
      await trainer.trainStep(b);
    });
    const torchShare = (await ref.ask('profile'))['matmul_share'];
    const scaling: ThreadPoint[] = [];
    for (const n of o.sweep ?? []) {
      await ref.setThreads(n);
      const r = await alternate(a, `${n} threads`);
      scaling.push({ threads: n, tfjs_step_s: r.t, torch_step_s: r.p, ratio: r.t / r.p });
    }
    await ref.setThreads(threads);
    disposeBatch(b);
    trainer.dispose();
    return comparison({
      main,
      prof,
      torchShare,
      tfjsMatmulPeak,
      torchPeak,
      torchVersion: ready['torch'],
      torchRss: a.torchRss,
      steps: o.steps,
      threads,
      scaling,
      recompute: o.recompute ?? false,
    });
  } finally {
    ref.quit();
  }
}
