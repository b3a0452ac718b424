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
 * `probeCuda` (cuda-probe.ts) gathers those facts with child_process / fs and never throws.
 * Neither imports tfjs-node-gpu into this process.
 */
import {
  clip,
  compareVersions,
  parseLdconfig,
  parseNvidiaSmi,
  parseTfStderr,
  splitPath,
  TFJS_NODE_GPU,
  type CudaProbe,
  type NvidiaGpu,
  type TfLoadLog,
} from './cuda-facts.js';

export {
  parseLdconfig,
  parseNvidiaSmi,
  parseTfStderr,
  TFJS_NODE_GPU,
  type CudaProbe,
  type LdconfigEntry,
  type NvidiaGpu,
  type TfLoadLog,
} from './cuda-facts.js';
export { probeCuda, type ProbeCudaOptions } from './cuda-probe.js';

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

const APT_CUDNN8 = 'sudo apt-get install libcudnn8=8.1.1.33-1+cuda11.2';
const FIX_DOCKER =
  'Or run the trainer in the nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 image (docker run --gpus all ...), which already has CUDA 11.2 and cuDNN 8.1.';
const FIX_OTHER_RUNG =
  'Until then the trainer falls back to the next rung: @tensorflow/tfjs-node (native CPU), then wasm, then cpu.';

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

function majorOf(soname: string, prefix: string): string {
  return soname.slice(prefix.length).split('.')[0] ?? '';
}

// ---------------------------------------------------------------------------
// diagnoseCuda: pure
// ---------------------------------------------------------------------------

/** The diagnosis as its checks fill it in, in the order they run. */
class Findings {
  readonly problems: string[] = [];
  readonly fixes: string[] = [];
  readonly warnings: string[] = [];
  readonly codes: CudaProblemCode[] = [];
  readonly found: Record<string, string | null> = {};

  problem(code: CudaProblemCode, msg: string): void {
    this.codes.push(code);
    this.problems.push(msg);
  }

  /** A fix several problems call for is given once, where it first came up. */
  fix(msg: string): void {
    if (!this.fixes.includes(msg)) this.fixes.push(msg);
  }
}

/** The summary line, and the diagnosis as returned. */
function summarise(f: Findings, librariesChecked: boolean): CudaDiagnosis {
  const { problems, fixes, warnings, codes, found } = f;
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
}

/** 1. Platform: libtensorflow GPU builds exist for Linux x64 only. False on any other. */
function checkPlatform(p: CudaProbe, f: Findings): boolean {
  if (p.platform !== 'linux') {
    if (p.platform === 'darwin') {
      f.problem(
        'unsupported-platform',
        'macOS has no CUDA: tfjs-node-gpu installs the CPU-only libtensorflow there, so it never uses a GPU.',
      );
      f.fix(
        'On macOS use the wasm rung or @tensorflow/tfjs-node for native CPU speed; the CUDA rung needs Linux x64 with an NVIDIA GPU.',
      );
    } else if (p.platform === 'win32') {
      f.problem(
        'unsupported-platform',
        `The CUDA rung supports Linux x64 only (tfjs-node-gpu ${CUDA_REQUIREMENTS.tfjsNodeGpu} README: Linux GPU with CUDA ${CUDA_REQUIREMENTS.cuda} + cuDNN 8); this is Windows.`,
      );
      f.fix(
        `On Windows run the trainer inside WSL2 Ubuntu (the Windows NVIDIA driver exposes the GPU there) with CUDA ${CUDA_REQUIREMENTS.cuda} + cuDNN ${CUDA_REQUIREMENTS.cudnn} installed in WSL, or use the wasm rung.`,
      );
    } else {
      f.problem(
        'unsupported-platform',
        `No GPU build of libtensorflow ${CUDA_REQUIREMENTS.libtensorflow} exists for ${p.platform}; the CUDA rung needs Linux x64.`,
      );
      f.fix('Use the wasm rung on this platform.');
    }
    return false;
  }
  if (p.arch !== 'x64') {
    f.problem(
      'unsupported-arch',
      `No GPU build of libtensorflow ${CUDA_REQUIREMENTS.libtensorflow} exists for linux-${p.arch} (npm install fails with "Unsupported system: gpu-linux-${p.arch}"); only linux-x64 is built.`,
    );
    f.fix('On this CPU architecture use the wasm rung; the CUDA rung needs an x86-64 Linux machine.');
    return false;
  }
  return true;
}

