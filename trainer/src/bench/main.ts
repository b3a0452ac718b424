/**
 * `npm run bench`: times a full CAMD training step (EMA, teacher forward, student forward,
 * losses, backward, clipping, AdamW) on every available backend, plus the GFLOP/s of a
 * 512³ matMul, and writes bench/results.json. A benchmark, never a test.
 *
 *   npm run bench -- [--backends wasm,cpu] [--preset tiny] [--img-size 112] [--batch 16]
 *                    [--steps 5] [--warmup 2] [--out bench/results.json]
 *                    [--wasm-threads N|auto] [--keep-openblas-env]
 *                    [--compare-torch [--cores N] [--sweep-steps 3] [--sweep-warmup 1]
 *                                     [--thread-sweep 1,2,4] [--python PATH] [--released DIR]]
 *
 * With --compare-torch, bench/results.json gains `compare_torch` (compare-torch.ts's
 * TorchComparison; docs/performance.md describes its fields).
 */
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { probeAll, selectBackend, BACKEND_NAMES, type BackendName, type BackendOptions } from '../backends/ladder.js';
import { parseThreads } from '../cli/parse.js';
import { cpuModel } from './machine-info.js';
import { PRESET_NAMES, presetConfig, type CamdConfig, type PresetName } from '../model/config.js';
import type { CamdBatch } from '../model/camd.js';
import { CamdTrainer } from '../train/step.js';
import { disposeBatch, syntheticHostBatch, toDeviceBatch, type HostBatch } from '../train/synthetic.js';
import { Rng } from '../util/rng.js';
import { median } from '../util/stats.js';
import { benchPipeline } from './pipeline.js';
import { compareTorch, type TorchComparison } from './compare-torch.js';
import {
  planWasmPretrain,
  RECOMPUTE_MODES,
  wasmMemoryProblem,
  type MemoryEstimate,
  type RecomputeMode,
} from '../model/memory.js';
import { hostStateKernels } from '../ops/host-state.js';
import { printSummary } from './summary.js';
import { setAsideKernelChoice } from './blas-env.js';

interface Options {
  faces?: string;
  onnx?: string;
  backends?: string;
  preset: string;
  imgSize: string;
  batch: string;
  steps: string;
  warmup: string;
  out: string;
  matmul: string;
  data?: string;
  pipelineBatches: string;
  compareTorch?: boolean;
  cores?: string;
  threads?: string;
  threadSweep?: string;
  sweepSteps: string;
  sweepWarmup: string;
  python?: string;
  released?: string;
  wasmThreads?: string;
  recompute: string;
  keepOpenblasEnv?: boolean;
}

async function matmulGflops(n: number, reps: number): Promise<number> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  tf.matMul(a, b).dispose(); // warm-up (and XNNPACK weight packing)
  // median over rounds of `reps` back-to-back products, one read-back per round (GPU backends queue work)
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    let c: tf.Tensor | null = null;
    for (let i = 0; i < reps; i++) {
      c?.dispose();
      c = tf.matMul(a, b);
    }
    await c!.data(); // asynchronous: the only read-back webgpu allows in Node
    times.push((performance.now() - t0) / reps);
    c!.dispose();
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / (median(times) / 1e3) / 1e9;
}

