/**
 * What `npm run bench` prints when it is done (main.ts): the table of backends, the data
 * pipeline against the fastest trainer, the backends skipped, and the PyTorch comparison.
 */
import { cpus } from 'node:os';
import type { TorchComparison } from './compare-torch.js';
import type { SweepPoint } from './thread-plan.js';

/** Columns padded to their widest cell, two spaces apart. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd()).join('\n');
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** Every setting a side tried, with its median: "wasm 1 × OpenBLAS 1 0.612 s, …". */
function tried(points: SweepPoint[]): string {
  return points.map((p) => `${p.label} ${p.step_s.toFixed(3)} s`).join(', ');
}

/**
 * The same step in PyTorch (and the released code), each side at its best thread setting: the
 * table of best settings and times, every setting tried, GFLOP/s, matMul shares, scaling, memory.
 */
function torchSummary(torch: TorchComparison, backend: string): string {
  const rel = torch.released;
  const rows = [
    ['side', 'best thread setting', 'step (s, median)', 'tfjs ÷ side'],
    [`tfjs ${backend}`, torch.tfjs_threads.label, torch.tfjs_step_s.toFixed(3), '1.00'],
    [
      `PyTorch ${torch.torch_version}`,
      torch.torch_threads.label,
      torch.torch_step_s.toFixed(3),
      torch.ratio.toFixed(2),
    ],
    ...(rel ? [['released CAMD', rel.threads.label, rel.step_s.toFixed(3), rel.ratio.toFixed(2)]] : []),
  ];
  return (
    `same step in PyTorch ${torch.torch_version} (${torch.torch_blas.name}${torch.torch_blas.separate_threads ? ', its threads set apart' : ''})${rel ? " and in the authors' released code" : ''}, on ${torch.cores} cores of ${torch.cpu_model}, each side at its fastest thread setting (each setting: ${torch.sweep_warmup} warm-up + ${torch.sweep_steps} timed step${torch.sweep_steps === 1 ? '' : 's'}), then alternating, median of ${torch.steps}${torch.recompute ? ' (ours with activations recomputed)' : ''}:\n` +
    `${table(rows)}\n` +
    `  tried: tfjs ${tried(torch.sweeps.tfjs)}\n` +
    `         PyTorch ${tried(torch.sweeps.torch)}\n` +
    (rel ? `         released ${tried(rel.sweep)}\n` : '') +
    `  ${torch.gflop_per_step.toFixed(1)} GFLOP of matMul per step: tfjs ${torch.tfjs_gflops.toFixed(1)} GFLOP/s (matMul peak ${torch.tfjs_matmul_peak_gflops.toFixed(1)}), PyTorch ${torch.torch_gflops.toFixed(1)} GFLOP/s (matMul peak ${torch.torch_matmul_peak_gflops.toFixed(1)})\n` +
    `  matMul share of the step: tfjs ${(100 * torch.tfjs_matmul_share).toFixed(0)} %, PyTorch ${torch.torch_matmul_share === null ? 'not reported' : `${(100 * torch.torch_matmul_share).toFixed(0)} %`}${rel?.matmul_share != null ? `, released ${(100 * rel.matmul_share).toFixed(0)} %` : ''}\n` +
    `  OpenBLAS: ours ${torch.openblas.ours ?? 'not loaded'}; ${torch.openblas.env_kept ? "this shell's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE kept for both sides" : torch.openblas.env_set_aside.length ? `${torch.openblas.env_set_aside.join(' ')} set aside for both sides (each runs OpenBLAS's own kernel choice; --keep-openblas-env keeps it)` : "each side runs OpenBLAS's own kernel choice"}\n` +
    `  our costliest kernels: ${torch.tfjs_kernels.map((k) => `${k.name} ${(100 * k.share).toFixed(1)} %`).join(', ')}\n` +
    torch.scaling
      .map(
        (p) =>
          `  within ${String(p.cores).padStart(2)} cores: tfjs ${p.tfjs_step_s.toFixed(3)} s (${p.tfjs_threads.label}), PyTorch ${p.torch_step_s.toFixed(3)} s (${p.torch_threads.label}), ratio ${p.ratio.toFixed(2)}${p.released_step_s !== null ? `; released ${p.released_step_s.toFixed(3)} s (${p.released_threads!.label})` : ''}\n`,
      )
      .join('') +
    `  peak resident memory: tfjs ${mib(torch.tfjs_max_rss_bytes)}${torch.tfjs_wasm_heap_bytes ? ` (wasm heap ${mib(torch.tfjs_wasm_heap_bytes)})` : ''}, PyTorch ${torch.torch_max_rss_bytes ? `${mib(torch.torch_max_rss_bytes)}, ratio ${torch.memory_ratio!.toFixed(2)}` : 'not reported'}${rel?.max_rss_bytes ? `, released ${mib(rel.max_rss_bytes)}` : ''}\n`
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