/** 2. The npm package and its native parts. */
function checkPackage(p: CudaProbe, f: Findings): void {
  const loadError = p.loadError ?? '';
  if (!p.packageInstalled) {
    f.problem(
      'package-missing',
      `${TFJS_NODE_GPU} is not installed (it is an optional dependency and is usually absent).`,
    );
    f.fix(
      `Run \`npm install ${TFJS_NODE_GPU}@${CUDA_REQUIREMENTS.tfjsNodeGpu}\` on this Linux x64 machine with network access; its install script downloads libtensorflow ${CUDA_REQUIREMENTS.libtensorflow} (GPU) from storage.googleapis.com.`,
    );
    return;
  }
  const libtfMissing =
    p.libtensorflowPresent === false ||
    /libtensorflow(_framework)?\.so(\.\d+)*: cannot open shared object file/.test(loadError);
  const bindingMissing =
    !libtfMissing &&
    (p.bindingPresent === false ||
      (/tfjs_binding\.node/.test(loadError) &&
        /can ?not be found|Cannot find module|could not be found/i.test(loadError)));
  if (libtfMissing) {
    f.problem(
      'libtensorflow-missing',
      `${TFJS_NODE_GPU} is installed but deps/lib/libtensorflow.so.2 is missing: its install script could not download libtensorflow ${CUDA_REQUIREMENTS.libtensorflow} (offline install?).`,
    );
  } else if (bindingMissing) {
    f.problem(
      'binding-missing',
      `${TFJS_NODE_GPU} is installed but its native binding lib/napi-v8/tfjs_binding.node is missing: the install script did not finish (offline install?).`,
    );
  }
  if (libtfMissing || bindingMissing) {
    f.fix(
      `With network access run \`npm rebuild ${TFJS_NODE_GPU}\`; it downloads libtensorflow-gpu-linux-x86_64-${CUDA_REQUIREMENTS.libtensorflow}.tar.gz and the binding again.`,
    );
    f.fix(
      `Offline: copy node_modules/${TFJS_NODE_GPU} from a Linux x64 machine where the install succeeded, or set TFJS_NODE_CDN_STORAGE to a local mirror that serves tensorflow/libtensorflow/libtensorflow-gpu-linux-x86_64-${CUDA_REQUIREMENTS.libtensorflow}.tar.gz before rebuilding.`,
    );
  } else if (loadError.length > 0 && !/cannot open shared object file/.test(loadError)) {
    f.problem('load-failed', `Loading ${TFJS_NODE_GPU} failed: ${clip(loadError)}`);
    f.fix(
      `Reinstall it with \`npm rebuild ${TFJS_NODE_GPU}\` and check that Node's N-API version is supported (Node 20 or 22 LTS).`,
    );
  }
}

/** What the driver checks read: nvidia-smi's GPUs and whether the driver's libcuda.so.1 can be loaded. */
interface DriverFacts {
  gpus: NvidiaGpu[];
  libcudaMissing: boolean;
  /** nvidia-smi ran and listed no GPU. */
  smiFailed: boolean;
}

/** 4. The NVIDIA driver's facts, recorded in `found`. */
function driverFacts(p: CudaProbe, log: TfLoadLog, view: LibraryView, found: Findings['found']): DriverFacts {
  const gpus = p.nvidiaSmi ? parseNvidiaSmi(p.nvidiaSmi) : [];
  found['nvidia-smi'] = p.nvidiaSmi === undefined ? null : p.nvidiaSmi === null ? null : clip(p.nvidiaSmi, 300);
  found['gpu'] = gpus.length > 0 ? gpus.map((g) => g.name).join(', ') : null;
  found['driver'] = gpus[0]?.driver ?? null;
  const libcudaPath = view.visible.get(LIBCUDA.soname) ?? null;
  found[LIBCUDA.soname] = libcudaPath ?? (log.opened.has(LIBCUDA.soname) ? 'loaded' : null);
  const libcudaMissing =
    log.failed.has(LIBCUDA.soname) || (view.known && !libcudaPath && !log.opened.has(LIBCUDA.soname));
  const smiFailed = typeof p.nvidiaSmi === 'string' && gpus.length === 0;
  return { gpus, libcudaMissing, smiFailed };
}