function parseCommandLine(): { program: Command; o: Options } {
  const program = new Command()
    .name('camd-bench')
    .option(
      '--backends <list>',
      `comma-separated subset of ${BACKEND_NAMES.join(',')} (default: every available backend)`,
    )
    .option('--preset <name>', `model preset (${PRESET_NAMES.join('|')})`, 'tiny')
    .option('--img-size <px>', 'input size', '112')
    .option('--batch <n>', 'batch size', '16')
    .option('--steps <n>', 'timed steps per backend (median reported)', '5')
    .option('--warmup <n>', 'untimed steps first', '2')
    .option('--matmul <n>', 'side of the square matMul whose GFLOP/s is reported', '512')
    .option('--out <file>', 'where to write the JSON results', 'bench/results.json')
    .option('--data <dir>', 'real images for the data-pipeline measurement (default: generated JPEGs)')
    .option('--pipeline-batches <n>', 'batches timed for the data pipeline', '20')
    .option(
      '--compare-torch',
      'also run the same step in PyTorch (bench/torch_camd_step.py), alternating, and report the ratio',
    )
    .option(
      '--cores <n>',
      'cores each side of the PyTorch comparison may keep busy: every thread setting within them is tried, the fastest compared (default: every core)',
    )
    .option('--threads <n>', 'the older name of --cores')
    .option('--sweep-steps <n>', 'timed steps at each thread setting tried (median)', '3')
    .option('--sweep-warmup <n>', 'untimed steps at each thread setting tried, first', '1')
    .option(
      '--thread-sweep <list>',
      'repeat the PyTorch comparison within these core budgets, each side at its best within each, e.g. 1,2,4,8',
    )
    .option('--python <path>', 'Python with PyTorch for --compare-torch', 'python3')
    .option(
      '--released <dir>',
      "with --compare-torch: also time the authors' released step, imported from this checkout of github.com/mumumu-wss/CAMD (a local check; its code is not part of this project)",
    )
    .option(
      '--wasm-threads <n>',
      "wasm threads of this process, fixed at start (default: 1 beside the native OpenBLAS matMul, else one per core; 'auto': one per core)",
    )
    .option(
      '--onnx <checkpoint>',
      'instead: the model exported to ONNX, its time per face in ONNX Runtime against ours, at batch 1 and 32 (writes bench/onnx.json unless --out)',
    )
    .option(
      '--faces <dir>',
      'instead: faces found and aligned per second over the photos of this folder (writes bench/faces.json unless --out)',
    )
    .option(
      '--keep-openblas-env',
      "keep this shell's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, for both sides (default: set aside for both, so each runs OpenBLAS's own kernel choice)",
    )
    .option(
      '--recompute <mode>',
      'recompute activations in the backward pass: auto (when the step would not fit the wasm heap otherwise), on, off',
      'auto',
    )
    .parse(process.argv);
  return { program, o: program.opts<Options>() };
}

/** The step measured: model, input size, batch, steps, and whether to recompute activations. */
interface BenchSettings {
  preset: PresetName;
  imgSize: number;
  batch: number;
  steps: number;
  warmup: number;
  cfg: CamdConfig;
  recomputeMode: RecomputeMode;
  /** The wasm threads asked for (--wasm-threads), else the ladder's default. */
  backendOpts: BackendOptions;
}

/** A flag's positive whole number, or a plain error naming it. */
function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 1)
    throw new Error(`${flag} must be a positive integer, got '${v}'`);
  return n;
}

function benchSettings(o: Options): BenchSettings {
  if (!(PRESET_NAMES as readonly string[]).includes(o.preset)) throw new Error(`unknown preset ${o.preset}`);
  const preset = o.preset as PresetName;
  const imgSize = Number(o.imgSize);
  const batch = Number(o.batch);
  const steps = Number(o.steps);
  const warmup = Number(o.warmup);
  const cfg = presetConfig(preset, { imgSize });
  if (!(RECOMPUTE_MODES as readonly string[]).includes(o.recompute))
    throw new Error(`--recompute must be ${RECOMPUTE_MODES.join(', ')}`);
  const backendOpts: BackendOptions = o.wasmThreads ? { wasmThreads: parseThreads(o.wasmThreads) } : {};
  return { preset, imgSize, batch, steps, warmup, cfg, recomputeMode: o.recompute as RecomputeMode, backendOpts };
}

/** The backends asked for (each must be available), else every available one; with --compare-torch only the first. */
async function wantedBackends(o: Options, s: BenchSettings): Promise<BackendName[]> {
  const { reports } = await probeAll(s.backendOpts);
  const available = BACKEND_NAMES.filter((n) => reports.some((r) => r.backend === n && r.loaded));
  const wanted = o.backends
    ? (o.backends.split(',').map((s) => s.trim()) as BackendName[])
    : o.compareTorch
      ? available.slice(0, 1)
      : available;
  for (const w of wanted)
    if (!available.includes(w)) throw new Error(`backend ${w} is not available here (see \`npm run camd -- info\`)`);
  return wanted;
}

/** One backend measured: its result, its row of the table (when its step was timed) and whether it recomputed activations (unless skipped). */
interface BackendRun {
  result: Record<string, unknown>;
  row?: string[];
  recompute?: boolean;
}

/** `warmup` + `steps` training steps on `backend`, each printed; the times of the timed ones. */
async function timeSteps(trainer: CamdTrainer, b: CamdBatch, backend: string, s: BenchSettings): Promise<number[]> {
  const { warmup, steps } = s;
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    const m = await trainer.trainStep(b);
    const dt = performance.now() - t0;
    if (!Number.isFinite(m.loss)) throw new Error(`non-finite loss on ${backend} at step ${i}`);
    if (i >= warmup) times.push(dt);
    process.stderr.write(
      `[bench] ${backend} step ${i + 1}/${warmup + steps}: ${(dt / 1000).toFixed(2)} s${i < warmup ? ' (warm-up)' : ''}\n`,
    );
  }
  return times;
}

