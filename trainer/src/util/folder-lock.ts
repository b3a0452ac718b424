/**
 * An exclusive lock on a folder (a run folder), held for the life of a process.
 *
 * The lock is an operating-system file lock on `<dir>/.lock`, taken through SQLite (a one-row
 * database held in exclusive locking mode): the kernel releases it when the process ends, however
 * it ends (exit, crash, kill -9, power loss), so a dead process never leaves a stale lock and the
 * next process simply takes it. Beside it, `<dir>/lock.json` names the holder (pid, host, start
 * token, command, since) so that a refused process can say who holds the folder; it is only
 * information and is removed on release.
 */
import Database from 'better-sqlite3';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CamdError } from './errors.js';
import { reasonOf } from './system-errors.js';
import { currentProcess, processState } from './process-identity.js';
import { writeFileAtomic } from './atomic-file.js';

const Holder = z.object({
  pid: z.number().int(),
  host: z.string(),
  start: z.string().nullable(),
  command: z.string(),
  since: z.string(),
});
export type LockHolder = z.infer<typeof Holder>;

export class FolderLock {
  private constructor(
    readonly dir: string,
    private db: Database.Database | null,
  ) {}

  static lockFile(dir: string): string {
    return join(dir, '.lock');
  }

  static infoFile(dir: string): string {
    return join(dir, 'lock.json');
  }

  /** The holder named in lock.json, if readable. */
  static holder(dir: string): LockHolder | null {
    try {
      const h = Holder.safeParse(JSON.parse(readFileSync(FolderLock.infoFile(dir), 'utf8')));
      return h.success ? h.data : null;
    } catch {
      return null;
    }
  }

  /**
   * Takes the lock or throws a one-line CamdError ('busy') naming the holder. `command` says what
   * this process does there ("camd pretrain").
   */
  static acquire(dir: string, command: string): FolderLock {
    let db: Database.Database;
    try {
      db = new Database(FolderLock.lockFile(dir), { timeout: 0 });
    } catch (e) {
      const sys = (e as { code?: string }).code;
      throw new CamdError('input', `cannot lock the folder ${dir}: ${reasonOf(e)}${sys ? ` (${sys})` : ''}`);
    }
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      // the first write in exclusive mode takes the exclusive file lock and keeps it until close
      db.exec(
        `BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER, since TEXT); DELETE FROM holder; INSERT INTO holder VALUES (${process.pid}, datetime('now')); COMMIT;`,
      );
    } catch (e) {
      db.close();
      const code = (e as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
        const h = FolderLock.holder(dir);
        const who = h ? `process ${h.pid} on ${h.host} (${h.command}, since ${h.since})` : 'another process';
        throw new CamdError('busy', `${dir} is in use by ${who}; wait for it to finish or stop it first`);
      }
      throw new CamdError(
        code === 'SQLITE_FULL' ? 'disk-full' : 'input',
        `cannot lock the folder ${dir}: ${(e as Error).message}`,
      );
    }
    const me = currentProcess();
    const prev = FolderLock.holder(dir);
    try {
      writeFileAtomic(
        FolderLock.infoFile(dir),
        Buffer.from(
          `${JSON.stringify({ pid: me.pid, host: me.host, start: me.start, command, since: new Date().toISOString() })}\n`,
        ),
      );
    } catch (e) {
      db.close();
      throw e;
    }
    const lock = new FolderLock(dir, db);
    lock.previousHolder = prev && processState(prev) === 'gone' ? prev : null;
    return lock;
  }

  /** The holder before us when it died holding the folder (its lock.json was left behind). */
  previousHolder: LockHolder | null = null;

  get held(): boolean {
    return this.db !== null;
  }

  release(): void {
    if (!this.db) return;
    rmSync(FolderLock.infoFile(this.dir), { force: true });
    this.db.close();
    this.db = null;
  }
}