/** 4. The NVIDIA driver, when no GPU device came up: there, running, recent enough for CUDA 11.2. */
function checkDriver(p: CudaProbe, d: DriverFacts, view: LibraryView, f: Findings): void {
  const { gpus, libcudaMissing, smiFailed } = d;
  if (
    smiFailed &&
    /couldn't communicate with the NVIDIA driver|NVIDIA-SMI has failed|No devices were found|Driver\/library version mismatch/i.test(
      p.nvidiaSmi ?? '',
    )
  ) {
    f.problem('driver-not-running', `nvidia-smi cannot reach the NVIDIA driver: ${clip(p.nvidiaSmi ?? '', 160)}`);
    f.fix(
      'Load or repair the NVIDIA kernel driver (reboot after a driver upgrade; `sudo modprobe nvidia`); inside Docker start the container with `--gpus all` and the NVIDIA Container Toolkit.',
    );
  } else if ((p.nvidiaSmi === null || smiFailed) && (libcudaMissing || !view.known)) {
    f.problem(
      'no-driver',
      `No NVIDIA driver found: ${p.nvidiaSmi === null ? 'nvidia-smi is not on PATH' : 'nvidia-smi lists no GPU'}${view.known ? ` and ${LIBCUDA.soname} is not in the loader cache` : ''}.`,
    );
    f.fix(
      `Install the NVIDIA driver ${CUDA_REQUIREMENTS.minDriver} or newer (e.g. \`sudo ubuntu-drivers install\`) and reboot; without an NVIDIA GPU use the wasm rung.`,
    );
  } else if (libcudaMissing) {
    f.problem(
      'no-driver',
      `${LIBCUDA.soname} (the NVIDIA driver's CUDA library) is not on the loader path, so TensorFlow cannot talk to the GPU.`,
    );
    f.fix(
      `Install the driver's CUDA library (e.g. \`sudo apt-get install libnvidia-compute-<driver major>\`) or, in a container, run with \`--gpus all\` so ${LIBCUDA.soname} is mounted.`,
    );
  } else if (p.nvidiaSmi === null) {
    f.warnings.push(`nvidia-smi is not on PATH, but ${LIBCUDA.soname} was found; the driver is probably installed.`);
  }
  const first = gpus[0];
  if (first && compareVersions(first.driver, CUDA_REQUIREMENTS.minDriver) < 0) {
    f.problem(
      'driver-too-old',
      `NVIDIA driver ${first.driver} is too old for CUDA ${CUDA_REQUIREMENTS.cuda}; it needs ${CUDA_REQUIREMENTS.minDriver} or newer.`,
    );
    f.fix(
      `Upgrade the NVIDIA driver to ${CUDA_REQUIREMENTS.recommendedDriver} or newer (any newer driver, e.g. 535 or 550, also runs CUDA 11.2 programs).`,
    );
  }
}

/** 4. TensorFlow's call to cuInit, when it failed. */
function checkCuInit(log: TfLoadLog, f: Findings): void {
  if (!log.cuInitError) return;
  f.problem('cuda-init-failed', `TensorFlow's call to cuInit failed: ${clip(log.cuInitError, 160)}.`);
  if (/NO_DEVICE/.test(log.cuInitError)) {
    f.fix('Make the GPU visible: unset CUDA_VISIBLE_DEVICES (or set it to 0) and, in Docker, pass `--gpus all`.');
  } else {
    f.fix(
      'Check that `nvidia-smi` works for this user and that the driver and its libcuda.so.1 are the same version (reboot after a driver upgrade).',
    );
  }
}

/** The CUDA 11.2 / cuDNN 8 libraries that cannot be loaded: absent, or there but unusable. */
interface LibraryTrouble {
  missing: RequiredLib[];
  broken: { lib: RequiredLib; err: string }[];
}

/** 5. Finds each CUDA 11.2 / cuDNN 8 library (recorded in `found`) and those that cannot be loaded. */
function findLibraryTrouble(
  log: TfLoadLog,
  view: LibraryView,
  o: { gpuRunning: boolean; tfLogHasLoads: boolean },
  found: Findings['found'],
): LibraryTrouble {
  const missing: RequiredLib[] = [];
  const broken: { lib: RequiredLib; err: string }[] = [];
  for (const lib of [...CUDA11_LIBS, CUDNN8]) {
    const path = view.visible.get(lib.soname);
    const err = log.failed.get(lib.soname);
    found[lib.soname] = path ?? (log.opened.has(lib.soname) ? 'loaded' : null);
    const all = view.family(lib.family);
    found[`${lib.family}*`] = all.length > 0 ? all.join(', ') : null;
    if (o.gpuRunning || log.opened.has(lib.soname)) continue;
    if (err !== undefined) {
      // A dlerror about the library itself means it is absent; anything else
      // (a missing dependency, a symbol version) means the file is there but unusable.
      if (err.startsWith(`${lib.soname}: cannot open shared object file`)) missing.push(lib);
      else broken.push({ lib, err });
    } else if (!o.tfLogHasLoads && view.known && !path) {
      missing.push(lib);
    }
  }
  return { missing, broken };
}

