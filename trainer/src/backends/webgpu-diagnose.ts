/**
 * Why Dawn (the `webgpu` package) found no usable GPU adapter, in words a user can act on.
 * `probeVulkan` reads the machine (loader, registered drivers, NVIDIA and DRM devices);
 * `diagnoseWebGpu` is a pure function of that probe, so tests feed it any machine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface VulkanProbe {
  platform: NodeJS.Platform;
  /** Path or soname of the Vulkan loader if found (libvulkan.so.1), else null. */
  loader: string | null;
  /** Registered Vulkan drivers: ICD manifest file names (nvidia_icd.json, lvp_icd.x86_64.json, …). */
  icds: string[];
  /** An NVIDIA kernel driver is present (/proc/driver/nvidia/version or /dev/nvidia0). */
  nvidiaDriver: boolean;
  /** libGLX_nvidia.so.0, the library NVIDIA's Vulkan ICD lives in, if found. */
  nvidiaGlx: string | null;
  /** /dev/dri render nodes (Mesa's GPU drivers need one). */
  renderNodes: string[];
  /** What Dawn printed while looking for adapters (its warnings name the missing piece). */
  dawnLog: string;
}

export interface WebGpuDiagnosis {
  /** One line: the main reason. */
  summary: string;
  problems: string[];
  fixes: string[];
}

const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const LOADER_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
];
const GLX_NVIDIA = [
  '/usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0',
  '/usr/lib64/libGLX_nvidia.so.0',
  '/usr/lib/libGLX_nvidia.so.0',
];

function ldconfigHas(soname: string): string | null {
  try {
    const out = execFileSync('ldconfig', ['-p'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
    const line = out.split('\n').find((l) => l.trim().startsWith(`${soname} `));
    return line ? (line.split('=>')[1]?.trim() ?? soname) : null;
  } catch {
    return null;
  }
}

function inLibraryPath(file: string): string | null {
  for (const dir of (process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean))
    if (existsSync(join(dir, file))) return join(dir, file);
  return null;
}

export function probeVulkan(dawnLog = ''): VulkanProbe {
  const envIcds = (process.env['VK_DRIVER_FILES'] ?? process.env['VK_ICD_FILENAMES'] ?? '').split(':').filter(Boolean);
  const icds = [...envIcds.filter((f) => existsSync(f)).map((f) => basename(f))];
  for (const dir of ICD_DIRS) {
    try {
      icds.push(...readdirSync(dir).filter((f) => f.endsWith('.json')));
    } catch {
      /* absent */
    }
  }
  let renderNodes: string[] = [];
  try {
    renderNodes = readdirSync('/dev/dri').filter((f) => f.startsWith('renderD'));
  } catch {
    /* no DRM */
  }
  return {
    platform: process.platform,
    loader: inLibraryPath('libvulkan.so.1') ?? ldconfigHas('libvulkan.so.1') ?? LOADER_PATHS.find(existsSync) ?? null,
    icds: [...new Set(icds)],
    nvidiaDriver: existsSync('/proc/driver/nvidia/version') || existsSync('/dev/nvidia0'),
    nvidiaGlx:
      inLibraryPath('libGLX_nvidia.so.0') ?? ldconfigHas('libGLX_nvidia.so.0') ?? GLX_NVIDIA.find(existsSync) ?? null,
    renderNodes,
    dawnLog,
  };
}

/** Reads the driver version NVIDIA's kernel module reports, for the ICD advice. */
export function nvidiaKernelVersion(): string | null {
  try {
    return /Kernel Module\s+([\d.]+)/.exec(readFileSync('/proc/driver/nvidia/version', 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

const isSoftwareIcd = (f: string) => /^lvp_icd|swiftshader/i.test(f);

export function diagnoseWebGpu(p: VulkanProbe): WebGpuDiagnosis {
  const problems: string[] = [];
  const fixes: string[] = [];
  if (p.platform !== 'linux') {
    // Metal (macOS) and D3D12 (Windows) ship with the OS: no adapter there means no supported GPU or driver.
    problems.push(`Dawn found no ${p.platform === 'darwin' ? 'Metal' : 'D3D12/Vulkan'} adapter.`);
    fixes.push(
      p.platform === 'darwin'
        ? 'WebGPU needs macOS 11+ on a Mac with a Metal GPU.'
        : 'Update the GPU driver (D3D12 feature level 11.1 or Vulkan 1.1).',
    );
    return { summary: problems[0]!, problems, fixes };
  }
  if (!p.loader) {
    problems.push('no Vulkan loader: libvulkan.so.1 is not installed.');
    fixes.push(
      'Install it: `sudo apt-get install libvulkan1` (Debian/Ubuntu) or `sudo dnf install vulkan-loader` (Fedora).',
    );
  }
  const hardware = p.icds.filter((f) => !isSoftwareIcd(f));
  const software = p.icds.filter(isSoftwareIcd);
  const nvidiaIcd = p.icds.some((f) => /nvidia/i.test(f));
  if (!p.nvidiaDriver && p.renderNodes.length === 0) {
    problems.push(
      'no GPU is visible to this system: no NVIDIA driver (/proc/driver/nvidia) and no /dev/dri render node.',
    );
    fixes.push(
      'On a machine with a GPU, install its driver; in a container, pass the GPU through (docker run --gpus all, or --device /dev/dri).',
    );
  } else if (p.nvidiaDriver && !nvidiaIcd) {
    problems.push(
      `an NVIDIA driver is loaded but its Vulkan driver is not registered (no nvidia_icd.json in ${ICD_DIRS.join(', ')}).`,
    );
    fixes.push(
      p.nvidiaGlx
        ? `Register it: write {"file_format_version":"1.0.0","ICD":{"library_path":"${p.nvidiaGlx}","api_version":"1.3"}} to /etc/vulkan/icd.d/nvidia_icd.json (or point VK_DRIVER_FILES at such a file).`
        : "Install the driver's graphics part (Debian/Ubuntu: `libnvidia-gl-<version>` matching the kernel driver); in a container, start it with NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics so that libGLX_nvidia.so.0 and nvidia_icd.json are mounted.",
    );
  } else if (hardware.length === 0) {
    problems.push('no Vulkan driver (ICD) is registered for the GPU.');
    fixes.push(
      "Install the GPU's Vulkan driver: NVIDIA: the proprietary driver with its Vulkan part (libnvidia-gl-<version>); AMD or Intel: `sudo apt-get install mesa-vulkan-drivers`.",
    );
  }
  if (software.length > 0) {
    problems.push(
      `the only CPU Vulkan driver (${software.join(', ')}) does not count: Mesa's lavapipe in Mesa 22.3 (Debian 12) lacks shaderUniform*ArrayDynamicIndexing, which Dawn requires, and a CPU adapter is slower than the wasm backend anyway.`,
    );
  }
  const dawnLines = p.dawnLog
    .split('\n')
    .map((l) => l.trim())
    .filter(
      (l) => (l.startsWith('Warning:') || l.startsWith('error:')) && !/XDG_RUNTIME_DIR|artificially reduced/.test(l),
    )
    .map((l) => l.replace(/^Warning:\s*/, ''));
  for (const l of [...new Set(dawnLines)]) problems.push(`Dawn: ${l}`);
  if (problems.length === 0)
    problems.push('Dawn returned no adapter although a Vulkan loader and a GPU driver are present.');
  fixes.push('Until then the trainer uses the next rung (wasm).');
  return { summary: problems[0]!, problems, fixes };
}
