/**
 * The backend ladder (DESIGN.md "Compute"): tfjs-node-gpu (when TensorFlow can use the GPU) →
 * webgpu (Dawn) → tfjs-node → wasm → cpu. `auto` takes the first rung that loads and says which
 * and why the others were skipped.
 */
import * as tf from '@tensorflow/tfjs';
import { BACKENDS_DIR_ENV, backendsDir, findOptional, importOptional } from './optional-packages.js';
import { createRequire } from 'node:module';
import { installWasmKernelFixes, PATCHED_WASM_KERNELS } from './wasm/register.js';
import { diagnoseCuda, probeCuda, type CudaDiagnosis } from './cuda-diagnose.js';
import { initWasmBackend } from './wasm-threads.js';
import { nativeBlas, nativeOps } from './native.js';
import { loadWebGpu, TFJS_WEBGPU_PACKAGE } from './webgpu.js';
import { UserError } from '../util/errors.js';

export interface BackendOptions {
  /** Threads of the wasm rung: a count, or 'auto' (1 with the native OpenBLAS matMul, else one per CPU, at most 8). Fixed at first use in a process. */
  wasmThreads?: number | 'auto';
}

import { BACKEND_NAMES, type BackendName, type BackendChoice } from './names.js';
export { BACKEND_NAMES, BACKEND_CHOICES_TEXT, isBackendChoice, type BackendName, type BackendChoice } from './names.js';

export interface RungReport {
  /** The tfjs backend name this rung registers. */
  backend: BackendName;
  /** npm package that provides it. */
  package: string;
  installed: boolean;
  version: string | null;
  loaded: boolean;
  /** Why it did not load (or why it loaded without its accelerator); null when fine. */
  reason: string | null;
  details: Record<string, unknown>;
}

export interface Selection {
  backend: BackendName;
  /** The rung that provides it (package name). */
  package: string;
  /** One line per rung that `auto` skipped, with the reason. */
  skipped: string[];
  reports: RungReport[];
}

/** What a run's record keeps of the backend it got (the store's `backend_detail`): the package, what `auto` skipped and why, the chosen rung's details. */
export function backendDetail(sel: Selection): string {
  return JSON.stringify({
    package: sel.package,
    skipped: sel.skipped,
    details: sel.reports.find((r) => r.loaded && r.backend === sel.backend)?.details ?? {},
  });
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string | null {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (
    msg
      .split('\n')
      .find((l) => l.trim().length > 0)
      ?.trim() ?? 'unknown error'
  );
}

/** Captures what native code writes to stderr (TensorFlow's dlerror lines) while f runs. */
async function withStderrCapture<T>(f: () => Promise<T>): Promise<{ value?: T; error?: unknown; stderr: string }> {
  const chunks: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  (process.stderr as unknown as { write: unknown }).write = (chunk: unknown, ...rest: unknown[]) => {
    chunks.push(String(chunk));
    return (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
  };
  try {
    return { value: await f(), stderr: chunks.join('') };
  } catch (error) {
    return { error, stderr: chunks.join('') };
  } finally {
    (process.stderr as unknown as { write: unknown }).write = orig;
  }
}

let tensorflowLoaded: string | null = null;

/** Tries tfjs-node-gpu, then tfjs-node. Both register the backend 'tensorflow'. */
async function loadTensorflowRung(reports: RungReport[]): Promise<boolean> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const) {
    const found = findOptional(pkg);
    const version = found?.version ?? null;
    const report: RungReport = {
      backend: 'tensorflow',
      package: pkg,
      installed: version !== null,
      version,
      loaded: false,
      reason: null,
      details: {},
    };
    reports.push(report);
    if (tensorflowLoaded === pkg) {
      report.loaded = true;
      return true;
    }
    if (version === null) {
      report.reason = `not installed (optional dependency: npm skips it when its install script cannot download libtensorflow 2.9.1; the desktop app looks in $${BACKENDS_DIR_ENV}${backendsDir() ? ` = ${backendsDir()}` : ''})`;
      if (pkg === '@tensorflow/tfjs-node-gpu') report.details['cuda'] = diagnoseCuda(await probeCuda());
      continue;
    }
    if (tensorflowLoaded !== null) {
      report.reason = `${tensorflowLoaded} is already loaded in this process`;
      continue;
    }
    if (found!.external) report.details['from'] = found!.dir;
    const r = await withStderrCapture(() => importOptional(found!));
    if (r.error !== undefined) {
      report.reason = `installed but failed to load: ${oneLine(r.error)}`;
      if (pkg === '@tensorflow/tfjs-node-gpu') {
        const probe = await probeCuda();
        const diag = diagnoseCuda({ ...probe, loadError: oneLine(r.error), tfStderr: r.stderr });
        report.details['cuda'] = diag;
        report.reason += `; ${cudaAdvice(diag)}`;
      }
      continue;
    }
    tensorflowLoaded = pkg;
    report.loaded = true;
    if (pkg === '@tensorflow/tfjs-node-gpu') {
      // TensorFlow falls back to its CPU kernels when CUDA libraries are missing; say so.
      const probe = await probeCuda();
      const diag = diagnoseCuda({ ...probe, tfStderr: r.stderr });
      report.details['cuda'] = diag;
      if (!diag.usable)
        report.reason = `loaded, but TensorFlow cannot use the GPU (it runs on the CPU): ${cudaAdvice(diag)}`;
    }
    return true;
  }
  return false;
}

