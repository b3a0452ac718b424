/**
 * Multi-threaded tfjs-backend-wasm for Node (tfjs-backend-wasm 4.22).
 *
 * Upstream disables threads under Node (`WASM_HAS_MULTITHREAD_SUPPORT` is false when IS_NODE) because
 * `init()` hands emscripten Blob URLs for the pthread worker script and the main script, which Node's
 * worker_threads cannot load. The emscripten glue itself supports Node pthreads, so we:
 *   1. write the shipped worker script (wasm-out/…-threaded-simd.worker.js contents) to a temp .cjs
 *      file, patched so each worker `importScripts` the on-disk glue
 *      wasm-out/tfjs-backend-wasm-threaded-simd.js instead of the (unreadable) Blob it is sent;
 *   2. during init only, make `URL.createObjectURL` return that file's path for the worker Blob;
 *   3. during init only, make `os.cpus()` report ≥ 2×threads entries: the C side caps the XNNPACK
 *      pthreadpool at emscripten_num_logical_cores()/2 (computed from os.cpus() at module start);
 *   4. delete the temp file once init is done (the 8 pool workers are loaded by then);
 *   5. after init, `unref()` the running pthread workers (emscripten `ref()`s them), otherwise the
 *      process never exits.
 * Any failure of the preconditions falls back to the single-threaded SIMD build, with a reason.
 * Emscripten always pre-spawns 8 worker threads for the threaded build, whatever `threads` is.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export interface WasmInitResult {
  threaded: boolean;
  threads: number;
  simd: boolean;
  reason: string;
}

/** Max threads: the C side caps the pool at 8, and the glue pre-spawns exactly 8 workers. */
const MAX_THREADS = 8;
const WORKER_NEEDLE = 'if(typeof e.data.urlOrBlob=="string")';
const THREADS_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0,
  26, 11,
]);

interface NodeWorkerLike {
  unref(): void;
}
interface ThreadedModule {
  PThread?: { pthreads: Record<string, NodeWorkerLike> };
}

let cached: WasmInitResult | null = null;

function wasmModule(): ThreadedModule | null {
  // Not tf.findBackend: that would start initialising the backend with the current flags.
  const b = tf.engine().registry['wasm'] as unknown as { wasm?: ThreadedModule } | undefined;
  return b?.wasm ?? null;
}

function currentState(simd: boolean, reason: string): WasmInitResult {
  const threads = wasmBackend.getThreadsCount();
  const mod = wasmModule();
  return { threaded: !!mod?.PThread && threads > 1, threads, simd, reason };
}

