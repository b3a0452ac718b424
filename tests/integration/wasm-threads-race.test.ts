// Several camd processes starting the threaded wasm backend at the same moment (the app starts a
// run's worker while a label-curve or predict job starts): each loads the shared pool-worker
// script; none may remove it from under another (that killed the later one: MODULE_NOT_FOUND).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CAMD = fileURLToPath(new URL('../../trainer/bin/camd.js', import.meta.url));

function selftest(): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(
      process.execPath,
      [CAMD, 'selftest', '--backend', 'wasm', '--threads', '2', '--steps', '1', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('the threaded wasm backend in concurrent processes', () => {
  it('four processes starting together all run', async () => {
    for (let round = 0; round < 2; round++) {
      const rs = await Promise.all([selftest(), selftest(), selftest(), selftest()]);
      for (const r of rs) expect(r.code, r.stderr.slice(-400)).toBe(0);
    }
  }, 180_000);
});
