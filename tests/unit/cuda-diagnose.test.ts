import { existsSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import {
  diagnoseCuda,
  formatCudaDiagnosis,
  parseLdconfig,
  parseNvidiaSmi,
  parseTfStderr,
  probeCuda,
  REQUIRED_SONAMES,
  type CudaDiagnosis,
  type CudaProbe,
} from '../../trainer/src/backends/cuda-diagnose.js';

// ---------------------------------------------------------------------------
// Realistic fixtures: `ldconfig -p` excerpts and TensorFlow start-up logs of the
// kind reported in tensorflow/tfjs issues 8187, 8269, 8362 and 8505.
// ---------------------------------------------------------------------------

const LDCONFIG_BASE = [
  "612 libs found in cache `/etc/ld.so.cache'",
  '\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1',
  '\tlibstdc++.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libstdc++.so.6',
  '\tlibm.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libm.so.6',
];

const LDCONFIG_DRIVER = [
  '\tlibcuda.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcuda.so.1',
  '\tlibcuda.so (libc6,x86-64) => /lib/x86_64-linux-gnu/libcuda.so',
  '\tlibnvidia-ml.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libnvidia-ml.so.1',
];

/** CUDA 12.4 toolkit from NVIDIA's apt repository (note: its cuSOLVER is .11 and cuRAND .10). */
const LDCONFIG_CUDA12 = [
  '\tlibnvJitLink.so.12 (libc6,x86-64) => /usr/local/cuda/targets/x86_64-linux/lib/libnvJitLink.so.12',
  '\tlibcusparse.so.12 (libc6,x86-64) => /usr/local/cuda/targets/x86_64-linux/lib/libcusparse.so.12',
  '\tlibcusolver.so.11 (libc6,x86-64) => /usr/local/cuda/targets/x86_64-linux/lib/libcusolver.so.11',
  '\tlibcurand.so.10 (libc6,x86-64) => /usr/local/cuda/targets/x86_64-linux/lib/libcurand.so.10',
  '\tlibcufft.so.11 (libc6,x86-64) => /usr/local/cuda/targets/x86_64-linux/lib/libcufft.so.11',
  '\tlibcudart.so.12 (libc6,x86-64) => /usr/local/cuda/targets/x86_64-linux/lib/libcudart.so.12',
  '\tlibcudart.so (libc6,x86-64) => /usr/local/cuda/targets/x86_64-linux/lib/libcudart.so',
  '\tlibcublasLt.so.12 (libc6,x86-64) => /usr/local/cuda/targets/x86_64-linux/lib/libcublasLt.so.12',
  '\tlibcublas.so.12 (libc6,x86-64) => /usr/local/cuda/targets/x86_64-linux/lib/libcublas.so.12',
];

/** CUDA 11.2 runtime libraries registered with ldconfig. */
const LDCONFIG_CUDA112 = [
  '\tlibcusparse.so.11 (libc6,x86-64) => /usr/local/cuda-11.2/targets/x86_64-linux/lib/libcusparse.so.11',
  '\tlibcusolver.so.11 (libc6,x86-64) => /usr/local/cuda-11.2/targets/x86_64-linux/lib/libcusolver.so.11',
  '\tlibcurand.so.10 (libc6,x86-64) => /usr/local/cuda-11.2/targets/x86_64-linux/lib/libcurand.so.10',
  '\tlibcufft.so.10 (libc6,x86-64) => /usr/local/cuda-11.2/targets/x86_64-linux/lib/libcufft.so.10',
  '\tlibcudart.so.11.0 (libc6,x86-64) => /usr/local/cuda-11.2/targets/x86_64-linux/lib/libcudart.so.11.0',
  '\tlibcublasLt.so.11 (libc6,x86-64) => /usr/local/cuda-11.2/targets/x86_64-linux/lib/libcublasLt.so.11',
  '\tlibcublas.so.11 (libc6,x86-64) => /usr/local/cuda-11.2/targets/x86_64-linux/lib/libcublas.so.11',
];

const LDCONFIG_CUDNN9 = [
  '\tlibcudnn_ops.so.9 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcudnn_ops.so.9',
  '\tlibcudnn_graph.so.9 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcudnn_graph.so.9',
  '\tlibcudnn.so.9 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcudnn.so.9',
];

const LDCONFIG_CUDNN8 = [
  '\tlibcudnn_ops_infer.so.8 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn_ops_infer.so.8',
  '\tlibcudnn.so.8 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.8',
];

const ld = (...parts: string[][]): string => `${parts.flat().join('\n')}\n`;

/** The log of issue 8362: CUDA 12 installed, TensorFlow wants libcudart.so.11.0. */
const TF_LOG_CUDA12 = [
  "2024-08-24 22:24:04.039287: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such file or directory; LD_LIBRARY_PATH: /usr/local/cuda:/usr/local/cuda/lib64:",
  '2024-08-24 22:24:04.039313: I tensorflow/stream_executor/cuda/cudart_stub.cc:29] Ignore above cudart dlerror if you do not have a GPU set up on your machine.',
  "2024-08-24 22:24:04.101122: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcublas.so.11'; dlerror: libcublas.so.11: cannot open shared object file: No such file or directory",
  "2024-08-24 22:24:04.101150: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcublasLt.so.11'; dlerror: libcublasLt.so.11: cannot open shared object file: No such file or directory",
  "2024-08-24 22:24:04.101170: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcufft.so.10'; dlerror: libcufft.so.10: cannot open shared object file: No such file or directory",
  "2024-08-24 22:24:04.101301: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcusparse.so.11'; dlerror: libcusparse.so.11: cannot open shared object file: No such file or directory",
  "2024-08-24 22:24:04.101336: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file: No such file or directory",
  '2024-08-24 22:24:04.101344: W tensorflow/core/common_runtime/gpu/gpu_device.cc:1850] Cannot dlopen some GPU libraries. Please make sure the missing libraries mentioned above are installed properly if you would like to use GPU. Follow the guide at https://www.tensorflow.org/install/gpu for how to download and setup the required libraries for your platform.',
  'Skipping registering GPU devices...',
].join('\n');

/** The log of issue 8269: CUDA libs load, only cuDNN 8 is missing. */
const TF_LOG_CUDNN = [
  '2024-05-06 00:05:33.711121: I tensorflow/stream_executor/cuda/cuda_gpu_executor.cc:975] successful NUMA node read from SysFS had negative value (-1), but there must be at least one NUMA node, so returning NUMA node zero',
  "2024-05-06 00:05:33.767399: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file: No such file or directory",
  '2024-05-06 00:05:33.767416: W tensorflow/core/common_runtime/gpu/gpu_device.cc:1850] Cannot dlopen some GPU libraries. Please make sure the missing libraries mentioned above are installed properly if you would like to use GPU.',
  'Skipping registering GPU devices...',
].join('\n');

/** A working start: TensorFlow created the GPU device (ptxas warning as in issue 8505). */
const TF_LOG_OK = [
  '2025-01-27 10:00:01.000001: I tensorflow/core/platform/cpu_feature_guard.cc:193] This TensorFlow binary is optimized with oneAPI Deep Neural Network Library (oneDNN) to use the following CPU instructions in performance-critical operations:  AVX2 FMA',
  '2025-01-27 10:00:01.512345: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1616] Created device /job:localhost/replica:0/task:0/device:GPU:0 with 21655 MB memory:  -> device: 0, name: NVIDIA GeForce RTX 3090, pci bus id: 0000:01:00.0, compute capability: 8.6',
  '2025-01-27 10:00:02.100000: W tensorflow/stream_executor/gpu/asm_compiler.cc:111] *** WARNING *** You are using ptxas 10.1.243, which is older than 11.1. Relying on driver to perform ptx compilation. Modify $PATH to customize ptxas location.',
].join('\n');

/** Linux x64 with the package installed and a working driver; override per case. */
function linuxProbe(over: Partial<CudaProbe> = {}): CudaProbe {
  return {
    platform: 'linux',
    arch: 'x64',
    packageInstalled: true,
    packageDir: '/app/node_modules/@tensorflow/tfjs-node-gpu',
    packageVersion: '4.22.0',
    libtensorflowPresent: true,
    bindingPresent: true,
    nvidiaSmi: 'NVIDIA GeForce RTX 4090, 550.90.07',
    ldLibraryPath: '',
    ...over,
  };
}

function expectOneLineEach(d: CudaDiagnosis): void {
  for (const s of [d.summary, ...d.problems, ...d.fixes, ...d.warnings]) {
    expect(s).not.toMatch(/\n/);
    expect(s.length).toBeGreaterThan(0);
  }
  expect(d.codes.length).toBe(d.problems.length);
}

// ---------------------------------------------------------------------------

describe('parsers', () => {
  it('parseLdconfig keeps entries of the requested arch only', () => {
    const text = ld(LDCONFIG_BASE, [
      '\tlibcuda.so.1 (libc6) => /usr/lib/i386-linux-gnu/libcuda.so.1',
      '\tlibcudart.so.12 (libc6,x86-64) => /usr/local/cuda/lib64/libcudart.so.12',
    ]);
    const x64 = parseLdconfig(text, 'x64').map((e) => e.soname);
    expect(x64).toContain('libcudart.so.12');
    expect(x64).toContain('libm.so.6');
    expect(x64).not.toContain('libcuda.so.1');
    expect(parseLdconfig(text, 'x64').find((e) => e.soname === 'libcudart.so.12')?.path).toBe(
      '/usr/local/cuda/lib64/libcudart.so.12',
    );
  });

  it('parseTfStderr reads dlerror lines, device creation and warnings', () => {
    const log = parseTfStderr(TF_LOG_CUDA12);
    expect(log.failed.get('libcudart.so.11.0')).toBe(
      'libcudart.so.11.0: cannot open shared object file: No such file or directory',
    );
    expect([...log.failed.keys()]).toContain('libcudnn.so.8');
    expect(log.skippedGpu).toBe(true);
    expect(log.devices).toEqual([]);
    const ok = parseTfStderr(TF_LOG_OK);
    expect(ok.devices).toEqual(['NVIDIA GeForce RTX 3090']);
    expect(ok.ptxasMissing).toBe(true);
  });

  it('parseNvidiaSmi reads name and driver per GPU', () => {
    expect(parseNvidiaSmi('NVIDIA H100 80GB HBM3, 550.54.15\nNVIDIA H100 80GB HBM3, 550.54.15\n')).toEqual([
      { name: 'NVIDIA H100 80GB HBM3', driver: '550.54.15' },
      { name: 'NVIDIA H100 80GB HBM3', driver: '550.54.15' },
    ]);
    expect(parseNvidiaSmi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")).toEqual([]);
  });

  it('lists every soname libtensorflow 2.9.1 GPU dlopens', () => {
    expect(REQUIRED_SONAMES).toEqual([
      'libcuda.so.1',
      'libcudart.so.11.0',
      'libcublas.so.11',
      'libcublasLt.so.11',
      'libcufft.so.10',
      'libcurand.so.10',
      'libcusolver.so.11',
      'libcusparse.so.11',
      'libcudnn.so.8',
    ]);
  });
});

describe('diagnoseCuda: package and platform', () => {
  it('package not installed: says so and gives the npm install command', () => {
    const d = diagnoseCuda({
      platform: 'linux',
      arch: 'x64',
      packageInstalled: false,
      ldconfig: ld(LDCONFIG_BASE),
      nvidiaSmi: null,
    });
    expect(d.usable).toBe(false);
    expect(d.codes[0]).toBe('package-missing');
    expect(d.summary).toMatch(/@tensorflow\/tfjs-node-gpu is not installed/);
    expect(d.fixes.join(' ')).toMatch(/npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/);
    expect(d.fixes.join(' ')).toMatch(/libtensorflow 2\.9\.1/);
    // It still reports the rest of the machine in the same pass.
    expect(d.codes).toContain('no-driver');
    expect(d.found['@tensorflow/tfjs-node-gpu']).toBeNull();
    expectOneLineEach(d);
  });

  it('libtensorflow missing after an offline install', () => {
    const d = diagnoseCuda(
      linuxProbe({
        libtensorflowPresent: false,
        loadError: 'libtensorflow.so.2: cannot open shared object file: No such file or directory',
        ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, LDCONFIG_CUDA112, LDCONFIG_CUDNN8),
      }),
    );
    expect(d.usable).toBe(false);
    expect(d.codes).toEqual(['libtensorflow-missing']);
    expect(d.problems[0]).toMatch(/deps\/lib\/libtensorflow\.so\.2 is missing/);
    expect(d.fixes.join(' ')).toMatch(/npm rebuild @tensorflow\/tfjs-node-gpu/);
    expect(d.fixes.join(' ')).toMatch(/libtensorflow-gpu-linux-x86_64-2\.9\.1\.tar\.gz/);
    expectOneLineEach(d);
  });

  it('libtensorflow missing, known only from the load error', () => {
    const d = diagnoseCuda(
      linuxProbe({
        libtensorflowPresent: undefined,
        loadError: 'libtensorflow.so.2: cannot open shared object file: No such file or directory',
      }),
    );
    expect(d.codes[0]).toBe('libtensorflow-missing');
  });

  it('native binding missing', () => {
    const d = diagnoseCuda(
      linuxProbe({
        bindingPresent: false,
        loadError:
          'The Node.js native addon module (tfjs_binding.node) can not be found at path: /app/node_modules/@tensorflow/tfjs-node-gpu/lib/napi-v8/tfjs_binding.node',
        ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, LDCONFIG_CUDA112, LDCONFIG_CUDNN8),
      }),
    );
    expect(d.codes).toEqual(['binding-missing']);
    expect(d.fixes.join(' ')).toMatch(/npm rebuild/);
  });

  it('other load errors are reported verbatim on one line', () => {
    const d = diagnoseCuda(
      linuxProbe({
        loadError:
          "Error: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.29' not found\n    at Module._extensions..node",
        ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, LDCONFIG_CUDA112, LDCONFIG_CUDNN8),
      }),
    );
    expect(d.codes).toEqual(['load-failed']);
    expect(d.problems[0]).toMatch(/GLIBC_2\.29/);
    expectOneLineEach(d);
  });

  it('Windows has no GPU build for this rung', () => {
    const d = diagnoseCuda({ platform: 'win32', arch: 'x64', packageInstalled: false });
    expect(d.usable).toBe(false);
    expect(d.codes).toEqual(['unsupported-platform']);
    expect(d.fixes.join(' ')).toMatch(/WSL2/);
    expect(d.fixes.join(' ')).toMatch(/wasm rung/);
    expectOneLineEach(d);
  });

  it('macOS has no CUDA', () => {
    const d = diagnoseCuda({ platform: 'darwin', arch: 'arm64', packageInstalled: true });
    expect(d.codes).toEqual(['unsupported-platform']);
    expect(d.problems[0]).toMatch(/macOS has no CUDA/);
  });

  it('Linux arm64 has no GPU libtensorflow', () => {
    const d = diagnoseCuda({ platform: 'linux', arch: 'arm64', packageInstalled: false });
    expect(d.codes).toEqual(['unsupported-arch']);
    expect(d.problems[0]).toMatch(/gpu-linux-arm64/);
  });
});

