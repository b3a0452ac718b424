/**
 * Explains why the CUDA rung of the backend ladder (`@tensorflow/tfjs-node-gpu`)
 * cannot use the GPU, and what exactly to install.
 *
 * tfjs-node-gpu 4.22 ships libtensorflow 2.9.1, built against CUDA 11.2 and
 * cuDNN 8.1 (Linux x64 only). At start-up TensorFlow dlopens the CUDA 11
 * sonames below; when one is missing it prints
 *   "Could not load dynamic library 'libcudart.so.11.0'; dlerror: ..."
 * and silently runs on the CPU. A machine with only CUDA 12 / cuDNN 9 is the
 * most common cause (tensorflow/tfjs issues 8187, 8362, 8505).
 *
 * `diagnoseCuda` is pure: it only reads the facts in a `CudaProbe`.
 * `probeCuda` gathers those facts with child_process / fs and never throws.
 * Neither imports tfjs-node-gpu into this process.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { findOptional } from './optional-packages.js';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';

export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';
/** What tfjs-node-gpu 4.22 was built against. */
export const CUDA_REQUIREMENTS = {
  tfjsNodeGpu: '4.22.0',
  libtensorflow: '2.9.1',
  cuda: '11.2',
  cudnn: '8.1',
  /** Minimum Linux driver for CUDA 11.x (minor version compatibility). */
  minDriver: '450.80.02',
  /** Driver shipped with CUDA 11.2.2. */
  recommendedDriver: '460.32.03',
} as const;

/** Facts gathered from the machine. */
export interface CudaProbe {
  platform: NodeJS.Platform;
  arch: string;
  /** require.resolve('@tensorflow/tfjs-node-gpu') worked. */
  packageInstalled: boolean;
  /** Folder of the installed package, if found. */
  packageDir?: string;
  /** `version` from its package.json, if read. */
  packageVersion?: string;
  /** deps/lib/libtensorflow.so* (tensorflow.dll / libtensorflow.dylib) exists; undefined when not checked. */
  libtensorflowPresent?: boolean;
  /** lib/napi-v*\/tfjs_binding.node exists; undefined when not checked. */
  bindingPresent?: boolean;
  /** Message thrown when requiring the package, if any. */
  loadError?: string;
  /** What TensorFlow printed to stderr while loading (dso_loader / dlerror lines). */
  tfStderr?: string;
  /** Output of `ldconfig -p` (Linux), if available. */
  ldconfig?: string;
  ldLibraryPath?: string;
  /**
   * CUDA-related shared-library file names found per directory: the
   * LD_LIBRARY_PATH entries plus usual toolkit folders such as
   * /usr/local/cuda-11.2/lib64 (which may not be on the loader path).
   */
  libraryDirs?: Record<string, string[]>;
  /**
   * Output of `nvidia-smi --query-gpu=name,driver_version --format=csv,noheader`
   * (or its error text when it ran and failed); null if nvidia-smi was not found.
   */
  nvidiaSmi?: string | null;
}

export type CudaProblemCode =
  | 'unsupported-platform'
  | 'unsupported-arch'
  | 'package-missing'
  | 'libtensorflow-missing'
  | 'binding-missing'
  | 'load-failed'
  | 'no-driver'
  | 'driver-not-running'
  | 'driver-too-old'
  | 'cuda-init-failed'
  | 'cudart-11-missing'
  | 'cuda11-libs-missing'
  | 'cudnn-8-missing'
  | 'cuda-lib-broken'
  | 'gpu-not-registered';

export interface CudaDiagnosis {
  /** True when tfjs-node-gpu can (or, from the facts, should) run on the GPU. */
  usable: boolean;
  /** One line: the main reason, or what works. */
  summary: string;
  /** One line each, most fundamental first. */
  problems: string[];
  /** One line each: concrete things to install or run. */
  fixes: string[];
  /** Non-blocking remarks, one line each. */
  warnings: string[];
  /** Machine-readable problem codes, in the order of `problems`. */
  codes: CudaProblemCode[];
  /** What was found: library soname -> path (null if absent), plus versions and driver facts. */
  found: Record<string, string | null>;
}

/** A shared library libtensorflow 2.9.1 (GPU) dlopens. */
interface RequiredLib {
  soname: string;
  /** Family prefix, e.g. 'libcudart.so.' to list the other versions present. */
  family: string;
  what: string;
  /** NVIDIA apt package (CUDA repository) that provides it. */
  apt: string;
}