/** A timed backend's result: step times, throughput, memory (tensors, GPU, process, wasm heap). */
function stepResult(
  backend: BackendName,
  m: { batch: number; times: number[]; gflops: number; plan: MemoryEstimate | null; recompute: boolean },
  trainer: CamdTrainer,
): Record<string, unknown> {
  const { batch, times, plan } = m;
  const mem = tf.memory();
  const stepMs = median(times);
  return {
    step_ms_median: stepMs,
    step_ms: times,
    images_per_s: (batch * 1000) / stepMs,
    matmul_gflops: m.gflops,
    tensor_bytes: mem.numBytes,
    // webgpu: bytes of live tensors on the GPU and bytes its buffer pool holds (tf.memory())
    gpu_bytes_in_use: (mem as { numBytesInGPU?: number }).numBytesInGPU ?? null,
    gpu_bytes_allocated: (mem as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU ?? null,
    rss_bytes: process.memoryUsage().rss,
    // the process's peak resident set so far, and the wasm heap's size: it never shrinks, so it is the step's high-water mark
    max_rss_bytes: process.resourceUsage().maxRSS * 1024,
    wasm_heap_bytes:
      backend === 'wasm' ? (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length : null,
    wasm_heap_estimate_bytes: plan ? plan.totalBytes : null,
    recompute: m.recompute,
    host_state: hostStateKernels() !== null,
    params_online: trainer.model.params.count('online'),
  };
}

/** One backend: skipped when the step does not fit the wasm heap; else its matMul, then its step timed (unless PyTorch's comparison times it). */
async function benchBackend(backend: BackendName, s: BenchSettings, o: Options, host: HostBatch): Promise<BackendRun> {
  const { cfg, batch, recomputeMode } = s;
  if (backend === 'wasm') {
    const tooBig = wasmMemoryProblem(cfg, batch, recomputeMode);
    if (tooBig) {
      process.stderr.write(`[bench] wasm: skipped: ${tooBig}\n`);
      return { result: { skipped: tooBig, estimate_bytes: planWasmPretrain(cfg, batch, recomputeMode).totalBytes } };
    }
  }
  await selectBackend(backend, s.backendOpts);
  const plan = backend === 'wasm' ? planWasmPretrain(cfg, batch, recomputeMode, hostStateKernels() !== null) : null;
  const recompute = plan ? plan.recompute : recomputeMode === 'on';
  process.stderr.write(
    `[bench] ${backend}: ${s.preset}/${s.imgSize} batch ${batch}, ${s.warmup} warm-up + ${s.steps} timed steps\n`,
  );
  const gflops = await matmulGflops(Number(o.matmul), backend === 'cpu' ? 1 : 10);
  if (o.compareTorch) {
    // the comparison times this backend's step itself, alternating with PyTorch, in this process:
    // one model in memory, so the peak resident set it reports is the step's
    const result = {
      matmul_gflops: gflops,
      recompute,
      host_state: hostStateKernels() !== null,
      wasm_heap_estimate_bytes: plan ? plan.totalBytes : null,
    };
    return { result, recompute };
  }
  const trainer = new CamdTrainer(cfg, 0, { epochs: 100, itersPerEpoch: 100, batchSize: batch }, { recompute });
  const b = toDeviceBatch(host);
  const times = await timeSteps(trainer, b, backend, s);
  const result = stepResult(backend, { batch, times, gflops, plan, recompute }, trainer);
  const stepMs = result['step_ms_median'] as number;
  const row = [backend, (stepMs / 1000).toFixed(3), ((batch * 1000) / stepMs).toFixed(2), gflops.toFixed(1)];
  disposeBatch(b);
  trainer.dispose();
  return { result, row, recompute };
}

/** With --compare-torch: PyTorch against the first backend, whose result and row then take the comparison's numbers. */
async function benchTorch(
  o: Options,
  s: BenchSettings,
  first: BackendName,
  m: { results: Record<string, unknown>; rows: string[][]; recompute: boolean },
  setAside: string[],
): Promise<TorchComparison> {
  const { batch } = s;
  const sel = await selectBackend(first, s.backendOpts);
  const peak = (m.results[first] as { matmul_gflops: number }).matmul_gflops;
  const sweep = o.threadSweep ? o.threadSweep.split(',').map((v) => positiveInt('--thread-sweep', v.trim())) : [];
  const cores = o.cores ?? o.threads;
  const wasmThreads = sel.reports.find((r) => r.backend === 'wasm' && r.loaded)?.details['threads'];
  const torch = await compareTorch(s.cfg, batch, peak, {
    steps: s.steps,
    warmup: s.warmup,
    sweepSteps: positiveInt('--sweep-steps', o.sweepSteps),
    sweepWarmup: Number(o.sweepWarmup),
    cores: cores !== undefined ? positiveInt('--cores', cores) : undefined,
    sweep,
    python: o.python,
    recompute: m.recompute,
    backend: first,
    wasmThreads: first === 'wasm' && typeof wasmThreads === 'number' ? wasmThreads : null,
    released: o.released,
    preset: s.preset,
    keepOpenblasEnv: o.keepOpenblasEnv ?? false,
    openblasEnvSetAside: setAside,
  });
  const r = m.results[first] as Record<string, unknown>;
  Object.assign(r, {
    step_ms_median: torch.tfjs_step_s * 1000,
    images_per_s: batch / torch.tfjs_step_s,
    max_rss_bytes: torch.tfjs_max_rss_bytes,
    wasm_heap_bytes: torch.tfjs_wasm_heap_bytes,
  });
  m.rows.push([
    first,
    torch.tfjs_step_s.toFixed(3),
    (batch / torch.tfjs_step_s).toFixed(2),
    (r['matmul_gflops'] as number).toFixed(1),
  ]);
  return torch;
}

async function main(): Promise<void> {
  const { program, o } = parseCommandLine();
  if (o.onnx) {
    const { benchOnnx } = await import('./onnx.js');
    await benchOnnx(resolve(o.onnx), program.getOptionValueSource('out') === 'default' ? 'bench/onnx.json' : o.out);
    return;
  }
  if (o.faces) {
    const { benchFaces } = await import('./faces.js');
    await benchFaces(resolve(o.faces), program.getOptionValueSource('out') === 'default' ? 'bench/faces.json' : o.out);
    return;
  }
  const s = benchSettings(o);
  const { preset, imgSize, batch, steps, warmup, cfg } = s;
  // before OpenBLAS loads (the first backend probe): both sides choose their kernels alike
  const setAside = setAsideKernelChoice(process.env, o.keepOpenblasEnv ?? false);
  if (setAside.length)
    process.stderr.write(
      `[bench] ${setAside.join(' ')} set aside: ours and PyTorch run OpenBLAS's own kernel choice (--keep-openblas-env keeps it for both)\n`,
    );
  let recompute = s.recomputeMode === 'on';
  if (o.released && !o.compareTorch) throw new Error('--released goes with --compare-torch');
  positiveInt('--sweep-steps', o.sweepSteps);
  if (!Number.isInteger(Number(o.sweepWarmup)) || Number(o.sweepWarmup) < 0)
    throw new Error(`--sweep-warmup must be a whole number, got '${o.sweepWarmup}'`);
  const wanted = await wantedBackends(o, s);

  const host = syntheticHostBatch(cfg, batch, new Rng(0));
  const results: Record<string, unknown> = {};
  const rows: string[][] = [];
  for (const backend of wanted) {
    const r = await benchBackend(backend, s, o, host);
    results[backend] = r.result;
    if (r.row) rows.push(r.row);
    if (r.recompute !== undefined) recompute = r.recompute;
  }

  let torch: TorchComparison | null = null;
  if (o.compareTorch && (results[wanted[0]!] as { skipped?: string }).skipped)
    process.stderr.write(`[bench] the PyTorch comparison needs the ${wanted[0]} step, which was skipped\n`);
  else if (o.compareTorch) torch = await benchTorch(o, s, wanted[0]!, { results, rows, recompute }, setAside);
  process.stderr.write(`[bench] data pipeline: ${o.pipelineBatches} batches of ${batch}\n`);
  const pipeline = await benchPipeline(cfg, batch, Number(o.pipelineBatches), o.data);
  const fastest =
    Math.max(0, ...Object.values(results).map((r) => (r as { images_per_s?: number }).images_per_s ?? 0)) || null;
  const out = {
    kind: 'camd-train-step',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu_model: cpuModel(),
      memory_bytes: totalmem(),
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      tfjs: tf.version_core,
    },
    config: { preset, img_size: imgSize, batch, mask_ratio: cfg.mask.ratio, steps, warmup, matmul_n: Number(o.matmul) },
    results,
    pipeline: { ...pipeline, ratio_to_fastest_trainer: fastest ? pipeline.images_per_s / fastest : null },
    ...(torch ? { ratio: torch.ratio, compare_torch: torch } : {}),
  };
  const file = resolve(o.out);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  printSummary({
    preset,
    imgSize,
    batch,
    maskRatio: cfg.mask.ratio,
    matmul: o.matmul,
    rows,
    results,
    pipeline,
    fastest,
    torch,
    torchBackend: wanted[0]!,
    file,
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
