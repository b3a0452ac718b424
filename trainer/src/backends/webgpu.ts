/**
 * The webgpu rung: TensorFlow.js's WebGPU backend in Node on Dawn, through the `webgpu` npm package
 * (Dawn's Node binding, prebuilt for linux-x64/arm64, darwin and win32 inside the package; Vulkan
 * on Linux, Metal on macOS, D3D12 on Windows). tfjs-backend-webgpu registers itself only where
 * `navigator.gpu` exists, so we expose Dawn's GPU object there, pick the high-performance adapter
 * and register the backend ourselves.
 *
 * Software adapters (Mesa's llvmpipe through Dawn's OpenGL backend) are refused unless
 * CAMD_WEBGPU_SOFTWARE=1, and even then only taken when there is no hardware adapter: they run the
 * same shaders on the CPU, far slower than wasm, and exist so that the webgpu code path can be
 * tested on machines without a GPU.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { diagnoseWebGpu, probeVulkan, type WebGpuDiagnosis } from './webgpu-diagnose.js';

export const WEBGPU_PACKAGE = 'webgpu';
export const TFJS_WEBGPU_PACKAGE = '@tensorflow/tfjs-backend-webgpu';

/** The adapter a run used, for `camd info` and each run's record. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  software: boolean;
  features: string[];
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

export const softwareAllowed = () => process.env['CAMD_WEBGPU_SOFTWARE'] === '1';

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|softpipe/i;

let dawn: DawnModule | null = null;
let gpuObject: GPU | null = null;

/**
 * Dawn's GPU object (once per process); null when the `webgpu` package is absent or fails to load.
 * `software`: Dawn's OpenGL backend on Mesa (EGL without a display) instead of its native one.
 */
export async function gpuEntry(software: boolean): Promise<GPU | null> {
  if (gpuObject) return gpuObject;
  try {
    dawn ??= (await import(WEBGPU_PACKAGE)) as unknown as DawnModule;
  } catch {
    return null;
  }
  Object.assign(globalThis, dawn.globals); // GPUBufferUsage, GPUMapMode, … as browsers define them
  if (software && process.platform === 'linux') {
    // Mesa's llvmpipe through EGL without a display; Dawn's OpenGL backend offers only the compatibility level
    process.env['EGL_PLATFORM'] ??= 'surfaceless';
    process.env['XDG_RUNTIME_DIR'] ??= '/tmp';
    gpuObject = dawn.create(['backend=opengl']);
  } else {
    gpuObject = dawn.create([]);
  }
  return gpuObject;
}

export function adapterOptions(software: boolean): GPURequestAdapterOptions {
  return software
    ? ({ featureLevel: 'compatibility' } as GPURequestAdapterOptions)
    : { powerPreference: 'high-performance' };
}

export function describeAdapter(a: GPUAdapter): AdapterDescription {
  const info = a.info;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software: SOFTWARE_NAMES.test(text) || Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    features: [...a.features].sort(),
    maxBufferSize: a.limits.maxBufferSize,
    maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize,
  };
}

/** Asks Dawn for an adapter in a child process (native backend, or OpenGL with `software`), capturing what it prints natively. */
function probeInChild(software: boolean): { adapter: AdapterDescription | null; log: string; failure: string | null } {
  // the built script (also when this module runs from source, as under vitest; `npm test` builds first)
  const child = fileURLToPath(
    new URL(
      import.meta.url.endsWith('.ts') ? '../../dist/backends/webgpu-probe-child.js' : './webgpu-probe-child.js',
      import.meta.url,
    ),
  );
  const r = spawnSync(process.execPath, [child, ...(software ? ['--software'] : [])], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const out = JSON.parse(line) as { package: boolean; adapter: AdapterDescription | null };
    return { adapter: out.adapter, log: r.stderr ?? '', failure: null };
  } catch {
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
    return { adapter: null, log: r.stderr ?? '', failure: `Dawn's adapter probe crashed (${why})` };
  }
}

export type WebGpuLoad =
  | { ok: true; adapter: AdapterDescription }
  | { ok: false; reason: string; diagnosis?: WebGpuDiagnosis; adapter?: AdapterDescription };

let loaded: AdapterDescription | null = null;

/** Loads the webgpu rung: adapter, device, tfjs backend 'webgpu' registered (not yet selected). */
export async function loadWebGpu(): Promise<WebGpuLoad> {
  if (loaded) return { ok: true, adapter: loaded };
  if (webgpuPackageVersion() === null)
    return { ok: false, reason: `the optional package ${WEBGPU_PACKAGE} (Dawn's Node binding) is not installed` };
  // first in a child: Dawn's own messages go to the diagnosis, and a crashing driver takes only the child
  let software = false;
  let probe = probeInChild(false);
  if ((!probe.adapter || probe.adapter.software) && softwareAllowed()) {
    const soft = probeInChild(true); // no hardware adapter: Mesa's llvmpipe, for tests
    if (soft.adapter) {
      probe = soft;
      software = true;
    }
  }
  if (!probe.adapter) {
    const diagnosis = diagnoseWebGpu(probeVulkan(probe.log));
    if (probe.failure) diagnosis.problems.unshift(probe.failure);
    return { ok: false, reason: `no GPU adapter: ${probe.failure ?? diagnosis.summary}`, diagnosis };
  }
  if (probe.adapter.software && !softwareAllowed()) {
    return {
      ok: false,
      reason: `only a software adapter (${probe.adapter.description || probe.adapter.device}), slower than wasm; CAMD_WEBGPU_SOFTWARE=1 uses it anyway (for tests)`,
      adapter: probe.adapter,
    };
  }
  const gpu = await gpuEntry(software);
  if (!gpu) return { ok: false, reason: `the optional package ${WEBGPU_PACKAGE} failed to load in this process` };
  const adapter = await gpu.requestAdapter(adapterOptions(software));
  if (!adapter) return { ok: false, reason: 'Dawn gave an adapter to the probe but not to this process' };
  const desc = describeAdapter(adapter);
  const L = adapter.limits;
  // the limits tfjs-backend-webgpu asks for in a browser, at the adapter's maximum
  const device = await adapter.requestDevice({
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    requiredLimits: {
      maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: L.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
      maxBufferSize: L.maxBufferSize,
      maxComputeWorkgroupSizeX: L.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup,
      maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage,
    },
  });
  // import first: with navigator.gpu already set, the package would register its own factory
  const { WebGPUBackend } = (await import(TFJS_WEBGPU_PACKAGE)) as typeof import('@tensorflow/tfjs-backend-webgpu');
  // it checks navigator.gpu whenever it builds a backend; Node 20 has no navigator
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav) {
    if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  } else {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info), 1);
  loaded = desc;
  return { ok: true, adapter: desc };
}

export function webgpuPackageVersion(): string | null {
  try {
    return (createRequire(import.meta.url)(`${WEBGPU_PACKAGE}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}