const CUDA11_LIBS: readonly RequiredLib[] = [
  { soname: 'libcudart.so.11.0', family: 'libcudart.so.', what: 'CUDA 11 runtime', apt: 'cuda-cudart-11-2' },
  { soname: 'libcublas.so.11', family: 'libcublas.so.', what: 'cuBLAS 11', apt: 'libcublas-11-2' },
  { soname: 'libcublasLt.so.11', family: 'libcublasLt.so.', what: 'cuBLASLt 11', apt: 'libcublas-11-2' },
  { soname: 'libcufft.so.10', family: 'libcufft.so.', what: 'cuFFT 10 (CUDA 11)', apt: 'libcufft-11-2' },
  { soname: 'libcurand.so.10', family: 'libcurand.so.', what: 'cuRAND 10 (CUDA 11)', apt: 'libcurand-11-2' },
  { soname: 'libcusolver.so.11', family: 'libcusolver.so.', what: 'cuSOLVER 11', apt: 'libcusolver-11-2' },
  { soname: 'libcusparse.so.11', family: 'libcusparse.so.', what: 'cuSPARSE 11', apt: 'libcusparse-11-2' },
];
const CUDNN8: RequiredLib = { soname: 'libcudnn.so.8', family: 'libcudnn.so.', what: 'cuDNN 8', apt: 'libcudnn8' };
const LIBCUDA: RequiredLib = {
  soname: 'libcuda.so.1',
  family: 'libcuda.so.',
  what: 'NVIDIA driver',
  apt: 'nvidia-driver',
};

/** Every soname libtensorflow 2.9.1 GPU needs, in load order. */
export const REQUIRED_SONAMES: readonly string[] = [LIBCUDA, ...CUDA11_LIBS, CUDNN8].map((l) => l.soname);

const CUDA_LIB_FILE =
  /^lib(cuda|cudart|cublas|cublasLt|cufft|curand|cusolver|cusparse|cudnn|nvJitLink|nvrtc)\.so(\.\d+)*$/;

const APT_CUDNN8 = 'sudo apt-get install libcudnn8=8.1.1.33-1+cuda11.2';
const FIX_DOCKER =
  'Or run the trainer in the nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 image (docker run --gpus all ...), which already has CUDA 11.2 and cuDNN 8.1.';
const FIX_OTHER_RUNG =
  'Until then the trainer falls back to the next rung: @tensorflow/tfjs-node (native CPU), then wasm, then cpu.';

// ---------------------------------------------------------------------------
// Parsers (exported for tests and for the CLI's `doctor` output).
// ---------------------------------------------------------------------------

export interface LdconfigEntry {
  soname: string;
  flags: string;
  path: string;
}

/** Whether an `ldconfig -p` flags field, e.g. "libc6,x86-64", matches a Node arch. */
function flagsMatchArch(flags: string, arch: string): boolean {
  if (arch === 'x64') return flags.includes('x86-64');
  if (arch === 'arm64') return flags.includes('AArch64');
  if (arch === 'ia32') return !flags.includes('x86-64');
  return true;
}

/** Parses `ldconfig -p` output, keeping the entries for `arch` (all if unknown). */
export function parseLdconfig(text: string, arch: string): LdconfigEntry[] {
  const out: LdconfigEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S.*?)\s*$/.exec(line);
    if (!m) continue;
    const [, soname = '', flags = '', path = ''] = m;
    if (!flagsMatchArch(flags, arch)) continue;
    out.push({ soname, flags, path });
  }
  return out;
}

export interface TfLoadLog {
  /** soname -> dlerror text, from "Could not load dynamic library 'X'; dlerror: ...". */
  failed: Map<string, string>;
  /** sonames from "Successfully opened dynamic library X". */
  opened: Set<string>;
  /** "Cannot dlopen some GPU libraries" was printed. */
  skippedGpu: boolean;
  /** Names of GPU devices TensorFlow created. */
  devices: string[];
  /** "failed call to cuInit: ..." error, if any. */
  cuInitError?: string;
  /** "Relying on driver to perform ptx compilation" was printed (ptxas not found). */
  ptxasMissing: boolean;
}

/** Reads TensorFlow's start-up log (stderr). */
export function parseTfStderr(text: string): TfLoadLog {
  const log: TfLoadLog = { failed: new Map(), opened: new Set(), skippedGpu: false, devices: [], ptxasMissing: false };
  for (const line of text.split(/\r?\n/)) {
    const fail = /Could not load dynamic library '([^']+)'; dlerror: (.*?)(?:; LD_LIBRARY_PATH:.*)?$/.exec(line);
    if (fail) {
      log.failed.set(fail[1] ?? '', (fail[2] ?? '').trim());
      continue;
    }
    const ok = /Successfully opened dynamic library (\S+)/.exec(line);
    if (ok) {
      log.opened.add(ok[1] ?? '');
      continue;
    }
    if (/Cannot dlopen some GPU libraries/.test(line)) log.skippedGpu = true;
    const cu = /failed call to cuInit: (.*)$/.exec(line);
    if (cu) log.cuInitError = (cu[1] ?? '').trim();
    if (/Relying on driver to perform ptx compilation/.test(line)) log.ptxasMissing = true;
    const dev = /Created device \S*device:GPU:\d+.*?name: ([^,]+)/.exec(line);
    if (dev) log.devices.push((dev[1] ?? '').trim());
    else if (/Created device \S*device:GPU:\d+/.test(line)) log.devices.push('GPU');
  }
  return log;
}

