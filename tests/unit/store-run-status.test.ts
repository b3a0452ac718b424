// One writer of a run's status (Store.setRunStatus), every change checked against the one list of
// what each status may be reached from (trainer/src/protocol/run-status.ts).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { Store } from '../../trainer/src/store/store.js';
import { REACHED_FROM, RUN_STATUSES, canBecome, type RunStatus } from '../../trainer/src/protocol/run-status.js';
import { CamdError } from '../../trainer/src/util/errors.js';
import { tempDir } from '../support/folders.js';

function store(): Store {
  const s = new Store(join(tempDir('run-status'), 'camd.db'));
  s.createRun({ id: 'r', kind: 'pretrain', config: {}, seed: 0 });
  return s;
}

/** The run's status set directly (the state a test starts from). */
const put = (s: Store, status: RunStatus) => s.db.prepare("UPDATE runs SET status = ? WHERE id = 'r'").run(status);

describe('run status transitions', () => {
  it("the supervisor's lifecycle is allowed; nothing goes back to created", () => {
    const path: [RunStatus, RunStatus][] = [
      ['created', 'queued'],
      ['queued', 'running'],
      ['running', 'pausing'],
      ['pausing', 'stopping'],
      ['stopping', 'stopped'],
      ['stopped', 'paused'],
      ['paused', 'queued'],
      ['queued', 'paused'],
      ['queued', 'stopped'],
      ['queued', 'failed'],
      ['queued', 'stopping'], // halted before its worker claimed it
      ['stopping', 'running'], // the worker's claim; the supervisor then says stopping again
      ['running', 'done'],
      ['running', 'failed'],
      ['stopping', 'interrupted'],
      ['done', 'running'], // resumed from the CLI
      ['created', 'done'], // an imported run
    ];
    for (const [from, to] of path) expect(canBecome(from, to), `${from} → ${to}`).toBe(true);
    for (const from of RUN_STATUSES) expect(canBecome(from, 'created')).toBe(false);
    for (const from of ['running', 'pausing', 'stopping'] as const) expect(canBecome(from, 'queued')).toBe(false);
    for (const from of ['created', 'running', 'done', 'failed', 'interrupted'] as const)
      expect(canBecome(from, 'paused')).toBe(false);
    expect(Object.keys(REACHED_FROM).sort()).toEqual([...RUN_STATUSES].sort());
  });

  it('setRunStatus writes the status with the other fields in one change, and refuses a transition the list has not', () => {
    const s = store();
    expect(s.setRunStatus('r', 'queued', { error: null })).toBe(true);
    expect(s.setRunStatus('r', 'failed', { error: 'no trainer', finished_at: '2020-01-01T00:00:00.000Z' })).toBe(true);
    expect(s.run('r')).toMatchObject({
      status: 'failed',
      error: 'no trainer',
      finished_at: '2020-01-01T00:00:00.000Z',
    });
    let refused: unknown;
    try {
      s.setRunStatus('r', 'paused', { error: 'changed' });
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(CamdError);
    expect((refused as CamdError).message).toBe('run r cannot become paused: it is failed');
    expect(s.run('r')).toMatchObject({ status: 'failed', error: 'no trainer' }); // nothing of it written
    expect(s.setRunStatus('gone', 'done')).toBe(false); // as updateRun: a missing run is left alone
    s.close();
  });

  it('updateRun and claimRun change the status through it (the trainer side)', () => {
    const s = store();
    s.claimRun('r', { pid: 4242, host: hostname(), start: null }, { last_step: 3 });
    expect(s.run('r')).toMatchObject({ status: 'running', pid: 4242, last_step: 3 });
    s.updateRun('r', { status: 'stopped', finished_at: 'then' });
    expect(s.run('r')).toMatchObject({ status: 'stopped', finished_at: 'then' });
    s.updateRun('r', { last_step: 7 }); // no status: its other fields only
    expect(s.run('r')).toMatchObject({ status: 'stopped', last_step: 7 });
    put(s, 'running');
    expect(() => s.updateRun('r', { status: 'queued' })).toThrow(/cannot become queued: it is running/);
    expect(() => s.updateRun('r', { status: 'created' })).toThrow(/cannot become created/);
    s.close();
  });

  it('`only`: the change holds only while the run has the status and process the caller saw', () => {
    const s = store();
    s.claimRun('r', { pid: 4242, host: hostname(), start: null });
    expect(s.setRunStatus('r', 'interrupted', { error: 'x' }, { status: 'running', pid: 1 })).toBe(false);
    expect(s.setRunStatus('r', 'interrupted', { error: 'x' }, { status: 'pausing', pid: 4242 })).toBe(false);
    expect(s.run('r')!.status).toBe('running');
    expect(s.setRunStatus('r', 'interrupted', { error: 'x' }, { status: 'running', pid: 4242 })).toBe(true);
    expect(s.run('r')).toMatchObject({ status: 'interrupted', error: 'x' });
    s.close();
  });

  it('every status the list allows can be written, every other is refused', () => {
    const s = store();
    for (const to of RUN_STATUSES)
      for (const from of RUN_STATUSES) {
        put(s, from);
        if (canBecome(from, to)) expect(s.setRunStatus('r', to), `${from} → ${to}`).toBe(true);
        else expect(() => s.setRunStatus('r', to), `${from} → ${to}`).toThrow(CamdError);
        expect(s.run('r')!.status).toBe(canBecome(from, to) ? to : from);
      }
    s.close();
  });
});