describe('diagnoseCuda: driver', () => {
  it('no NVIDIA driver: no nvidia-smi and no libcuda.so.1', () => {
    const d = diagnoseCuda(
      linuxProbe({ nvidiaSmi: null, ldconfig: ld(LDCONFIG_BASE, LDCONFIG_CUDA112, LDCONFIG_CUDNN8) }),
    );
    expect(d.usable).toBe(false);
    expect(d.codes).toEqual(['no-driver']);
    expect(d.problems[0]).toMatch(/nvidia-smi is not on PATH and libcuda\.so\.1 is not in the loader cache/);
    expect(d.fixes.join(' ')).toMatch(/450\.80\.02/);
    expect(d.found['libcuda.so.1']).toBeNull();
  });

  it('an i386-only libcuda.so.1 does not count on x64', () => {
    const d = diagnoseCuda(
      linuxProbe({
        nvidiaSmi: null,
        ldconfig: ld(
          LDCONFIG_BASE,
          ['\tlibcuda.so.1 (libc6) => /usr/lib/i386-linux-gnu/libcuda.so.1'],
          LDCONFIG_CUDA112,
          LDCONFIG_CUDNN8,
        ),
      }),
    );
    expect(d.codes).toEqual(['no-driver']);
  });

  it('driver installed but not running', () => {
    const d = diagnoseCuda(
      linuxProbe({
        nvidiaSmi:
          "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
        ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, LDCONFIG_CUDA112, LDCONFIG_CUDNN8),
      }),
    );
    expect(d.codes).toEqual(['driver-not-running']);
  });

  it('driver too old for CUDA 11.2', () => {
    const d = diagnoseCuda(
      linuxProbe({
        nvidiaSmi: 'Tesla K80, 418.87.01',
        ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, LDCONFIG_CUDA112, LDCONFIG_CUDNN8),
      }),
    );
    expect(d.codes).toEqual(['driver-too-old']);
    expect(d.found['driver']).toBe('418.87.01');
    expect(d.found['gpu']).toBe('Tesla K80');
  });

  it('nvidia-smi missing from PATH but libcuda.so.1 present is only a note', () => {
    const d = diagnoseCuda(
      linuxProbe({ nvidiaSmi: null, ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, LDCONFIG_CUDA112, LDCONFIG_CUDNN8) }),
    );
    expect(d.usable).toBe(true);
    expect(d.warnings.join(' ')).toMatch(/nvidia-smi is not on PATH/);
  });
});