export interface NvidiaGpu {
  name: string;
  driver: string;
}

/** Parses `nvidia-smi --query-gpu=name,driver_version --format=csv,noheader`. */
export function parseNvidiaSmi(text: string): NvidiaGpu[] {
  const gpus: NvidiaGpu[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(.+?),\s*(\d+\.\d+(?:\.\d+)?)\s*$/.exec(line);
    if (m) gpus.push({ name: m[1] ?? '', driver: m[2] ?? '' });
  }
  return gpus;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function splitPath(p: string | undefined): string[] {
  return (p ?? '')
    .split(delimiter)
    .filter((d) => d.length > 0)
    .map((d) => d.replace(/\/+$/, ''));
}

/** Where the dynamic loader (and the folders we looked at) can see each library. */
class LibraryView {
  /** soname -> path, as the loader would find it (LD_LIBRARY_PATH first, then ld.so.cache). */
  readonly visible = new Map<string, string>();
  /** soname -> directories off the loader path that hold it. */
  readonly elsewhere = new Map<string, string[]>();
  readonly known: boolean;

  constructor(p: CudaProbe) {
    const onPath = splitPath(p.ldLibraryPath);
    const dirs = p.libraryDirs ?? {};
    for (const dir of onPath) {
      for (const f of dirs[dir] ?? []) if (!this.visible.has(f)) this.visible.set(f, `${dir}/${f}`);
    }
    if (p.ldconfig !== undefined) {
      for (const e of parseLdconfig(p.ldconfig, p.arch))
        if (!this.visible.has(e.soname)) this.visible.set(e.soname, e.path);
    }
    for (const [dir, files] of Object.entries(dirs)) {
      if (onPath.includes(dir.replace(/\/+$/, ''))) continue;
      for (const f of files) {
        if (this.visible.has(f)) continue;
        const list = this.elsewhere.get(f) ?? [];
        list.push(dir);
        this.elsewhere.set(f, list);
      }
    }
    this.known = p.ldconfig !== undefined || p.libraryDirs !== undefined;
  }

  /** Other versions of a library family that are visible, e.g. ['libcudart.so.12']. */
  family(prefix: string): string[] {
    const names = new Set<string>();
    for (const name of [...this.visible.keys(), ...this.elsewhere.keys()]) {
      if (name.startsWith(prefix) && /^\d+(\.\d+)*$/.test(name.slice(prefix.length))) names.add(name);
    }
    return [...names].sort((a, b) => compareVersions(a.slice(prefix.length), b.slice(prefix.length)));
  }
}

function clip(s: string, n = 200): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 3)}...` : one;
}

function majorOf(soname: string, prefix: string): string {
  return soname.slice(prefix.length).split('.')[0] ?? '';
}

// ---------------------------------------------------------------------------
// diagnoseCuda: pure
// ---------------------------------------------------------------------------

export function diagnoseCuda(p: CudaProbe): CudaDiagnosis {
  const problems: string[] = [];
  const fixes: string[] = [];
  const warnings: string[] = [];
  const codes: CudaProblemCode[] = [];
  const found: Record<string, string | null> = {};
  const problem = (code: CudaProblemCode, msg: string): void => {
    codes.push(code);
    problems.push(msg);
  };
  const fix = (msg: string): void => {
    if (!fixes.includes(msg)) fixes.push(msg);
  };
  let librariesChecked = true;
  const finish = (): CudaDiagnosis => {
    const usable = problems.length === 0;
    let summary: string;
    if (!usable) {
      summary = `CUDA rung unusable: ${problems[0] ?? ''}`;
    } else if (found['gpu devices']) {
      summary = `tfjs-node-gpu runs on the GPU (${found['gpu devices']}).`;
    } else if (!librariesChecked) {
      summary = 'No blocking problem found for the CUDA rung, but its libraries could not be checked.';
    } else {
      summary = `tfjs-node-gpu should run on the GPU: the driver, CUDA ${CUDA_REQUIREMENTS.cuda} and cuDNN 8 libraries were all found.`;
    }
    return { usable, summary, problems, fixes, warnings, codes, found };
  };

  found['platform'] = `${p.platform}-${p.arch}`;
  found[TFJS_NODE_GPU] = p.packageInstalled ? (p.packageVersion ?? p.packageDir ?? 'installed') : null;
  found['LD_LIBRARY_PATH'] = p.ldLibraryPath && p.ldLibraryPath.length > 0 ? p.ldLibraryPath : null;

  // 1. Platform: libtensorflow GPU builds exist for Linux x64 only.
  if (p.platform !== 'linux') {
    if (p.platform === 'darwin') {
      problem(
        'unsupported-platform',
        'macOS has no CUDA: tfjs-node-gpu installs the CPU-only libtensorflow there, so it never uses a GPU.',
      );
      fix(
        'On macOS use the wasm rung or @tensorflow/tfjs-node for native CPU speed; the CUDA rung needs Linux x64 with an NVIDIA GPU.',
      );
    } else if (p.platform === 'win32') {
      problem(
        'unsupported-platform',
        `The CUDA rung supports Linux x64 only (tfjs-node-gpu ${CUDA_REQUIREMENTS.tfjsNodeGpu} README: Linux GPU with CUDA ${CUDA_REQUIREMENTS.cuda} + cuDNN 8); this is Windows.`,
      );
      fix(
        `On Windows run the trainer inside WSL2 Ubuntu (the Windows NVIDIA driver exposes the GPU there) with CUDA ${CUDA_REQUIREMENTS.cuda} + cuDNN ${CUDA_REQUIREMENTS.cudnn} installed in WSL, or use the wasm rung.`,
      );
    } else {
      problem(
        'unsupported-platform',
        `No GPU build of libtensorflow ${CUDA_REQUIREMENTS.libtensorflow} exists for ${p.platform}; the CUDA rung needs Linux x64.`,
      );
      fix('Use the wasm rung on this platform.');
    }
    return finish();
  }
  if (p.arch !== 'x64') {
    problem(
      'unsupported-arch',
      `No GPU build of libtensorflow ${CUDA_REQUIREMENTS.libtensorflow} exists for linux-${p.arch} (npm install fails with "Unsupported system: gpu-linux-${p.arch}"); only linux-x64 is built.`,
    );
    fix('On this CPU architecture use the wasm rung; the CUDA rung needs an x86-64 Linux machine.');
    return finish();
  }

  // 2. The npm package and its native parts.
  const loadError = p.loadError ?? '';
  if (!p.packageInstalled) {
    problem(
      'package-missing',
      `${TFJS_NODE_GPU} is not installed (it is an optional dependency and is usually absent).`,
    );
    fix(
      `Run \`npm install ${TFJS_NODE_GPU}@${CUDA_REQUIREMENTS.tfjsNodeGpu}\` on this Linux x64 machine with network access; its install script downloads libtensorflow ${CUDA_REQUIREMENTS.libtensorflow} (GPU) from storage.googleapis.com.`,
    );
  } else {
    const libtfMissing =
      p.libtensorflowPresent === false ||
      /libtensorflow(_framework)?\.so(\.\d+)*: cannot open shared object file/.test(loadError);
    const bindingMissing =
      !libtfMissing &&
      (p.bindingPresent === false ||
        (/tfjs_binding\.node/.test(loadError) &&
          /can ?not be found|Cannot find module|could not be found/i.test(loadError)));
    if (libtfMissing) {
      problem(
        'libtensorflow-missing',
        `${TFJS_NODE_GPU} is installed but deps/lib/libtensorflow.so.2 is missing: its install script could not download libtensorflow ${CUDA_REQUIREMENTS.libtensorflow} (offline install?).`,
      );
    } else if (bindingMissing) {
      problem(
        'binding-missing',
        `${TFJS_NODE_GPU} is installed but its native binding lib/napi-v8/tfjs_binding.node is missing: the install script did not finish (offline install?).`,
      );
    }
    if (libtfMissing || bindingMissing) {
      fix(
        `With network access run \`npm rebuild ${TFJS_NODE_GPU}\`; it downloads libtensorflow-gpu-linux-x86_64-${CUDA_REQUIREMENTS.libtensorflow}.tar.gz and the binding again.`,
      );
      fix(
        `Offline: copy node_modules/${TFJS_NODE_GPU} from a Linux x64 machine where the install succeeded, or set TFJS_NODE_CDN_STORAGE to a local mirror that serves tensorflow/libtensorflow/libtensorflow-gpu-linux-x86_64-${CUDA_REQUIREMENTS.libtensorflow}.tar.gz before rebuilding.`,
      );
    } else if (loadError.length > 0 && !/cannot open shared object file/.test(loadError)) {
      problem('load-failed', `Loading ${TFJS_NODE_GPU} failed: ${clip(loadError)}`);
      fix(
        `Reinstall it with \`npm rebuild ${TFJS_NODE_GPU}\` and check that Node's N-API version is supported (Node 20 or 22 LTS).`,
      );
    }
  }

  // 3. Facts from TensorFlow's own start-up log, when we have it.
  const log = parseTfStderr(p.tfStderr ?? '');
  if (log.devices.length > 0) found['gpu devices'] = log.devices.join(', ');
  const view = new LibraryView(p);

  // 4. NVIDIA driver.
  const gpus = p.nvidiaSmi ? parseNvidiaSmi(p.nvidiaSmi) : [];
  found['nvidia-smi'] = p.nvidiaSmi === undefined ? null : p.nvidiaSmi === null ? null : clip(p.nvidiaSmi, 300);
  found['gpu'] = gpus.length > 0 ? gpus.map((g) => g.name).join(', ') : null;
  found['driver'] = gpus[0]?.driver ?? null;
  const libcudaPath = view.visible.get(LIBCUDA.soname) ?? null;
  found[LIBCUDA.soname] = libcudaPath ?? (log.opened.has(LIBCUDA.soname) ? 'loaded' : null);
  const libcudaMissing =
    log.failed.has(LIBCUDA.soname) || (view.known && !libcudaPath && !log.opened.has(LIBCUDA.soname));
  const smiFailed = typeof p.nvidiaSmi === 'string' && gpus.length === 0;

  const gpuRunning = log.devices.length > 0;
  if (!gpuRunning) {
    if (
      smiFailed &&
      /couldn't communicate with the NVIDIA driver|NVIDIA-SMI has failed|No devices were found|Driver\/library version mismatch/i.test(
        p.nvidiaSmi ?? '',
      )
    ) {
      problem('driver-not-running', `nvidia-smi cannot reach the NVIDIA driver: ${clip(p.nvidiaSmi ?? '', 160)}`);
      fix(
        'Load or repair the NVIDIA kernel driver (reboot after a driver upgrade; `sudo modprobe nvidia`); inside Docker start the container with `--gpus all` and the NVIDIA Container Toolkit.',
      );
    } else if ((p.nvidiaSmi === null || smiFailed) && (libcudaMissing || !view.known)) {
      problem(
        'no-driver',
        `No NVIDIA driver found: ${p.nvidiaSmi === null ? 'nvidia-smi is not on PATH' : 'nvidia-smi lists no GPU'}${view.known ? ` and ${LIBCUDA.soname} is not in the loader cache` : ''}.`,
      );
      fix(
        `Install the NVIDIA driver ${CUDA_REQUIREMENTS.minDriver} or newer (e.g. \`sudo ubuntu-drivers install\`) and reboot; without an NVIDIA GPU use the wasm rung.`,
      );
    } else if (libcudaMissing) {
      problem(
        'no-driver',
        `${LIBCUDA.soname} (the NVIDIA driver's CUDA library) is not on the loader path, so TensorFlow cannot talk to the GPU.`,
      );
      fix(
        `Install the driver's CUDA library (e.g. \`sudo apt-get install libnvidia-compute-<driver major>\`) or, in a container, run with \`--gpus all\` so ${LIBCUDA.soname} is mounted.`,
      );
    } else if (p.nvidiaSmi === null) {
      warnings.push(`nvidia-smi is not on PATH, but ${LIBCUDA.soname} was found; the driver is probably installed.`);
    }
    const first = gpus[0];
    if (first && compareVersions(first.driver, CUDA_REQUIREMENTS.minDriver) < 0) {
      problem(
        'driver-too-old',
        `NVIDIA driver ${first.driver} is too old for CUDA ${CUDA_REQUIREMENTS.cuda}; it needs ${CUDA_REQUIREMENTS.minDriver} or newer.`,
      );
      fix(
        `Upgrade the NVIDIA driver to ${CUDA_REQUIREMENTS.recommendedDriver} or newer (any newer driver, e.g. 535 or 550, also runs CUDA 11.2 programs).`,
      );
    }
    if (log.cuInitError) {
      problem('cuda-init-failed', `TensorFlow's call to cuInit failed: ${clip(log.cuInitError, 160)}.`);
      if (/NO_DEVICE/.test(log.cuInitError)) {
        fix('Make the GPU visible: unset CUDA_VISIBLE_DEVICES (or set it to 0) and, in Docker, pass `--gpus all`.');
      } else {
        fix(
          'Check that `nvidia-smi` works for this user and that the driver and its libcuda.so.1 are the same version (reboot after a driver upgrade).',
        );
      }
    }
  }

  // 5. CUDA 11.2 / cuDNN 8 libraries.
  // With a TensorFlow log that mentions library loads, trust it; otherwise use the loader view.
  const tfLogHasLoads = log.opened.size > 0 || log.failed.size > 0;
  const missing: RequiredLib[] = [];
  const broken: { lib: RequiredLib; err: string }[] = [];
  for (const lib of [...CUDA11_LIBS, CUDNN8]) {
    const path = view.visible.get(lib.soname);
    const err = log.failed.get(lib.soname);
    found[lib.soname] = path ?? (log.opened.has(lib.soname) ? 'loaded' : null);
    const all = view.family(lib.family);
    found[`${lib.family}*`] = all.length > 0 ? all.join(', ') : null;
    if (gpuRunning || log.opened.has(lib.soname)) continue;
    if (err !== undefined) {
      // A dlerror about the library itself means it is absent; anything else
      // (a missing dependency, a symbol version) means the file is there but unusable.
      if (err.startsWith(`${lib.soname}: cannot open shared object file`)) missing.push(lib);
      else broken.push({ lib, err });
    } else if (!tfLogHasLoads && view.known && !path) {
      missing.push(lib);
    }
  }

  const offPathDirs = (libs: readonly RequiredLib[]): string[] => {
    const dirs = new Set<string>();
    for (const l of libs) for (const d of view.elsewhere.get(l.soname) ?? []) dirs.add(d);
    return [...dirs];
  };
  const others = (lib: RequiredLib): string[] => view.family(lib.family).filter((n) => n !== lib.soname);
  const why = (libs: readonly RequiredLib[]): string => {
    const dirs = offPathDirs(libs);
    if (dirs.length > 0)
      return `installed in ${dirs.join(', ')}, which is not on LD_LIBRARY_PATH or in the ldconfig cache`;
    const seen = libs.flatMap(others);
    if (seen.length > 0) return `found only ${seen.join(', ')}`;
    return libs.length > 1 ? 'no version of them was found' : 'no version of it was found';
  };

  const cudart = missing.find((l) => l.soname === 'libcudart.so.11.0');
  const toolkitMissing = missing.filter((l) => l !== CUDNN8 && l !== cudart);
  const cudnnMissing = missing.includes(CUDNN8);

  if (cudart) {
    const newer = Math.max(0, ...others(cudart).map((n) => Number(majorOf(n, cudart.family)) || 0));
    problem(
      'cudart-11-missing',
      `libcudart.so.11.0 (CUDA 11 runtime) cannot be loaded: ${why([cudart])}${newer >= 12 ? `; tfjs-node-gpu ${CUDA_REQUIREMENTS.tfjsNodeGpu} (libtensorflow ${CUDA_REQUIREMENTS.libtensorflow}) is built for CUDA ${CUDA_REQUIREMENTS.cuda} and cannot use CUDA ${newer}` : ''}.`,
    );
  }
  if (toolkitMissing.length > 0) {
    problem(
      'cuda11-libs-missing',
      `CUDA 11 math libraries cannot be loaded: ${toolkitMissing.map((l) => l.soname).join(', ')} (${why(toolkitMissing)}).`,
    );
  }
  if (cudnnMissing) {
    const newer = Math.max(0, ...others(CUDNN8).map((n) => Number(majorOf(n, CUDNN8.family)) || 0));
    problem(
      'cudnn-8-missing',
      `libcudnn.so.8 (cuDNN 8) cannot be loaded: ${why([CUDNN8])}${newer >= 9 ? `; libtensorflow ${CUDA_REQUIREMENTS.libtensorflow} needs cuDNN ${CUDA_REQUIREMENTS.cudnn} and cannot use cuDNN ${newer}` : ''}.`,
    );
  }
  for (const b of broken) {
    problem(
      'cuda-lib-broken',
      `${b.lib.soname} was found but does not load (dlerror: ${clip(b.err, 120)}); it is probably a renamed or symlinked CUDA 12 / cuDNN 9 file.`,
    );
  }

  const dirsToAdd = offPathDirs(missing);
  if (dirsToAdd.length > 0) {
    fix(
      `Add the folders that already hold them to the loader path: \`export LD_LIBRARY_PATH=${dirsToAdd.join(':')}:$LD_LIBRARY_PATH\` before starting the trainer.`,
    );
  }
  const stillMissing = missing.filter((l) => (view.elsewhere.get(l.soname) ?? []).length === 0);
  const toolkitLibs = [...stillMissing, ...broken.map((b) => b.lib)].filter((l) => l !== CUDNN8);
  const needToolkit = toolkitLibs.length > 0;
  const aptPackages = CUDA11_LIBS.filter((l) => toolkitLibs.includes(l))
    .map((l) => l.apt)
    .filter((a, i, all) => all.indexOf(a) === i);
  const needCudnn = stillMissing.includes(CUDNN8) || broken.some((b) => b.lib === CUDNN8);
  if (needToolkit) {
    fix(
      `Install the CUDA ${CUDA_REQUIREMENTS.cuda} runtime next to any newer CUDA: from NVIDIA's CUDA apt repository \`sudo apt-get install ${aptPackages.join(' ')}\`, or the cuda_11.2.2_460.32.03_linux.run runfile with \`--silent --toolkit --installpath=/usr/local/cuda-11.2\`.`,
    );
  }
  if (needCudnn) {
    fix(
      `Install cuDNN ${CUDA_REQUIREMENTS.cudnn} for CUDA 11.2 side by side with any cuDNN 9: \`${APT_CUDNN8}\`, or unpack cudnn-11.2-linux-x64-v8.1.1.33.tgz into /usr/local/cuda-11.2.`,
    );
  }
  if (needToolkit || needCudnn) {
    fix(
      'Then put the CUDA 11.2 libraries on the loader path: `export LD_LIBRARY_PATH=/usr/local/cuda-11.2/lib64:$LD_LIBRARY_PATH` (apt packages also register them with ldconfig).',
    );
    fix(
      'Do not symlink CUDA 12 / cuDNN 9 files to the .11 / .8 names: the ABIs differ and TensorFlow fails later or crashes.',
    );
    fix(FIX_DOCKER);
  }

  // 6. TensorFlow said it skipped the GPU but we could not tell why.
  if (
    !gpuRunning &&
    log.skippedGpu &&
    missing.length === 0 &&
    broken.length === 0 &&
    !codes.some((c) => c.startsWith('no-driver') || c === 'driver-not-running' || c === 'cuda-init-failed')
  ) {
    problem(
      'gpu-not-registered',
      'TensorFlow printed "Cannot dlopen some GPU libraries" and registered no GPU device.',
    );
    fix(
      `Read the "Could not load dynamic library" lines above it and install the CUDA ${CUDA_REQUIREMENTS.cuda} / cuDNN ${CUDA_REQUIREMENTS.cudnn} library each one names.`,
    );
  }

  librariesChecked = view.known || tfLogHasLoads || gpuRunning;
  if (!librariesChecked && problems.length === 0) {
    warnings.push('Could not check the CUDA libraries (no ldconfig output and no TensorFlow log).');
  }
  if (log.ptxasMissing) {
    warnings.push(
      'TensorFlow is "Relying on driver to perform ptx compilation": the first run JIT-compiles kernels; put a CUDA bin folder with ptxas on PATH (e.g. /usr/local/cuda/bin) to silence it.',
    );
  }
  if (problems.length > 0) fix(FIX_OTHER_RUNG);
  return finish();
}

