// @vitest-environment happy-dom
// Adding a folder in the desktop app (happy-dom, the renderer's own api module over a stand-in of
// the preload's bridge): a folder dropped anywhere on the window is resolved to its path by the
// preload (webUtils.getPathForFile) and handed on; "Choose…" opens the native picker.
import { describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import type { CamdBridge } from '../../electron/common/bridge.js';

const bridge = {
  ops: new Proxy({}, { get: () => async () => ({ result: [] }) }),
  topics: new Proxy({}, { get: () => async () => ({ result: { id: 1 } }) }),
  unsubscribe: vi.fn(),
  pathForFile: vi.fn((f: File) => (f.name === 'no-path' ? '' : `/home/me/${f.name}`)),
  pickFolder: vi.fn(async () => '/home/me/picked'),
} as unknown as CamdBridge;
(window as unknown as { camd: CamdBridge }).camd = bridge;
const FolderInput = (await import('../../renderer/src/components/FolderInput.vue')).default;

function drop(file: File): void {
  const ev = new Event('drop', { cancelable: true });
  Object.defineProperty(ev, 'dataTransfer', { value: { files: [file] } });
  window.dispatchEvent(ev);
}

describe('adding a folder in the app', () => {
  it('a dropped folder: its path from the preload, emitted for the dataset service; one without a path is ignored', async () => {
    const w = mount(FolderInput, { attachTo: document.body });
    const folder = new File([], 'faces');
    drop(folder);
    expect(bridge.pathForFile).toHaveBeenCalledWith(folder);
    drop(new File([], 'no-path'));
    expect(w.emitted('add')).toEqual([['/home/me/faces']]);
    expect(w.text()).toContain('Drop a folder on the window');
    w.unmount();
    // once the form is gone, its drop listener is too
    const calls = vi.mocked(bridge.pathForFile).mock.calls.length;
    drop(new File([], 'later'));
    expect(vi.mocked(bridge.pathForFile).mock.calls.length).toBe(calls);
  });

  it('"Choose…" opens the native folder picker', async () => {
    const w = mount(FolderInput);
    await w.get('button[type=button]').trigger('click');
    await flushPromises();
    expect(bridge.pickFolder).toHaveBeenCalled();
    expect(w.emitted('add')).toEqual([['/home/me/picked']]);
    w.unmount();
  });
});
