/**
 * Optional native kernels for the wasm backend, as Node-API addons (trainer/native) called on
 * views of the WebAssembly heap. Node-API is ABI-stable across Node and Electron.
 * - camd_blas: GEMM over the system's OpenBLAS, and multi-head attention on it; built by `npm run
 *   setup` where OpenBLAS's headers exist (Debian: libopenblas-dev). Absent or disabled
 *   (CAMD_NATIVE_BLAS=0), matMul uses XNNPACK and attention a chain of kernels.
 * - camd_ops: fused GELU, LayerNorm and AdamW kernels; needs only a C compiler. Absent or disabled
 *   (CAMD_NATIVE_OPS=0), the model runs the same formulas as chains of tfjs kernels.
 * CAMD_NATIVE=0 disables both.
 */
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface NativeBlas {
  sgemmBatched(
    a: Float32Array,
    aOffset: number,
    b: Float32Array,
    bOffset: number,
    c: Float32Array,
    cOffset: number,
    batch: number,
    M: number,
    N: number,
    K: number,
    transA: number,
    transB: number,
    strideA: number,
    strideB: number,
    strideC: number,
  ): void;
  threads(): number;
  /** Sets OpenBLAS's thread count for the calls that follow. */
  setThreads(n: number): void;
  /**
   * Multi-head attention, one (batch, head) pair per thread: out = softmax(scale·Q_h·K_hᵀ)·V_h for
   * each head h of q, k, v (B, L, C), heads in place as columns; probs (B, H, L, L) keeps the
   * softmax for the backward pass. Offsets are float32 elements of `heap`.
   */
  attentionForward(
    heap: Float32Array,
    q: number,
    k: number,
    v: number,
    out: number,
    probs: number,
    B: number,
    L: number,
    C: number,
    H: number,
    scale: number,
  ): void;
  /** The gradients of attentionForward with respect to q, k and v, from dy and the saved probs. */
  attentionBackward(
    heap: Float32Array,
    dy: number,
    q: number,
    k: number,
    v: number,
    probs: number,
    dq: number,
    dk: number,
    dv: number,
    B: number,
    L: number,
    C: number,
    H: number,
    scale: number,
  ): void;
}

