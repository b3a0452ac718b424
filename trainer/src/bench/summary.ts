/**
 * What `npm run bench` prints when it is done (main.ts): the table of backends, the data
 * pipeline against the fastest trainer, the backends skipped, and the PyTorch comparison.
 */
import { cpus } from 'node:os';
import type { TorchComparison } from './compare-torch.js';

/** The same step in PyTorch, alternating with ours on `backend`: times, GFLOP/s, matMul shares, scaling, memory. */
function torchSummary(torch: TorchComparison, backend: string): string {
  return (
    `same step in PyTorch ${torch.torch_version}, ${torch.threads} threads each side, alternating, median of ${torch.steps}${torch.recompute ? ' (ours with activations recomputed)' : ''}:\n` +
    `  tfjs ${backend} ${torch.tfjs_step_s.toFixed(3)} s, PyTorch ${torch.torch_step_s.toFixed(3)} s, ratio ${torch.ratio.toFixed(2)}\n` +
    `  ${torch.gflop_per_step.toFixed(1)} GFLOP of matMul per step: tfjs ${torch.tfjs_gflops.toFixed(1)} GFLOP/s (matMul peak ${torch.tfjs_matmul_peak_gflops.toFixed(1)}), PyTorch ${torch.torch_gflops.toFixed(1)} GFLOP/s (matMul peak ${torch.torch_matmul_peak_gflops.toFixed(1)})\n` +
    `  matMul share of the step: tfjs ${(100 * torch.tfjs_matmul_share).toFixed(0)} %, PyTorch ${torch.torch_matmul_share === null ? 'not reported' : `${(100 * torch.torch_matmul_share).toFixed(0)} %`}\n` +
    torch.scaling
      .map(
        (p) =>
          `  ${String(p.threads).padStart(2)} threads: tfjs ${p.tfjs_step_s.toFixed(3)} s, PyTorch ${p.torch_step_s.toFixed(3)} s, ratio ${p.ratio.toFixed(2)}\n`,
      )
      .join('') +
    `  peak resident memory: tfjs ${(torch.tfjs_max_rss_bytes / 2 ** 20).toFixed(0)} MiB${torch.tfjs_wasm_heap_bytes ? ` (wasm heap ${(torch.tfjs_wasm_heap_bytes / 2 ** 20).toFixed(0)} MiB)` : ''}, PyTorch ${torch.torch_max_rss_bytes ? `${(torch.torch_max_rss_bytes / 2 ** 20).toFixed(0)} MiB, ratio ${torch.memory_ratio!.toFixed(2)}` : 'not reported'}\n`
  );
}

export interface BenchSummary {
  preset: string;
  imgSize: number;
  batch: number;
  maskRatio: number;
  /** Side of the square matMul timed, as given. */
  matmul: string;
  /** One row per backend timed: backend, step (s), images/s, matMul GFLOP/s. */
  rows: string[][];
  results: Record<string, unknown>;
  pipeline: { images_per_s: number; source: string };
  /** Images a second of the fastest trainer (null if none ran). */
  fastest: number | null;
  torch: TorchComparison | null;
  /** The backend compared with PyTorch. */
  torchBackend: string;
  file: string;
}

export function printSummary(r: BenchSummary): void {
  const { rows, pipeline, fastest, torch } = r;
  const header = ['backend', 'step (s, median)', 'images/s', `matMul ${r.matmul}³ GFLOP/s`];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  process.stdout.write(
    `CAMD training step, ${r.preset}/${r.imgSize}, batch ${r.batch}, mask ratio ${r.maskRatio.toFixed(3)} (${cpus().length} CPU cores)\n`,
  );
  process.stdout.write(`${[fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n')}\n`);
  process.stdout.write(
    `data pipeline (cache → two views → masks): ${pipeline.images_per_s.toFixed(1)} images/s${fastest ? `, ${(pipeline.images_per_s / fastest).toFixed(1)}× the fastest trainer above` : ''} (${pipeline.source})\n`,
  );
  for (const [k, v] of Object.entries(r.results))
    if ((v as { skipped?: string }).skipped)
      process.stdout.write(`${k}: skipped: ${(v as { skipped: string }).skipped}\n`);
  if (torch) process.stdout.write(torchSummary(torch, r.torchBackend));
  process.stdout.write(`wrote ${r.file}\n`);
}