function cudaAdvice(d: CudaDiagnosis): string {
  const parts = [d.summary, ...d.fixes.slice(0, 2)];
  return parts.filter(Boolean).join(' ');
}

async function loadWasmRung(reports: RungReport[], opts: BackendOptions): Promise<boolean> {
  const pkg = '@tensorflow/tfjs-backend-wasm';
  const version = packageVersion(pkg);
  const report: RungReport = {
    backend: 'wasm',
    package: pkg,
    installed: version !== null,
    version,
    loaded: false,
    reason: null,
    details: {},
  };
  reports.push(report);
  try {
    installWasmKernelFixes();
    // 'auto' is the fastest plan measured (docs/performance.md): with OpenBLAS doing the matMuls on
    // every core, wasm pthreads only compete with it (tiny/112 b16, 8 steps: 13.1 s on one wasm
    // thread, 14.6 s on two; two micro runs side by side: 4.6 s against 8.3 s)
    const asked = opts.wasmThreads ?? 'auto';
    const threads = asked === 'auto' && nativeBlas().blas ? 1 : asked;
    const init = await initWasmBackend({ threads });
    report.loaded = true;
    report.details = {
      simd: init.simd,
      threads: init.threads,
      build: init.reason,
      matmul: nativeBlas().blas ? nativeBlas().reason : `XNNPACK (${nativeBlas().reason})`,
      patchedKernels: [...PATCHED_WASM_KERNELS],
      fusedKernels: nativeOps().ops ? nativeOps().reason : `none, chains of tfjs kernels (${nativeOps().reason})`,
    };
  } catch (e) {
    report.reason = `failed to initialise: ${oneLine(e)}`;
  }
  return report.loaded;
}

async function loadCpuRung(reports: RungReport[]): Promise<boolean> {
  const pkg = '@tensorflow/tfjs-backend-cpu';
  const version = packageVersion(pkg);
  const report: RungReport = {
    backend: 'cpu',
    package: pkg,
    installed: version !== null,
    version,
    loaded: false,
    reason: null,
    details: {},
  };
  reports.push(report);
  try {
    report.loaded = await tf.setBackend('cpu');
    // silence tfjs's "install tfjs-node" banner: `camd info` reports the ladder itself
    const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
    if (cpu) cpu.firstUse = false;
    if (!report.loaded) report.reason = 'tf.setBackend("cpu") returned false';
    report.details = { note: 'plain JavaScript kernels, over 100× slower than wasm (docs/performance.md)' };
  } catch (e) {
    report.reason = oneLine(e);
  }
  return report.loaded;
}