/** Folders off the loader path that hold any of `libs`. */
function offPathDirs(view: LibraryView, libs: readonly RequiredLib[]): string[] {
  const dirs = new Set<string>();
  for (const l of libs) for (const d of view.elsewhere.get(l.soname) ?? []) dirs.add(d);
  return [...dirs];
}

/** The other versions of a library's family that were found, e.g. libcudart.so.12 beside a missing .11.0. */
function otherVersions(view: LibraryView, lib: RequiredLib): string[] {
  return view.family(lib.family).filter((n) => n !== lib.soname);
}

/** The newest major version of a library's family that was found (0 if none). */
function newestMajor(view: LibraryView, lib: RequiredLib): number {
  return Math.max(0, ...otherVersions(view, lib).map((n) => Number(majorOf(n, lib.family)) || 0));
}

/** Why `libs` cannot be loaded, in words. */
function whyMissing(view: LibraryView, libs: readonly RequiredLib[]): string {
  const dirs = offPathDirs(view, libs);
  if (dirs.length > 0)
    return `installed in ${dirs.join(', ')}, which is not on LD_LIBRARY_PATH or in the ldconfig cache`;
  const seen = libs.flatMap((l) => otherVersions(view, l));
  if (seen.length > 0) return `found only ${seen.join(', ')}`;
  return libs.length > 1 ? 'no version of them was found' : 'no version of it was found';
}

/** 5. One problem for the CUDA runtime, one for the math libraries, one for cuDNN, one for each broken file. */
function reportLibraryTrouble(t: LibraryTrouble, view: LibraryView, f: Findings): void {
  const { missing, broken } = t;
  const cudart = missing.find((l) => l.soname === 'libcudart.so.11.0');
  const toolkitMissing = missing.filter((l) => l !== CUDNN8 && l !== cudart);
  const cudnnMissing = missing.includes(CUDNN8);

  if (cudart) {
    const newer = newestMajor(view, cudart);
    f.problem(
      'cudart-11-missing',
      `libcudart.so.11.0 (CUDA 11 runtime) cannot be loaded: ${whyMissing(view, [cudart])}${newer >= 12 ? `; tfjs-node-gpu ${CUDA_REQUIREMENTS.tfjsNodeGpu} (libtensorflow ${CUDA_REQUIREMENTS.libtensorflow}) is built for CUDA ${CUDA_REQUIREMENTS.cuda} and cannot use CUDA ${newer}` : ''}.`,
    );
  }
  if (toolkitMissing.length > 0) {
    f.problem(
      'cuda11-libs-missing',
      `CUDA 11 math libraries cannot be loaded: ${toolkitMissing.map((l) => l.soname).join(', ')} (${whyMissing(view, toolkitMissing)}).`,
    );
  }
  if (cudnnMissing) {
    const newer = newestMajor(view, CUDNN8);
    f.problem(
      'cudnn-8-missing',
      `libcudnn.so.8 (cuDNN 8) cannot be loaded: ${whyMissing(view, [CUDNN8])}${newer >= 9 ? `; libtensorflow ${CUDA_REQUIREMENTS.libtensorflow} needs cuDNN ${CUDA_REQUIREMENTS.cudnn} and cannot use cuDNN ${newer}` : ''}.`,
    );
  }
  for (const b of broken) {
    f.problem(
      'cuda-lib-broken',
      `${b.lib.soname} was found but does not load (dlerror: ${clip(b.err, 120)}); it is probably a renamed or symlinked CUDA 12 / cuDNN 9 file.`,
    );
  }
}

