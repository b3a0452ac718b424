// The webgpu rung's explanation of a missing adapter, on described machines (no real probing).
import { describe, expect, it } from 'vitest';
import { diagnoseWebGpu, type VulkanProbe } from '../../trainer/src/backends/webgpu-diagnose.js';

const base: VulkanProbe = {
  platform: 'linux',
  loader: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  icds: [],
  nvidiaDriver: false,
  nvidiaGlx: null,
  renderNodes: [],
  dawnLog: '',
};

describe('webgpu diagnosis', () => {
  it('no Vulkan loader: names libvulkan1', () => {
    const d = diagnoseWebGpu({ ...base, loader: null, renderNodes: ['renderD128'], icds: ['radeon_icd.x86_64.json'] });
    expect(d.summary).toMatch(/libvulkan\.so\.1/);
    expect(d.fixes.join(' ')).toMatch(/apt-get install libvulkan1/);
  });

  it('a CPU-only machine with lavapipe (Debian 12): no GPU, and why lavapipe does not count', () => {
    const d = diagnoseWebGpu({
      ...base,
      icds: ['lvp_icd.x86_64.json', 'intel_icd.x86_64.json'],
      dawnLog:
        'error: XDG_RUNTIME_DIR is invalid or not set in the environment.\nWarning: Vulkan shaderUniform*ArrayDynamicIndexing required.\n - While initializing adapter\n',
    });
    expect(d.summary).toMatch(/no GPU is visible/);
    expect(d.problems.join('\n')).toMatch(/lavapipe.*shaderUniform\*ArrayDynamicIndexing/);
    expect(d.problems).toContain('Dawn: Vulkan shaderUniform*ArrayDynamicIndexing required.');
    expect(d.problems.join('\n')).not.toMatch(/XDG_RUNTIME_DIR/); // Mesa's noise is left out
  });

  it('NVIDIA driver without its Vulkan ICD: the ICD JSON to write, pointing at libGLX_nvidia', () => {
    const d = diagnoseWebGpu({
      ...base,
      nvidiaDriver: true,
      nvidiaGlx: '/usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0',
    });
    expect(d.summary).toMatch(/NVIDIA driver is loaded but its Vulkan driver is not registered/);
    expect(d.fixes[0]).toContain('"library_path":"/usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0"');
    const noGlx = diagnoseWebGpu({ ...base, nvidiaDriver: true });
    expect(noGlx.fixes[0]).toMatch(/NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics/);
  });

  it('a GPU render node but no Vulkan driver for it: mesa-vulkan-drivers', () => {
    const d = diagnoseWebGpu({ ...base, renderNodes: ['renderD128'] });
    expect(d.summary).toMatch(/no Vulkan driver/);
    expect(d.fixes.join(' ')).toMatch(/mesa-vulkan-drivers/);
  });

  it('macOS and Windows: Metal / D3D12 advice, and every diagnosis ends with the fallback', () => {
    expect(diagnoseWebGpu({ ...base, platform: 'darwin' }).summary).toMatch(/Metal/);
    expect(diagnoseWebGpu({ ...base, platform: 'win32' }).summary).toMatch(/D3D12/);
    expect(diagnoseWebGpu({ ...base, loader: null }).fixes.at(-1)).toMatch(/next rung \(wasm\)/);
  });
});