/** Offsets and sizes are in float32 elements of `heap`. */
export interface NativeOps {
  geluForward(heap: Float32Array, x: number, y: number, n: number): void;
  geluBackward(heap: Float32Array, x: number, dy: number, dx: number, n: number): void;
  layerNormForward(
    heap: Float32Array,
    x: number,
    gamma: number,
    beta: number,
    y: number,
    mean: number,
    rstd: number,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  layerNormBackward(
    heap: Float32Array,
    dy: number,
    x: number,
    mean: number,
    rstd: number,
    gamma: number,
    dx: number,
    dgamma: number,
    dbeta: number,
    rows: number,
    cols: number,
  ): void;
  adamw(
    heap: Float32Array,
    p: number,
    g: number,
    m: number,
    v: number,
    p2: number,
    m2: number,
    v2: number,
    n: number,
    scale: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    decay: number,
    bc1: number,
    bc2: number,
  ): void;
  /** AdamW with the moments in host arrays (updated in place); p, g, p2 are heap offsets. */
  adamwHost(
    heap: Float32Array,
    p: number,
    g: number,
    p2: number,
    n: number,
    m: Float32Array,
    v: Float32Array,
    scale: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    decay: number,
    bc1: number,
    bc2: number,
  ): void;
  /** y[r] = Σ_c x[r·cols + c] (÷ cols when mean), accumulated in double; x, y heap offsets. */
  sumRows(heap: Float32Array, x: number, y: number, rows: number, cols: number, mean: boolean): void;
  /** y[c] = Σ_r x[r·cols + c] (÷ rows when mean), accumulated in double; x, y heap offsets. */
  sumCols(heap: Float32Array, x: number, y: number, rows: number, cols: number, mean: boolean): void;
  /** mm ← mm·a + p·b for a host array mm; p is a heap offset. */
  emaHost(heap: Float32Array, p: number, n: number, mm: Float32Array, a: number, b: number): void;
  /** Threads the kernels split their work across (OpenMP; 1 where the addon was built without it). */
  threads(): number;
  setThreads(n: number): void;
}

interface Loaded<T> {
  lib: T | null;
  reason: string;
}

function load<T>(
  file: string,
  envVar: string,
  missing: string,
  describe: (lib: T) => string,
  beforeLoad?: (path: string) => void,
): Loaded<T> {
  if (process.env['CAMD_NATIVE'] === '0') return { lib: null, reason: 'disabled by CAMD_NATIVE=0' };
  if (process.env[envVar] === '0') return { lib: null, reason: `disabled by ${envVar}=0` };
  const path = fileURLToPath(new URL(`../../native/build/Release/${file}`, import.meta.url));
  if (!existsSync(path)) return { lib: null, reason: missing };
  try {
    // both addons split work with OpenMP: its idle threads sleep at once instead of spinning, as
    // OpenBLAS's threads run right after on the same cores (libgomp reads this as it loads)
    process.env['OMP_WAIT_POLICY'] ??= 'PASSIVE';
    beforeLoad?.(path);
    const lib = createRequire(import.meta.url)(path) as T;
    return { lib, reason: describe(lib) };
  } catch (e) {
    return { lib: null, reason: `${file} failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
}

/**
 * OpenBLAS (built with DYNAMIC_ARCH, as Debian's) picks its kernels from the CPU's model number.
 * Where virtualisation hides the model (cloud VMs, gVisor: "Intel(R) Xeon(R) Processor") it can
 * fall back to kernels a decade old. Measured on a 16-core Xeon VM: it chose the generic Prescott
 * kernels, 512³ matMul 188 GFLOP/s against 498 with SkylakeX's, and the tiny/112 b16 step on one
 * thread took 2.34 s against 0.79 s. So where OpenBLAS's own choice is older than Haswell while
 * the CPU's feature flags say AVX2 + FMA (→ Haswell) or AVX-512 F/BW/VL/DQ (→ SkylakeX), the
 * flags' choice is set as OPENBLAS_CORETYPE before the library loads. A choice of Haswell or newer
 * is left alone, and so is an OPENBLAS_CORETYPE the user set (some machines set it on purpose).
 */
export function openblasCoreType(cpuinfo: string): string | null {
  const line = cpuinfo.split('\n').find((l) => /^flags\s*:/.test(l));
  if (!line) return null;
  const flags = new Set(line.split(':')[1]!.trim().split(/\s+/));
  if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.has(f))) return 'SkylakeX';
  if (flags.has('avx2') && flags.has('fma')) return 'Haswell';
  return null;
}

/** OpenBLAS cores older than Haswell (x86-64): where a CPU with AVX2 deserves better. */
const OLD_CORES = new Set([
  'Prescott',
  'Core2',
  'Penryn',
  'Dunnington',
  'Nehalem',
  'Sandybridge',
  'Atom',
  'Barcelona',
  'Bobcat',
  'Bulldozer',
  'Piledriver',
  'Steamroller',
  'Excavator',
  'Opteron',
  'Opteron_SSE3',
  'Katmai',
  'Coppermine',
  'Northwood',
  'Banias',
  'Generic',
]);

/**
 * A user's OPENBLAS_CORETYPE is kept, but where it names AVX2 kernels on a CPU with AVX-512 the
 * reason says so: one VM here sets Haswell in every shell, and its 512³ matMul ran at about half
 * the speed of SkylakeX's kernels (docs/performance.md).
 */
export function userCoreHint(set: string, better: string | null): string {
  return better === 'SkylakeX' && (OLD_CORES.has(set) || /^(haswell|zen)$/i.test(set))
    ? "; this CPU's AVX-512 allows SkylakeX kernels, about 2× faster matMul: unset it to let OpenBLAS choose"
    : '';
}

/** Sets OPENBLAS_CORETYPE before OpenBLAS loads where its own choice would be too old; says what was used. */
function chooseOpenblasCore(addon: string): string {
  const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
  let better: string | null = null;
  try {
    better = linuxX64 ? openblasCoreType(readFileSync('/proc/cpuinfo', 'utf8')) : null;
  } catch {
    better = null;
  }
  const set = process.env['OPENBLAS_CORETYPE'];
  if (set) return `${set} kernels (OPENBLAS_CORETYPE)${userCoreHint(set, better)}`;
  if (!linuxX64) return "OpenBLAS's kernels";
  // what OpenBLAS picks by itself: load it once in a child that prints its core (OPENBLAS_VERBOSE=2)
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)})`], {
    env: { ...process.env, OPENBLAS_VERBOSE: '2', ELECTRON_RUN_AS_NODE: '1' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  const own = /Core:\s*(\w+)/.exec(`${probe.stdout ?? ''}${probe.stderr ?? ''}`)?.[1] ?? null;
  if (!own) return "OpenBLAS's kernels";
  if (!better || !OLD_CORES.has(own)) return `${own} kernels`;
  process.env['OPENBLAS_CORETYPE'] = better; // setenv: the library reads it when it loads, just after this
  return `${better} kernels from the CPU's ${better === 'SkylakeX' ? 'AVX-512' : 'AVX2'} flags (OpenBLAS alone chose ${own})`;
}

let blas: Loaded<NativeBlas> | null = null;
let ops: Loaded<NativeOps> | null = null;

export function nativeBlas(): { blas: NativeBlas | null; reason: string } {
  if (!blas) {
    let kernels = '';
    blas = load<NativeBlas>(
      'camd_blas.node',
      'CAMD_NATIVE_BLAS',
      'native OpenBLAS addon not built (needs OpenBLAS headers, e.g. Debian libopenblas-dev, at npm run setup)',
      (l) => `OpenBLAS through Node-API (${l.threads()} threads, ${kernels}; attention as one kernel)`,
      (path) => (kernels = chooseOpenblasCore(path)),
    );
  }
  return { blas: blas.lib, reason: blas.reason };
}

export function nativeOps(): { ops: NativeOps | null; reason: string } {
  ops ??= load<NativeOps>(
    'camd_ops.node',
    'CAMD_NATIVE_OPS',
    'native fused-kernel addon not built (needs a C compiler at npm run setup)',
    (l) => `fused GELU, LayerNorm and AdamW, host-memory optimiser state, through Node-API (${l.threads()} threads)`,
  );
  return { ops: ops.lib, reason: ops.reason };
}
