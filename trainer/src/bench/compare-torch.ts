/**
 * `npm run bench -- --compare-torch`: the same CAMD step in tfjs (this process) and in PyTorch
 * (bench/torch_camd_step.py, a child process), alternating step by step, with medians, the ratio
 * tfjs ÷ PyTorch, and GFLOP/s against each side's measured matMul peak.
 * PyTorch runs as Debian's python3-torch with OpenBLAS (torch threads 1, OpenBLAS threads 2).
 */
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gridOf, maskedCount, type CamdConfig } from '../model/config.js';
import { CamdTrainer } from '../train/step.js';
import { disposeBatch, syntheticHostBatch, toDeviceBatch } from '../train/synthetic.js';
import { Rng } from '../util/rng.js';
import { median } from '../util/stats.js';

const SCRIPT = fileURLToPath(new URL('../../../bench/torch_camd_step.py', import.meta.url));


/** Matmul FLOPs of one training step, from the kernels tfjs actually ran. */
async function stepFlops(run: () => Promise<void>): Promise<number> {
  const info = await tf.profile(run);
  let flops = 0;
  for (const k of info.kernels) {
    if (k.name !== 'BatchMatMul' && k.name !== '_FusedMatMul') continue;
    const a = k.inputShapes[0]!;
    const out = k.outputShapes[0]!;
    const M = out[out.length - 2]!;
    const K = a[a.length - 2] === M ? a[a.length - 1]! : a[a.length - 2]!;
    flops += 2 * out.reduce((x, y) => x * y, 1) * K;
  }
  return flops;
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
  /** Peak resident set of each process (ours: the bench process, which ran only this configuration), and our wasm heap's high-water mark. */
  tfjs_max_rss_bytes: number;
  torch_max_rss_bytes: number | null;
  memory_ratio: number | null;
  tfjs_wasm_heap_bytes: number | null;
}

export async function compareTorch(cfg: CamdConfig, batch: number, steps: number, warmup: number, tfjsMatmulPeak: number, python = '/usr/bin/python3'): Promise<TorchComparison> {
  if (!existsSync(python)) throw new Error(`${python} not found: --compare-torch needs Debian's python3 with python3-torch (apt-get install python3-torch libopenblas0-pthread)`);
  const { tokens } = gridOf(cfg.model);
  const m = { ...cfg.model, batch, maskCount: maskedCount(cfg.mask.ratio, tokens) };
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '2', OMP_NUM_THREADS: '1' };
  delete env['OPENBLAS_CORETYPE'];
  delete env['OPENBLAS_L2_SIZE'];
  const child = spawn(python, [SCRIPT, JSON.stringify(m)], { stdio: ['pipe', 'pipe', 'inherit'], env });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await lines.next();
    if (r.done) throw new Error('the PyTorch reference exited early (is python3-torch installed?)');
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  try {
    const ready = await next();
    child.stdin!.write('matmul 512\n');
    const torchPeak = (await next())['gflops'] as number;
    const trainer = new CamdTrainer(cfg, 0, { epochs: 100, itersPerEpoch: 100, batchSize: batch });
    const b = toDeviceBatch(syntheticHostBatch(cfg, batch, new Rng(0)));
    const tj: number[] = [];
    const pt: number[] = [];
    let torchRss: number | null = null;
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      await trainer.trainStep(b);
      const dt = (performance.now() - t0) / 1000;
      child.stdin!.write('step\n');
      const r = await next();
      if (typeof r['max_rss_bytes'] === 'number') torchRss = r['max_rss_bytes'];
      if (i >= warmup) {
        tj.push(dt);
        pt.push(r['seconds'] as number);
      }
      process.stderr.write(`[compare-torch] step ${i + 1}/${warmup + steps}: tfjs ${dt.toFixed(2)} s, PyTorch ${(r['seconds'] as number).toFixed(2)} s${i < warmup ? ' (warm-up)' : ''}\n`);
    }
    const flops = await stepFlops(async () => {
      await trainer.trainStep(b);
    });
    disposeBatch(b);
    trainer.dispose();
    const t = median(tj);
    const p = median(pt);
    const rss = process.resourceUsage().maxRSS * 1024;
    const heap = tf.getBackend() === 'wasm' ? (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length : null;
    return {
      tfjs_max_rss_bytes: rss,
      torch_max_rss_bytes: torchRss,
      memory_ratio: torchRss ? rss / torchRss : null,
      tfjs_wasm_heap_bytes: heap,
      tfjs_step_s: t,
      torch_step_s: p,
      ratio: t / p,
      gflop_per_step: flops / 1e9,
      tfjs_gflops: flops / 1e9 / t,
      torch_gflops: flops / 1e9 / p,
      tfjs_matmul_peak_gflops: tfjsMatmulPeak,
      torch_matmul_peak_gflops: torchPeak,
      torch_version: String(ready['torch']),
      steps,
    };
  } finally {
    child.stdin!.end('quit\n');
  }
}