async function loadWebgpuRung(reports: RungReport[]): Promise<boolean> {
  const version = packageVersion(TFJS_WEBGPU_PACKAGE);
  const report: RungReport = {
    backend: 'webgpu',
    package: TFJS_WEBGPU_PACKAGE,
    installed: version !== null,
    version,
    loaded: false,
    reason: null,
    details: {},
  };
  reports.push(report);
  try {
    const r = await loadWebGpu();
    if (r.ok) {
      report.loaded = true;
      report.details = {
        adapter: `${r.adapter.vendor || '?'} ${r.adapter.architecture} ${r.adapter.device} (${r.adapter.description})`
          .replace(/\s+/g, ' ')
          .trim(),
        software: r.adapter.software,
        dawn: `webgpu@${packageVersion('webgpu')}`,
      };
      if (r.adapter.software)
        report.reason = 'software adapter (CAMD_WEBGPU_SOFTWARE=1): runs on the CPU, for tests only';
    } else {
      report.reason = r.reason;
      if (r.diagnosis) report.details['webgpu'] = r.diagnosis;
    }
  } catch (e) {
    report.reason = `failed to initialise: ${oneLine(e)}`;
  }
  return report.loaded;
}

/** True when the tensorflow rung loaded tfjs-node-gpu and TensorFlow can use the GPU. */
function tensorflowOnGpu(reports: RungReport[]): boolean {
  return reports.some(
    (r) => r.backend === 'tensorflow' && r.loaded && r.package === '@tensorflow/tfjs-node-gpu' && r.reason === null,
  );
}

const LOADERS: Record<BackendName, (r: RungReport[], o: BackendOptions) => Promise<boolean>> = {
  tensorflow: loadTensorflowRung,
  webgpu: loadWebgpuRung,
  wasm: loadWasmRung,
  cpu: loadCpuRung,
};

async function picked(name: BackendName, reports: RungReport[]): Promise<Selection> {
  await tf.ready();
  const chosen = reports.filter((r) => r.backend === name && r.loaded).pop()!;
  const skipped = reports.filter((r) => !r.loaded).map((r) => `${r.package}: ${r.reason}`);
  return { backend: name, package: chosen.package, skipped, reports };
}

/** Selects a backend. `auto` walks the ladder; a named backend must load or this throws one line. */
export async function selectBackend(choice: BackendChoice, opts: BackendOptions = {}): Promise<Selection> {
  const reports: RungReport[] = [];
  const order: BackendName[] = choice === 'auto' ? [...BACKEND_NAMES] : [choice];
  let tensorflowOnCpu = false;
  for (const name of order) {
    if (tensorflowOnCpu && name !== 'webgpu') {
      // no webgpu adapter: TensorFlow on the CPU (tfjs-node) is the next rung after all
      tensorflowOnCpu = false;
      if (await tf.setBackend('tensorflow')) return picked('tensorflow', reports);
    }
    const ok = await LOADERS[name](reports, opts);
    if (ok && name === 'tensorflow' && choice === 'auto' && !tensorflowOnGpu(reports)) {
      tensorflowOnCpu = true; // a GPU through webgpu beats TensorFlow's CPU kernels
      continue;
    }
    if (ok) {
      const ok = await tf.setBackend(name);
      if (!ok) continue;
      return picked(name, reports);
    }
  }
  const why = reports.map((r) => `${r.package}: ${r.reason}`).join('; ');
  throw new Error(
    choice === 'auto'
      ? `no TensorFlow.js backend could be loaded (${why})`
      : `backend ${choice} is not available: ${why}`,
  );
}

/**
 * selectBackend for a command's `--backend` (a string from a spec, default auto): an unknown or
 * unavailable backend is the user's input error, field `backend`, with the ladder's reason.
 */
export async function selectBackendFor(choice: string | undefined): Promise<Selection> {
  try {
    return await selectBackend((choice ?? 'auto') as BackendChoice);
  } catch (e) {
    throw new UserError((e as Error).message, 2, 'backend');
  }
}

/** Probes every rung (for `camd info`), leaving the best one selected. */
export async function probeAll(
  opts: BackendOptions = {},
): Promise<{ reports: RungReport[]; auto: BackendName | null }> {
  const reports: RungReport[] = [];
  const loaded: BackendName[] = [];
  for (const name of BACKEND_NAMES) if (await LOADERS[name](reports, opts)) loaded.push(name);
  // as selectBackend: TensorFlow on the CPU comes after a webgpu adapter
  const auto =
    loaded[0] === 'tensorflow' && !tensorflowOnGpu(reports) && loaded.includes('webgpu')
      ? 'webgpu'
      : (loaded[0] ?? null);
  if (auto) await tf.setBackend(auto);
  return { reports, auto };
}
