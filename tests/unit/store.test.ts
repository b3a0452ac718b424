import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../trainer/src/store/store.js';
import { MIGRATIONS } from '../../trainer/src/store/migrations.js';
import { tempDir } from '../support/folders.js';

describe('store', () => {
  it('creates the schema in WAL mode with foreign keys, idempotently', () => {
    const file = join(tempDir('store'), 'camd.db');
    const s = new Store(file);
    expect(s.schemaVersion()).toBe(MIGRATIONS.length);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    s.close();
    const again = new Store(file);
    expect(again.schemaVersion()).toBe(MIGRATIONS.length);
    again.close();
  });

  it('refuses a store written by a newer version', () => {
    const file = join(tempDir('store'), 'camd.db');
    new Store(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => new Store(file)).toThrow(/newer than this trainer understands/);
  });

  it('records runs, metrics (all of several runs, latest step) and checkpoints; deleting a run cascades', () => {
    const s = new Store(join(tempDir('store'), 'camd.db'));
    const ds = s.ensureDataset('/faces', 'faces');
    for (const id of ['r1', 'r2']) {
      s.createRun({ id, kind: 'pretrain', datasetId: ds.id, config: { a: 1 }, seed: 0 });
      s.addMetrics(
        id,
        [1, 2, 3].flatMap((step) => [
          { step, epoch: step / 10, name: 'loss', value: 10 - step },
          { step, epoch: step / 10, name: 'lr', value: step },
        ]),
      );
    }
    s.addMetrics('r2', [{ step: 4, epoch: 0.4, name: 'loss', value: 5 }]);
    s.addMetrics('r2', [{ step: 4, epoch: 0.4, name: 'loss', value: 4.5 }]); // replay after a resume replaces
    expect(s.metrics(['r1', 'r2'], ['loss']).map((m) => [m.run_id, m.step, m.value])).toEqual([
      ['r1', 1, 9],
      ['r1', 2, 8],
      ['r1', 3, 7],
      ['r2', 1, 9],
      ['r2', 2, 8],
      ['r2', 3, 7],
      ['r2', 4, 4.5],
    ]);
    expect(s.latestStep('r2')).toBe(4);
    s.truncateMetrics('r2', 2);
    expect(s.latestStep('r2')).toBe(2);
    // the query plans use the indexes the app relies on
    const plan = s.db.prepare("EXPLAIN QUERY PLAN SELECT max(step) FROM metrics WHERE run_id = 'r1'").all() as {
      detail: string;
    }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX/);
    s.addCheckpoint({ run_id: 'r1', step: 3, kind: 'full', path: '/x', sha256: 'ab', bytes: 10 });
    s.updateRun('r1', { status: 'done', last_step: 3 });
    expect(s.run('r1')).toMatchObject({ status: 'done', last_step: 3 });
    s.db.prepare("DELETE FROM runs WHERE id = 'r1'").run();
    expect(s.metrics(['r1'])).toEqual([]);
    expect(s.checkpoints('r1')).toEqual([]);
    s.close();
  });
});
