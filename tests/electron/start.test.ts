// `npm start` where the Electron binary was never fetched (as setup and CI leave it): one line that
// says how to get it and what works now, exit 1 — not Electron's stack trace.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../support/folders.js';

describe('npm start without the Electron binary', () => {
  it('prints one line with the way to get it and exits 1', () => {
    const r = spawnSync('npm', ['start', '--silent'], {
      cwd: join(import.meta.dirname, '..', '..'),
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: tempDir('no-electron') },
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'camd-studio: the Electron binary is not installed (npm run setup skips its download); on a machine with network access run `node node_modules/electron/install.js` once, then `npm start` — or use the app in a browser now: `npm run web` (docs/desktop.md)',
    ]);
    expect(r.stdout).toBe('');
  });
});