/** Multi-line text for the CLI. */
export function formatCudaDiagnosis(d: CudaDiagnosis): string {
  const lines = [d.summary];
  if (d.problems.length > 0) lines.push('Problems:', ...d.problems.map((s) => `  - ${s}`));
  if (d.fixes.length > 0) lines.push('Fixes:', ...d.fixes.map((s) => `  - ${s}`));
  if (d.warnings.length > 0) lines.push('Notes:', ...d.warnings.map((s) => `  - ${s}`));
  const facts = Object.entries(d.found).map(([k, v]) => `  ${k}: ${v ?? '(not found)'}`);
  if (facts.length > 0) lines.push('Found:', ...facts);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// probeCuda: gathers facts, never throws
// ---------------------------------------------------------------------------

export interface ProbeCudaOptions {
  /** Folder to resolve the package from (default: process.cwd()). */
  cwd?: string;
  /**
   * Load tfjs-node-gpu in a child Node process and run one op, to capture
   * TensorFlow's start-up log (default: true when the package is installed).
   */
  loadPackage?: boolean;
  /** Timeout for each quick command, ms (default 5000). */
  timeoutMs?: number;
  /** Timeout for loading the package in the child process, ms (default 60000). */
  loadTimeoutMs?: number;
  /** Environment to read LD_LIBRARY_PATH from and pass to children (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

interface RunResult {
  /** false when the executable was not found. */
  found: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<RunResult> {
  return new Promise((resolve) => {
    try {
      execFile(
        cmd,
        args,
        { timeout: opts.timeoutMs, env: opts.env, cwd: opts.cwd, maxBuffer: 16 * 1024 * 1024, windowsHide: true },
        (err, stdout, stderr) => {
          const out = String(stdout ?? '');
          const errText = String(stderr ?? '');
          if (!err) return resolve({ found: true, code: 0, stdout: out, stderr: errText });
          const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string };
          if (e.code === 'ENOENT') return resolve({ found: false, code: null, stdout: out, stderr: errText });
          const code = typeof e.code === 'number' ? e.code : null;
          const why = e.killed
            ? `timed out after ${opts.timeoutMs} ms`
            : e.signal
              ? `killed by ${e.signal}`
              : e.message;
          resolve({ found: true, code, stdout: out, stderr: errText, error: why });
        },
      );
    } catch (e) {
      resolve({ found: false, code: null, stdout: '', stderr: '', error: e instanceof Error ? e.message : String(e) });
    }
  });
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function resolvePackageDir(cwd: string): string | undefined {
  const req = createRequire(join(cwd, 'noop.js'));
  try {
    return dirname(req.resolve(`${TFJS_NODE_GPU}/package.json`));
  } catch {
    /* package.json may not be exported; try the main entry */
  }
  try {
    let dir = dirname(req.resolve(TFJS_NODE_GPU));
    for (let i = 0; i < 6; i++) {
      const pj = join(dir, 'package.json');
      if (existsSync(pj)) {
        const name = (JSON.parse(readFileSync(pj, 'utf8')) as { name?: unknown }).name;
        if (name === TFJS_NODE_GPU) return dir;
      }
      dir = dirname(dir);
    }
  } catch {
    /* not installed */
  }
  return undefined;
}

/** Folders that usually hold CUDA toolkits, whether or not they are on the loader path. */
function toolkitDirs(): string[] {
  const dirs: string[] = [];
  for (const entry of safeReaddir('/usr/local')) {
    if (!/^cuda(-\d+(\.\d+)*)?$/.test(entry)) continue;
    dirs.push(`/usr/local/${entry}/lib64`);
    for (const t of safeReaddir(`/usr/local/${entry}/targets`)) dirs.push(`/usr/local/${entry}/targets/${t}/lib`);
  }
  return dirs;
}

const CHILD_SCRIPT = `
const path = process.env.CAMD_TFJS_NODE_GPU_PATH;
try {
  const tf = require(path);
  const t = tf.tensor1d([1, 2, 3]).add(1);
  t.dataSync();
  process.stdout.write('\\nCAMD_RESULT ' + JSON.stringify({ ok: true, backend: tf.getBackend() }) + '\\n');
} catch (e) {
  process.stdout.write('\\nCAMD_RESULT ' + JSON.stringify({ ok: false, error: String(e && e.message || e) }) + '\\n');
  process.exitCode = 1;
}
`;

/** Gathers the facts `diagnoseCuda` needs. Never throws; missing tools are fine. */
export async function probeCuda(options: ProbeCudaOptions = {}): Promise<CudaProbe> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const timeoutMs = options.timeoutMs ?? 5000;
  const probe: CudaProbe = { platform: process.platform, arch: process.arch, packageInstalled: false };
  try {
    if (env['LD_LIBRARY_PATH'] !== undefined) probe.ldLibraryPath = env['LD_LIBRARY_PATH'];

    // Package and its native parts.
    const pkgDir =
      resolvePackageDir(cwd) ?? (options.cwd === undefined ? findOptional(TFJS_NODE_GPU, env)?.dir : undefined);
    if (pkgDir) {
      probe.packageInstalled = true;
      probe.packageDir = pkgDir;
      try {
        const v = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version?: unknown }).version;
        if (typeof v === 'string') probe.packageVersion = v;
      } catch {
        /* unreadable package.json */
      }
      const libFiles = safeReaddir(join(pkgDir, 'deps', 'lib'));
      probe.libtensorflowPresent = libFiles.some((f) => /^libtensorflow\.(so|dylib)(\.|$)|^tensorflow\.dll$/.test(f));
      probe.bindingPresent = safeReaddir(join(pkgDir, 'lib')).some(
        (d) => /^napi-v\d+$/.test(d) && existsSync(join(pkgDir, 'lib', d, 'tfjs_binding.node')),
      );
    }

    const tasks: Promise<void>[] = [];

    // Loader cache and library folders (Linux).
    if (probe.platform === 'linux') {
      tasks.push(
        (async () => {
          for (const cmd of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
            const r = await run(cmd, ['-p'], { timeoutMs, env });
            if (r.found && r.code === 0) {
              probe.ldconfig = r.stdout;
              return;
            }
          }
        })(),
      );
      const dirs = [...new Set([...splitPath(probe.ldLibraryPath), ...toolkitDirs()])];
      const libraryDirs: Record<string, string[]> = {};
      for (const dir of dirs) {
        const files = safeReaddir(dir).filter((f) => CUDA_LIB_FILE.test(f));
        libraryDirs[dir] = files;
      }
      probe.libraryDirs = libraryDirs;
    }

    // NVIDIA driver.
    tasks.push(
      (async () => {
        const r = await run('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], {
          timeoutMs,
          env,
        });
        if (!r.found) probe.nvidiaSmi = null;
        else if (r.code === 0) probe.nvidiaSmi = r.stdout.trim();
        else probe.nvidiaSmi = [r.stdout.trim(), r.stderr.trim(), r.error ?? ''].filter((s) => s.length > 0).join(' ');
      })(),
    );

    // Load the package in a child process to capture TensorFlow's log.
    if (probe.packageInstalled && probe.packageDir && (options.loadPackage ?? true)) {
      const pkgDir = probe.packageDir;
      tasks.push(
        (async () => {
          const r = await run(process.execPath, ['-e', CHILD_SCRIPT], {
            timeoutMs: options.loadTimeoutMs ?? 60_000,
            env: { ...env, CAMD_TFJS_NODE_GPU_PATH: pkgDir, TF_CPP_MIN_LOG_LEVEL: '0' },
            cwd,
          });
          probe.tfStderr = r.stderr;
          const m = /CAMD_RESULT (\{.*\})/.exec(r.stdout);
          let result: { ok?: unknown; error?: unknown } | undefined;
          try {
            result = m?.[1] ? (JSON.parse(m[1]) as { ok?: unknown; error?: unknown }) : undefined;
          } catch {
            result = undefined;
          }
          if (result?.ok === true) return;
          if (typeof result?.error === 'string') probe.loadError = result.error;
          else
            probe.loadError =
              r.error ??
              (clip(
                r.stderr
                  .split('\n')
                  .filter((l) => /Error/.test(l))
                  .join(' '),
              ) ||
                'the child process loading it failed');
        })(),
      );
    }

    await Promise.all(tasks.map((t) => t.catch(() => undefined)));
  } catch {
    /* never throw: return what we have */
  }
  return probe;
}
