/**
 * What a benchmark result says about the machine and the PyTorch it ran against: the CPU's model
 * (from /proc/cpuinfo, else what Node reports) and which BLAS PyTorch calls, read from
 * `torch.__config__.show()` and the BLAS libraries mapped into its process, and whether that BLAS
 * has a thread count of its own (OpenBLAS: `openblas_set_num_threads`) or follows torch's (MKL).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** The CPU model named by /proc/cpuinfo text ("model name", or "Hardware"/"Processor" on ARM), else `fallback`. */
export function cpuModelOf(cpuinfo: string | null, fallback: string): string {
  for (const key of ['model name', 'Hardware', 'Processor', 'cpu model']) {
    const m = new RegExp(`^${key}\\s*:\\s*(.+)$`, 'm').exec(cpuinfo ?? '');
    if (m && m[1]!.trim() && !/^\d+$/.test(m[1]!.trim())) return m[1]!.trim();
  }
  return fallback;
}

/** This machine's CPU model. */
export function cpuModel(): string {
  let info: string | null = null;
  try {
    info = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    info = null;
  }
  return cpuModelOf(info, cpus()[0]?.model ?? 'unknown');
}

/** What the reference process says about its BLAS when it is ready (bench/step_protocol.py). */
export interface TorchBlasReport {
  config: string;
  blas_libs: string[];
  /** The library whose openblas_set_num_threads it found, or null. */
  openblas: string | null;
}

export interface TorchBlas {
  /** OpenBLAS, MKL, BLIS, … or what the build's BLAS_INFO says. */
  name: string;
  /** BLAS_INFO of torch's build settings (generic: the system's libblas, whatever provides it). */
  blas_info: string | null;
  libraries: string[];
  /** Whether the BLAS's thread count is set apart from torch.set_num_threads. */
  separate_threads: boolean;
}

const BY_LIBRARY: [RegExp, string][] = [
  [/openblas/i, 'OpenBLAS'],
  [/mkl/i, 'MKL'],
  [/blis/i, 'BLIS'],
  [/accelerate|veclib/i, 'Accelerate'],
];

export function describeTorchBlas(r: TorchBlasReport): TorchBlas {
  const info = /BLAS_INFO=([^,\s]+)/.exec(r.config)?.[1] ?? null;
  const libraries = [...r.blas_libs];
  const found = (re: RegExp) => libraries.some((l) => re.test(l.split('/').pop()!) || re.test(l));
  let name: string;
  if (r.openblas) name = 'OpenBLAS';
  else if (info === 'mkl' || /Intel\(R\) (oneAPI )?Math Kernel Library/i.test(r.config)) name = 'MKL';
  else name = BY_LIBRARY.find(([re]) => found(re))?.[1] ?? (info === 'open' ? 'OpenBLAS' : (info ?? 'unknown'));
  return { name, blas_info: info, libraries, separate_threads: r.openblas !== null };
}
