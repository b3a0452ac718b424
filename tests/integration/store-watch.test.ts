// Runs and scans of another process on the app's store (a `camd` in a terminal) are published by
// the app as they change: the real CLI, the real store file, the app's own services.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { App } from '../../electron/services/app.js';
import type { Run } from '../../electron/common/contract.js';
import { faceFolder, tempDir } from '../support/folders.js';
import { camdLive } from '../support/cli.js';
import { until } from '../support/app-host.js';

const MICRO = ['--preset', 'micro', '--batch', '4', '--warmup-epochs', '0', '--blr', '0.05'];

describe("the app follows other processes' work on its store", () => {
  it('a `camd scan` and a `camd pretrain` started outside the app: the dataset appears, the run steps on live and ends done', async () => {
    const app = new App({ dataDir: tempDir('watch-app') });
    try {
      const faces = faceFolder(12, 'watch');
      const datasets: number[] = [];
      const runs: Run[] = [];
      app.bus.on('datasets', (e) => e.dataset && datasets.push(e.dataset.image_count));
      app.bus.on('runs', (r) => runs.push(r));

      const scan = camdLive(['scan', faces, '--json', '--db', app.paths.db]);
      expect((await scan.done).status).toBe(0);
      await until(
        'the scanned dataset published',
        () => datasets,
        (d) => d.includes(12),
        10_000,
      );

      const run = camdLive([
        'pretrain',
        '--json',
        ...MICRO,
        '--data',
        faces,
        '--steps',
        '40',
        '--checkpoint-every',
        '8',
        '--out',
        join(tempDir('watch-run'), 'run'),
        '--db',
        app.paths.db,
      ]);
      const r = await run.done;
      expect(r.status, r.stderr).toBe(0);
      const last = await until(
        'the run published as done',
        () => runs.at(-1),
        (x) => x?.status === 'done',
        10_000,
      );
      expect(last!.last_step).toBe(40);
      // followed while it trained: steps in between were published, in order
      const between = runs.filter((x) => x.status === 'running' && x.last_step > 0 && x.last_step < 40);
      expect(between.length).toBeGreaterThanOrEqual(2);
      const seen = between.map((x) => x.last_step);
      expect([...seen].sort((a, b) => a - b)).toEqual(seen);
      expect(new Set(runs.map((x) => x.id)).size).toBe(1);
      // nothing published when nothing changed
      const n = runs.length;
      app.watch.look();
      await new Promise((ok) => setTimeout(ok, 1200));
      expect(runs.length).toBe(n);
    } finally {
      await app.close();
    }
  }, 120_000);
});
