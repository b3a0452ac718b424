// A dry run of the release checklist's Electron checks (build/release-check/check.mjs) against
// the fake Electron: the script's own logic end to end — the app's built main-process code, real
// services, SQLite, real trainer processes and a real pre-train — so that on the release machine
// only what a real Electron adds can fail. (The drag events are the fake's: tests/support/fake-electron.ts.)
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from '../support/app-host.js';
import { faceFolder, tempDir } from '../support/folders.js';

vi.mock('electron', async () => (await import('../support/fake-electron.js')).electronModule);
const { app: fakeApp } = await import('../support/fake-electron.js');
const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
const argv = process.argv;

afterAll(() => {
  process.argv = argv;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    for (const l of process.listeners(sig)) if (!before[sig].includes(l)) process.off(sig, l);
});

describe('build/release-check/check.mjs', () => {
  it('runs every check to the end and passes: window, sandbox, bridge, SQLite, drop, utility-process pre-train, quit with a checkpoint', async () => {
    const faces = faceFolder(8, 'release-faces');
    const report = join(tempDir('release-report'), 'check.json');
    process.argv = ['electron', 'check.mjs', '--faces', faces, '--report', report];
    await import('../../build/release-check/check.mjs');
    await until(
      'the exit',
      () => fakeApp.exitCode,
      (c) => c !== null,
      300_000,
    );
    const r = JSON.parse(readFileSync(report, 'utf8')) as { checks: { name: string; ok: boolean; detail?: unknown }[] };
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'page has no Node globals',
        'preload: process.sandboxed is true',
        'a dropped folder reaches the dataset service',
        'pre-train on auto in a utility process',
        'closing with a run training pauses it with a checkpoint',
      ]),
    );
    expect(r.checks.length).toBe(10);
    expect(fakeApp.exitCode).toBe(0);
  });
});
