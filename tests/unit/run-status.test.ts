// A run's status is one list (trainer/src/protocol/run-status.ts): the store's CHECK constraint and
// the contract's enum are that list, and "working" / "unfinished" are the two ways it is asked.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Store } from '../../trainer/src/store/store.js';
import {
  RUN_STATUSES,
  UNFINISHED_STATUSES,
  WORKING_STATUSES,
  isUnfinished,
  isWorking,
  sqlList,
} from '../../trainer/src/protocol/run-status.js';
import { RunState } from '../../electron/common/contract.js';
import { tempDir } from '../support/folders.js';

describe('run statuses', () => {
  it("the store's CHECK constraint and the contract's enum are the one list", () => {
    const store = new Store(join(tempDir('status'), 'camd.db'));
    const sql = store.db
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'")
      .pluck()
      .get() as string;
    store.close();
    const check = /status\s+TEXT NOT NULL CHECK \(status IN \(([^)]*)\)\)/.exec(sql)?.[1];
    expect(check).toBe(sqlList(RUN_STATUSES));
    expect(RunState.options).toEqual([...RUN_STATUSES]);
  });

  it('working: a process holds the run; unfinished: working or queued', () => {
    expect(RUN_STATUSES.filter(isWorking)).toEqual(['running', 'pausing', 'stopping']);
    expect(RUN_STATUSES.filter(isUnfinished)).toEqual(['queued', 'running', 'pausing', 'stopping']);
    expect([...WORKING_STATUSES].every((s) => UNFINISHED_STATUSES.includes(s))).toBe(true);
  });
});
