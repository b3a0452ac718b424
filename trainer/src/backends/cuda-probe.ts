/**
 * `probeCuda`: gathers the facts `diagnoseCuda` needs with child_process / fs and never throws.
 * It does not import tfjs-node-gpu into this process: loading it happens in a child Node process.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { clip, splitPath, TFJS_NODE_GPU, type CudaProbe } from './cuda-facts.js';
import { findOptional } from './optional-packages.js';

const CUDA_LIB_FILE =
  /^lib(cuda|cudart|cublas|cublasLt|cufft|curand|cusolver|cusparse|cudnn|nvJitLink|nvrtc)\.so(\.\d+)*$/;

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

/** The installed package's version and whether its native parts are there. */
function probePackage(probe: CudaProbe, pkgDir: string): void {
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

/** The loader cache, from the first `ldconfig` that answers. */
async function readLdconfig(probe: CudaProbe, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<void> {
  for (const cmd of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const r = await run(cmd, ['-p'], { timeoutMs, env });
    if (r.found && r.code === 0) {
      probe.ldconfig = r.stdout;
      return;
    }
  }
}

/** The CUDA library files in each folder of the loader path and of the usual toolkit folders. */
function cudaLibraryDirs(ldLibraryPath: string | undefined): Record<string, string[]> {
  const dirs = [...new Set([...splitPath(ldLibraryPath), ...toolkitDirs()])];
  const libraryDirs: Record<string, string[]> = {};
  for (const dir of dirs) {
    const files = safeReaddir(dir).filter((f) => CUDA_LIB_FILE.test(f));
    libraryDirs[dir] = files;
  }
  return libraryDirs;
}

/** The NVIDIA driver as nvidia-smi reports it: its GPUs, its error text, or null when it is not there. */
async function queryNvidiaSmi(probe: CudaProbe, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<void> {
  const r = await run('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], {
    timeoutMs,
    env,
  });
  if (!r.found) probe.nvidiaSmi = null;
  else if (r.code === 0) probe.nvidiaSmi = r.stdout.trim();
  else probe.nvidiaSmi = [r.stdout.trim(), r.stderr.trim(), r.error ?? ''].filter((s) => s.length > 0).join(' ');
}

/** Loads the package in a child process to capture TensorFlow's log, and why loading failed if it did. */
async function loadInChild(
  probe: CudaProbe,
  pkgDir: string,
  o: { timeoutMs: number; env: NodeJS.ProcessEnv; cwd: string },
): Promise<void> {
  const r = await run(process.execPath, ['-e', CHILD_SCRIPT], {
    timeoutMs: o.timeoutMs,
    env: { ...o.env, CAMD_TFJS_NODE_GPU_PATH: pkgDir, TF_CPP_MIN_LOG_LEVEL: '0' },
    cwd: o.cwd,
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
}

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
    if (pkgDir) probePackage(probe, pkgDir);

    const tasks: Promise<void>[] = [];

    // Loader cache and library folders (Linux).
    if (probe.platform === 'linux') {
      tasks.push(readLdconfig(probe, timeoutMs, env));
      probe.libraryDirs = cudaLibraryDirs(probe.ldLibraryPath);
    }

    // NVIDIA driver.
    tasks.push(queryNvidiaSmi(probe, timeoutMs, env));

    // Load the package in a child process to capture TensorFlow's log.
    if (probe.packageInstalled && probe.packageDir && (options.loadPackage ?? true)) {
      tasks.push(loadInChild(probe, probe.packageDir, { timeoutMs: options.loadTimeoutMs ?? 60_000, env, cwd }));
    }

    await Promise.all(tasks.map((t) => t.catch(() => undefined)));
  } catch {
    /* never throw: return what we have */
  }
  return probe;
}
