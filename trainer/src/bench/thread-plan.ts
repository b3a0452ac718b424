/**
 * Which thread settings each side of `npm run bench -- --compare-torch` tries, and which one it
 * keeps: a fair comparison measures every side at its own best setting on the same cores, not
 * every side at one thread count (PyTorch on Debian's OpenBLAS with 2 torch threads and 2 OpenBLAS
 * threads keeps four threads busy on two cores and runs half as fast as at its best).
 *
 * A side's setting: `threads` — torch's intra-op threads (PyTorch) or our wasm threads (fixed for
 * the process, so one value per run) — and `blas` — the BLAS threads where that is a knob of its
 * own (OpenBLAS: ours for the native matMul, PyTorch's where it calls OpenBLAS), null where it is
 * not (MKL follows torch.set_num_threads; no native BLAS on our side). `cores`: how many cores the
 * setting can keep busy at once — PyTorch's T intra-op threads each calling a B-thread OpenBLAS
 * can run T·B threads; our wasm kernels and our OpenBLAS calls run one after the other, so
 * max(wasm, OpenBLAS).
 */
import { median } from '../util/stats.js';

export interface ThreadSetting {
  threads: number;
  blas: number | null;
  cores: number;
}

/** A setting as the summary names it ("torch 1 × OpenBLAS 2"), with the step times measured at it (seconds) and their median. */
export interface SweepPoint extends ThreadSetting {
  label: string;
  step_s: number;
  steps_s: number[];
}

/** PyTorch's settings: every (T, B) with T·B ≤ cores where B is a knob of its own, else every T ≤ cores. */
export function referenceSettings(cores: number, separateBlas: boolean): ThreadSetting[] {
  checkCores(cores);
  const out: ThreadSetting[] = [];
  for (let t = 1; t <= cores; t++) {
    if (!separateBlas) out.push({ threads: t, blas: null, cores: t });
    else for (let b = 1; t * b <= cores; b++) out.push({ threads: t, blas: b, cores: t * b });
  }
  return out;
}

/** Our settings: OpenBLAS threads 1..cores beside the process's wasm threads (just those, without a native BLAS). */
export function ourSettings(cores: number, wasmThreads: number, nativeBlas: boolean): ThreadSetting[] {
  checkCores(cores);
  if (!nativeBlas) return [{ threads: wasmThreads, blas: null, cores: wasmThreads }];
  return Array.from({ length: cores }, (_, i) => ({
    threads: wasmThreads,
    blas: i + 1,
    cores: Math.max(wasmThreads, i + 1),
  }));
}

/** The measured point of a setting. */
export function sweepPoint(s: ThreadSetting, label: string, times: readonly number[]): SweepPoint {
  if (times.length === 0) throw new Error('a sweep point needs at least one timed step');
  return { threads: s.threads, blas: s.blas, cores: s.cores, label, step_s: median(times), steps_s: [...times] };
}

/**
 * The fastest point that keeps at most `budget` cores busy (on a tie, the one using fewer cores);
 * null when none fits (a side whose only setting needs more, e.g. 4 wasm threads in a 2-core budget).
 */
export function fastest(points: readonly SweepPoint[], budget: number): SweepPoint | null {
  let best: SweepPoint | null = null;
  for (const p of points) {
    if (p.cores > budget) continue;
    if (!best || p.step_s < best.step_s || (p.step_s === best.step_s && p.cores < best.cores)) best = p;
  }
  return best;
}

function checkCores(cores: number): void {
  if (!Number.isInteger(cores) || cores < 1)
    throw new Error(`the core budget must be a positive integer, got ${cores}`);
}
