/**
 * The facts `diagnoseCuda` reads about a machine (a `CudaProbe`, which `probeCuda` gathers) and the
 * parsers of the tools' output they come from: `ldconfig -p`, TensorFlow's start-up log and
 * `nvidia-smi`.
 */
import { delimiter } from 'node:path';

export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';

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

/** Compares dotted version numbers, e.g. driver versions: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The folders of a PATH-like variable, without trailing slashes. */
export function splitPath(p: string | undefined): string[] {
  return (p ?? '')
    .split(delimiter)
    .filter((d) => d.length > 0)
    .map((d) => d.replace(/\/+$/, ''));
}

/** One line of at most `n` characters. */
export function clip(s: string, n = 200): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 3)}...` : one;
}