/** 5. What to do: the folders to add to the loader path, then what to install. */
function fixLibraryTrouble(t: LibraryTrouble, view: LibraryView, f: Findings): void {
  const { missing, broken } = t;
  const dirsToAdd = offPathDirs(view, missing);
  if (dirsToAdd.length > 0) {
    f.fix(
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
    f.fix(
      `Install the CUDA ${CUDA_REQUIREMENTS.cuda} runtime next to any newer CUDA: from NVIDIA's CUDA apt repository \`sudo apt-get install ${aptPackages.join(' ')}\`, or the cuda_11.2.2_460.32.03_linux.run runfile with \`--silent --toolkit --installpath=/usr/local/cuda-11.2\`.`,
    );
  }
  if (needCudnn) {
    f.fix(
      `Install cuDNN ${CUDA_REQUIREMENTS.cudnn} for CUDA 11.2 side by side with any cuDNN 9: \`${APT_CUDNN8}\`, or unpack cudnn-11.2-linux-x64-v8.1.1.33.tgz into /usr/local/cuda-11.2.`,
    );
  }
  if (needToolkit || needCudnn) {
    f.fix(
      'Then put the CUDA 11.2 libraries on the loader path: `export LD_LIBRARY_PATH=/usr/local/cuda-11.2/lib64:$LD_LIBRARY_PATH` (apt packages also register them with ldconfig).',
    );
    f.fix(
      'Do not symlink CUDA 12 / cuDNN 9 files to the .11 / .8 names: the ABIs differ and TensorFlow fails later or crashes.',
    );
    f.fix(FIX_DOCKER);
  }
}

/** 6. TensorFlow said it skipped the GPU but we could not tell why. */
function checkGpuRegistered(log: TfLoadLog, t: LibraryTrouble, gpuRunning: boolean, f: Findings): void {
  if (
    !gpuRunning &&
    log.skippedGpu &&
    t.missing.length === 0 &&
    t.broken.length === 0 &&
    !f.codes.some((c) => c.startsWith('no-driver') || c === 'driver-not-running' || c === 'cuda-init-failed')
  ) {
    f.problem(
      'gpu-not-registered',
      'TensorFlow printed "Cannot dlopen some GPU libraries" and registered no GPU device.',
    );
    f.fix(
      `Read the "Could not load dynamic library" lines above it and install the CUDA ${CUDA_REQUIREMENTS.cuda} / cuDNN ${CUDA_REQUIREMENTS.cudnn} library each one names.`,
    );
  }
}

/** Non-blocking remarks: libraries left unchecked, ptxas missing. */
function addNotes(log: TfLoadLog, librariesChecked: boolean, f: Findings): void {
  if (!librariesChecked && f.problems.length === 0) {
    f.warnings.push('Could not check the CUDA libraries (no ldconfig output and no TensorFlow log).');
  }
  if (log.ptxasMissing) {
    f.warnings.push(
      'TensorFlow is "Relying on driver to perform ptx compilation": the first run JIT-compiles kernels; put a CUDA bin folder with ptxas on PATH (e.g. /usr/local/cuda/bin) to silence it.',
    );
  }
}

export function diagnoseCuda(p: CudaProbe): CudaDiagnosis {
  const f = new Findings();
  f.found['platform'] = `${p.platform}-${p.arch}`;
  f.found[TFJS_NODE_GPU] = p.packageInstalled ? (p.packageVersion ?? p.packageDir ?? 'installed') : null;
  f.found['LD_LIBRARY_PATH'] = p.ldLibraryPath && p.ldLibraryPath.length > 0 ? p.ldLibraryPath : null;

  if (!checkPlatform(p, f)) return summarise(f, true);
  checkPackage(p, f);

  // 3. Facts from TensorFlow's own start-up log, when we have it.
  const log = parseTfStderr(p.tfStderr ?? '');
  if (log.devices.length > 0) f.found['gpu devices'] = log.devices.join(', ');
  const view = new LibraryView(p);

  const driver = driverFacts(p, log, view, f.found);
  const gpuRunning = log.devices.length > 0;
  if (!gpuRunning) {
    checkDriver(p, driver, view, f);
    checkCuInit(log, f);
  }

  // With a TensorFlow log that mentions library loads, trust it; otherwise use the loader view.
  const tfLogHasLoads = log.opened.size > 0 || log.failed.size > 0;
  const trouble = findLibraryTrouble(log, view, { gpuRunning, tfLogHasLoads }, f.found);
  reportLibraryTrouble(trouble, view, f);
  fixLibraryTrouble(trouble, view, f);
  checkGpuRegistered(log, trouble, gpuRunning, f);

  const librariesChecked = view.known || tfLogHasLoads || gpuRunning;
  addNotes(log, librariesChecked, f);
  if (f.problems.length > 0) f.fix(FIX_OTHER_RUNG);
  return summarise(f, librariesChecked);
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
