// `--smoke-test` (the release checklist's start check) against the fake Electron: one JSON line
// and the exit code, from the window's real settings (the fake's page has Node only with
// nodeIntegration and a sandboxed preload only with sandbox), the real preload bundle, SQLite and
// `camd info` in a (forked) utility process. In its own file: the shell registers process-wide handlers.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { until } from '../support/app-host.js';
import { tempDir } from '../support/folders.js';
import { OP_NAMES } from '../../electron/common/names.js';

vi.mock('electron', async () => (await import('../support/fake-electron.js')).electronModule);
const { app: fakeApp, fake } = await import('../support/fake-electron.js');
const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };

afterAll(() => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    for (const l of process.listeners(sig)) if (!before[sig].includes(l)) process.off(sig, l);
});

describe('--smoke-test', () => {
  it('checks the running app, prints one JSON line, closes the services and exits 0', async () => {
    fakeApp.userData = tempDir('smoke-userdata');
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const spy = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
        if (String(chunk).startsWith('{"ok"')) lines.push(String(chunk));
        return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
      });
    const { startShell } = await import('../../electron/shell/start.js');
    const shell = (await startShell({ argv: ['camd-studio', '--smoke-test'], env: {} }))!;
    await until(
      'the exit',
      () => fakeApp.exitCode,
      (c) => c !== null,
      120_000,
    );
    spy.mockRestore();
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(r).toMatchObject({
      ok: true,
      failures: [],
      url: 'camd://app/index.html',
      rendered: true,
      pageHasNode: false,
      preloadSandboxed: true,
      bridgeOps: OP_NAMES.length,
      store: true,
      trainer: 'wasm',
    });
    expect(fakeApp.exitCode).toBe(0);
    expect(shell.services.store.db.open).toBe(false);
    expect(fake.forked.some((f) => f.args.join(' ') === 'info --json')).toBe(true);
  });
});
