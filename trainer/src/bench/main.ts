/**
 * `npm run bench`: times a full CAMD training step (EMA, teacher forward, student forward,
 * losses, backward, clipping, AdamW) on every available backend, plus the GFLOP/s of a
 * 512³ matMul, and writes bench/results.json. A benchmark, never a test.
 *
 *   npm run bench -- [--backends wasm,cpu] [--preset tiny] [--img-size 112] [--batch 16]
 *                    [--steps 5] [--warmup 2] [--out bench/results.json]
 *                    [--compare-torch [--threads N] [--thread-sweep 1,2,4] [--python PATH]]
 */
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { probeAll, selectBackend, BACKEND_NAMES, type BackendName } from '../backends/ladder.js';
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

interface Options {
  faces?: string;
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
  threads?: string;
  threadSweep?: string;
  python?: string;
  recompute: string;
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
    .option('--threads <n>', 'threads on both sides of the PyTorch comparison (default: every core)')
    .option('--thread-sweep <list>', 'repeat the PyTorch comparison at these thread counts, e.g. 1,2,4,8')
    .option('--python <path>', 'Python with PyTorch for --compare-torch', 'python3')
    .option(
      '--faces <dir>',
      'instead: faces found and aligned per second over the photos of this folder (writes bench/faces.json unless --out)',
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
  return { preset, imgSize, batch, steps, warmup, cfg, recomputeMode: o.recompute as RecomputeMode };
}

/** The backends asked for (each must be available), else every available one; with --compare-torch only the first. */
async function wantedBackends(o: Options): Promise<BackendName[]> {
  const { reports } = await probeAll();
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
  await selectBackend(backend);
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
): Promise<TorchComparison> {
  const { batch } = s;
  await selectBackend(first);
  const peak = (m.results[first] as { matmul_gflops: number }).matmul_gflops;
  const list = (x: string | undefined) => (x ? x.split(',').map((v) => Number(v.trim())) : []);
  const sweep = list(o.threadSweep);
  if (sweep.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error('--thread-sweep takes positive integers, e.g. 1,2,4,8');
  const torch = await compareTorch(s.cfg, batch, peak, {
    steps: s.steps,
    warmup: s.warmup,
    threads: o.threads ? Number(o.threads) : undefined,
    sweep,
    python: o.python,
    recompute: m.recompute,
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
  if (o.faces) {
    const { benchFaces } = await import('./faces.js');
    await benchFaces(resolve(o.faces), program.getOptionValueSource('out') === 'default' ? 'bench/faces.json' : o.out);
    return;
  }
  const s = benchSettings(o);
  const { preset, imgSize, batch, steps, warmup, cfg } = s;
  let recompute = s.recomputeMode === 'on';
  const wanted = await wantedBackends(o);

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
  else if (o.compareTorch) torch = await benchTorch(o, s, wanted[0]!, { results, rows, recompute });
  process.stderr.write(`[bench] data pipeline: ${o.pipelineBatches} batches of ${batch}\n`);
  const pipeline = await benchPipeline(cfg, batch, Number(o.pipelineBatches), o.data);
  const fastest =
    Math.max(0, ...Object.values(results).map((r) => (r as { images_per_s?: number }).images_per_s ?? 0)) || null;
  const out = {
    kind: 'camd-train-step',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? 'unknown',
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