/** Writes the patched pthread worker script; returns its path, or a reason string on failure. */
function prepareWorkerScript(): { workerPath: string } | { error: string } {
  let pkgDir: string;
  try {
    const require = createRequire(import.meta.url);
    pkgDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    // in the packaged app the package is unpacked beside app.asar: pthread workers load it from there
    const unpacked = pkgDir.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
    if (unpacked !== pkgDir && fs.existsSync(unpacked)) pkgDir = unpacked;
    const mainJs = path.join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
    const workerModule = path.join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js');
    if (!fs.existsSync(mainJs) || !fs.existsSync(path.join(pkgDir, 'dist', 'tfjs-backend-wasm-threaded-simd.wasm'))) {
      return { error: 'threaded-simd glue or .wasm not found in @tensorflow/tfjs-backend-wasm' };
    }
    const contents = (require(workerModule) as { wasmWorkerContents?: unknown }).wasmWorkerContents;
    if (typeof contents !== 'string' || !contents.includes(WORKER_NEEDLE)) {
      return { error: 'unrecognised threaded worker script (tfjs-backend-wasm version changed?)' };
    }
    // Same '\n' escaping as upstream's Blob (the template literal turned "\n" escapes into newlines).
    const src = contents
      .replace(/\n/g, '\\n')
      .replace(WORKER_NEEDLE, `e.data.urlOrBlob=${JSON.stringify(mainJs)};if(true)`);
    // one file per script content, shared by every process (a folder per process would pile up in /tmp)
    const digest = createHash('sha256').update(src).digest('hex').slice(0, 16);
    const dir = path.join(os.tmpdir(), `camd-wasm-threads-${digest}`);
    const workerPath = path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.cjs');
    if (!fs.existsSync(workerPath) || fs.readFileSync(workerPath, 'utf8') !== src) {
      fs.mkdirSync(dir, { recursive: true });
      const tmp = `${workerPath}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, src);
      fs.renameSync(tmp, workerPath); // atomic: a concurrent process never loads half a script
    }
    return { workerPath };
  } catch (e) {
    return { error: `cannot prepare worker script: ${(e as Error).message}` };
  }
}

async function initSingle(simd: boolean, reason: string): Promise<WasmInitResult> {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialise');
  await tf.ready();
  return currentState(simd, reason);
}

/**
 * Registers and selects the wasm backend, multi-threaded when possible.
 * `threads: 'auto'` uses os.availableParallelism() (capped at 8). Call before any other
 * `tf.setBackend('wasm')`: once the wasm backend is initialised its build cannot be changed.
 */
export async function initWasmBackend(opts: { threads: number | 'auto' }): Promise<WasmInitResult> {
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  if (cached && wasmModule()) {
    await tf.setBackend('wasm');
    return cached;
  }
  if (wasmModule()) {
    await tf.setBackend('wasm');
    cached = currentState(simd, 'wasm backend was already initialised elsewhere; build left unchanged');
    return cached;
  }

  const want =
    opts.threads === 'auto'
      ? Math.min(MAX_THREADS, os.availableParallelism())
      : Math.min(MAX_THREADS, Math.max(1, Math.floor(opts.threads)));

  let reason = '';
  if (want <= 1) reason = 'single thread requested (or only one CPU available)';
  else if (!simd) reason = 'WebAssembly SIMD unsupported; the threaded build requires SIMD';
  else if (typeof SharedArrayBuffer === 'undefined') reason = 'SharedArrayBuffer unavailable';
  else if (!WebAssembly.validate(THREADS_PROBE)) reason = 'WebAssembly threads (atomics) unsupported';
  let workerPath = '';
  if (!reason) {
    const prep = prepareWorkerScript();
    if ('error' in prep) reason = prep.error;
    else workerPath = prep.workerPath;
  }
  if (reason) {
    cached = await initSingle(simd, reason);
    return cached;
  }

  wasmBackend.setThreadsCount(want);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  const origCreateObjectURL = URL.createObjectURL;
  const origCpus = os.cpus;
  const cpus = origCpus.call(os);
  while (cpus.length < 2 * want && cpus.length > 0) cpus.push(cpus[0]!);
  URL.createObjectURL = (obj: Blob | MediaSource) =>
    obj instanceof Blob && obj.type === 'application/javascript' ? workerPath : origCreateObjectURL.call(URL, obj);
  os.cpus = () => cpus;
  let ok = false;
  let err = '';
  try {
    ok = await tf.setBackend('wasm');
  } catch (e) {
    err = (e as Error).message;
  } finally {
    URL.createObjectURL = origCreateObjectURL;
    os.cpus = origCpus;
    // The script stays: it is one file per script content shared by every process, and removing it
    // here raced with another process starting at the same moment (its pool workers then failed to
    // load it and the process died: two camd commands started together, as the app does).
  }
  if (!ok) {
    cached = await initSingle(simd, `threaded-simd init failed${err ? `: ${err}` : ''}; using single-threaded build`);
    return cached;
  }
  await tf.ready();
  // Running pthreads are ref()'d by emscripten; unref them so they do not keep the process alive.
  for (const w of Object.values(wasmModule()?.PThread?.pthreads ?? {})) w.unref();
  const state = currentState(simd, '');
  state.reason = state.threaded
    ? `threaded-simd build with ${state.threads} threads`
    : `threaded-simd build loaded but its threadpool has ${state.threads} thread(s)`;
  cached = state;
  return cached;
}