describe('diagnoseCuda: CUDA / cuDNN libraries', () => {
  it('CUDA 12 only: libcudart.so.11.0 and the CUDA 11 cuBLAS/cuFFT/cuSPARSE are missing', () => {
    const d = diagnoseCuda(
      linuxProbe({ ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, LDCONFIG_CUDA12, LDCONFIG_CUDNN8) }),
    );
    expect(d.usable).toBe(false);
    expect(d.codes).toEqual(['cudart-11-missing', 'cuda11-libs-missing']);
    expect(d.problems[0]).toMatch(/libcudart\.so\.11\.0 .*found only libcudart\.so\.12/);
    expect(d.problems[0]).toMatch(/cannot use CUDA 12/);
    // CUDA 12 ships libcusolver.so.11 and libcurand.so.10, so those are not reported.
    expect(d.problems[1]).toMatch(/libcublas\.so\.11, libcublasLt\.so\.11, libcufft\.so\.10, libcusparse\.so\.11/);
    expect(d.problems[1]).not.toMatch(/libcusolver|libcurand\.so\.10/);
    expect(d.found['libcudart.so.*']).toBe('libcudart.so.12');
    expect(d.found['libcudart.so.11.0']).toBeNull();
    expect(d.found['libcusolver.so.11']).toBe('/usr/local/cuda/targets/x86_64-linux/lib/libcusolver.so.11');
    const fixes = d.fixes.join(' ');
    // Only the packages for what is missing (libcublas-11-2 provides both cuBLAS sonames).
    expect(fixes).toMatch(/`sudo apt-get install cuda-cudart-11-2 libcublas-11-2 libcufft-11-2 libcusparse-11-2`/);
    expect(fixes).toMatch(/export LD_LIBRARY_PATH=\/usr\/local\/cuda-11\.2\/lib64:\$LD_LIBRARY_PATH/);
    expect(fixes).not.toMatch(/libcudnn8=/);
    expectOneLineEach(d);
  });

  it('cuDNN 9 only: libcudnn.so.8 is missing', () => {
    const d = diagnoseCuda(
      linuxProbe({ ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, LDCONFIG_CUDA112, LDCONFIG_CUDNN9) }),
    );
    expect(d.codes).toEqual(['cudnn-8-missing']);
    expect(d.problems[0]).toMatch(/libcudnn\.so\.8 .*found only libcudnn\.so\.9/);
    expect(d.problems[0]).toMatch(/cannot use cuDNN 9/);
    expect(d.found['libcudnn.so.*']).toBe('libcudnn.so.9');
    expect(d.fixes.join(' ')).toMatch(/libcudnn8=8\.1\.1\.33-1\+cuda11\.2/);
    expect(d.fixes.join(' ')).not.toMatch(/cuda-cudart-11-2/);
    expectOneLineEach(d);
  });

  it('CUDA 12 + cuDNN 9 machine: every mismatch is listed', () => {
    const d = diagnoseCuda(
      linuxProbe({ ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, LDCONFIG_CUDA12, LDCONFIG_CUDNN9) }),
    );
    expect(d.codes).toEqual(['cudart-11-missing', 'cuda11-libs-missing', 'cudnn-8-missing']);
    expect(d.fixes.some((f) => /Do not symlink/.test(f))).toBe(true);
    expect(d.fixes.some((f) => /nvidia\/cuda:11\.2\.2-cudnn8-runtime/.test(f))).toBe(true);
    expect(formatCudaDiagnosis(d)).toMatch(/Problems:\n {2}- libcudart\.so\.11\.0/);
  });

  it('cuBLAS 11 missing while the CUDA 11 runtime is there', () => {
    const noCublas = LDCONFIG_CUDA112.filter((l) => !/libcublas/.test(l));
    const d = diagnoseCuda(
      linuxProbe({
        ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, noCublas, LDCONFIG_CUDNN8, [
          '\tlibcublas.so.12 (libc6,x86-64) => /usr/local/cuda-12.4/targets/x86_64-linux/lib/libcublas.so.12',
        ]),
      }),
    );
    expect(d.codes).toEqual(['cuda11-libs-missing']);
    expect(d.problems[0]).toMatch(/libcublas\.so\.11, libcublasLt\.so\.11 \(found only libcublas\.so\.12\)/);
    expect(d.fixes.join(' ')).toMatch(/libcublas-11-2/);
  });

  it('TensorFlow log alone (issue 8362) is enough to name the missing libraries', () => {
    const d = diagnoseCuda(linuxProbe({ tfStderr: TF_LOG_CUDA12 }));
    expect(d.usable).toBe(false);
    expect(d.codes).toEqual(['cudart-11-missing', 'cuda11-libs-missing', 'cudnn-8-missing']);
    expect(d.problems[1]).toMatch(/libcublas\.so\.11, libcublasLt\.so\.11, libcufft\.so\.10, libcusparse\.so\.11/);
  });

  it('TensorFlow log of issue 8269: only cuDNN 8 missing', () => {
    const d = diagnoseCuda(
      linuxProbe({
        tfStderr: TF_LOG_CUDNN,
        ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, LDCONFIG_CUDA112, LDCONFIG_CUDNN9),
      }),
    );
    expect(d.codes).toEqual(['cudnn-8-missing']);
  });

  it('a CUDA 12 library renamed to the CUDA 11 name fails on its dependency', () => {
    const tfStderr =
      "2024-06-19 16:06:44.996032: W tensorflow/stream_executor/platform/default/dso_loader.cc:60] Could not load dynamic library 'libcusolver.so.11'; dlerror: libnvJitLink.so.12: cannot open shared object file: No such file or directory\n" +
      '2024-06-19 16:06:44.996140: W tensorflow/core/common_runtime/gpu/gpu_device.cc:1689] Cannot dlopen some GPU libraries.';
    const d = diagnoseCuda(linuxProbe({ tfStderr }));
    expect(d.codes).toEqual(['cuda-lib-broken']);
    expect(d.problems[0]).toMatch(/libcusolver\.so\.11 was found but does not load \(dlerror: libnvJitLink\.so\.12/);
    expect(d.fixes.join(' ')).toMatch(/sudo apt-get install libcusolver-11-2`/);
  });

  it('CUDA 11.2 installed off the loader path: suggests LD_LIBRARY_PATH only', () => {
    const dir = '/usr/local/cuda-11.2/lib64';
    const files = [
      'libcudart.so.11.0',
      'libcublas.so.11',
      'libcublasLt.so.11',
      'libcufft.so.10',
      'libcurand.so.10',
      'libcusolver.so.11',
      'libcusparse.so.11',
      'libcudnn.so.8',
    ];
    const d = diagnoseCuda(
      linuxProbe({
        ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, LDCONFIG_CUDA12),
        libraryDirs: { [dir]: files, '/usr/local/cuda-12.4/lib64': ['libcudart.so.12'] },
      }),
    );
    expect(d.usable).toBe(false);
    expect(d.problems[0]).toMatch(/installed in \/usr\/local\/cuda-11\.2\/lib64, which is not on LD_LIBRARY_PATH/);
    expect(d.fixes[0]).toBe(
      'Add the folders that already hold them to the loader path: `export LD_LIBRARY_PATH=/usr/local/cuda-11.2/lib64:$LD_LIBRARY_PATH` before starting the trainer.',
    );
    expect(d.fixes.join(' ')).not.toMatch(/apt-get install/);

    // With that folder on LD_LIBRARY_PATH the rung is usable.
    const ok = diagnoseCuda(
      linuxProbe({
        ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, LDCONFIG_CUDA12),
        ldLibraryPath: dir,
        libraryDirs: { [dir]: files },
      }),
    );
    expect(ok.usable).toBe(true);
    expect(ok.found['libcudart.so.11.0']).toBe(`${dir}/libcudart.so.11.0`);
    expect(ok.found['libcudart.so.*']).toBe('libcudart.so.11.0, libcudart.so.12');
  });
});

describe('diagnoseCuda: working setups', () => {
  it('CUDA 11.2 + cuDNN 8.1 + driver: usable', () => {
    const d = diagnoseCuda(
      linuxProbe({ ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER, LDCONFIG_CUDA112, LDCONFIG_CUDNN8, LDCONFIG_CUDA12) }),
    );
    expect(d.usable).toBe(true);
    expect(d.problems).toEqual([]);
    expect(d.fixes).toEqual([]);
    expect(d.summary).toMatch(/should run on the GPU/);
    expect(d.found['libcuda.so.1']).toBe('/lib/x86_64-linux-gnu/libcuda.so.1');
    expect(d.found['libcudnn.so.8']).toBe('/usr/lib/x86_64-linux-gnu/libcudnn.so.8');
  });

  it('TensorFlow created the GPU device: usable, with the ptxas note of issue 8505', () => {
    const d = diagnoseCuda(linuxProbe({ tfStderr: TF_LOG_OK, ldconfig: ld(LDCONFIG_BASE, LDCONFIG_DRIVER) }));
    expect(d.usable).toBe(true);
    expect(d.summary).toBe('tfjs-node-gpu runs on the GPU (NVIDIA GeForce RTX 3090).');
    expect(d.warnings.join(' ')).toMatch(/ptxas/);
    expectOneLineEach(d);
  });
});

describe('probeCuda on this machine', () => {
  it('returns without throwing; the package is absent so the rung is not usable', async () => {
    const probe = await probeCuda({ timeoutMs: 5000 });
    expect(probe.platform).toBe(process.platform);
    expect(probe.arch).toBe(process.arch);
    expect(probe.packageInstalled).toBe(false);
    expect(probe.loadError).toBeUndefined();
    expect(probe.tfStderr).toBeUndefined();
    // where ldconfig exists (Debian and CI), the probe read its cache: libc is always in it
    if (process.platform === 'linux' && ['/sbin/ldconfig', '/usr/sbin/ldconfig'].some((f) => existsSync(f)))
      expect(probe.ldconfig).toMatch(/libc\.so\.6/);
    // nvidia-smi's report where there is one, else null
    if (probe.nvidiaSmi !== null) expect(probe.nvidiaSmi).toMatch(/NVIDIA|Driver|GPU/i);

    const d = diagnoseCuda(probe);
    expect(d.usable).toBe(false);
    if (process.platform === 'linux' && process.arch === 'x64') {
      expect(d.codes[0]).toBe('package-missing');
      expect(d.summary).toMatch(/not installed/);
    }
    expectOneLineEach(d);
  });
});
