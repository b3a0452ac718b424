/**
 * Opening the store's file: its folder made, the database opened (WAL, busy timeout), pending
 * migrations applied; every failure in words, as the error kind it is.
 */
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from './migrations.js';
import { CamdError } from '../util/errors.js';
import { isSystemError, mkdirReason, systemReason } from '../util/system-errors.js';

/** Opens (or creates) the store at `file` (absolute); `chooser`: how the user names another store, for the messages. */
export function openStoreFile(file: string, chooser: string): Database.Database {
  const where = `the store ${file}`;
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (e) {
    throw new CamdError('input', `cannot create the folder of ${where}: ${mkdirReason(dirname(file), e)}`);
  }
  try {
    if (statSync(file).isDirectory())
      throw new CamdError(
        'input',
        chooser === '--db'
          ? `${file} is a folder; --db names the store file (e.g. ${file}/camd.db)`
          : `${file} is a folder where the store's file belongs; use another ${chooser}`,
      );
  } catch (e) {
    if (e instanceof CamdError) throw e; // a missing file is created below
  }
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { timeout: 10_000 });
    db.pragma('busy_timeout = 10000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db, file, chooser);
    db.pragma('foreign_keys = ON');
    return db;
  } catch (e) {
    db?.close();
    if (e instanceof CamdError) throw e;
    // the machine's failures are theirs (a full disk is disk-full, exit 4); a bad file is an input error
    const code = (e as { code?: string }).code ?? '';
    const kind =
      code === 'SQLITE_FULL' ||
      code === 'SQLITE_IOERR_SHMSIZE' ||
      (isSystemError(e) && (e.code === 'ENOSPC' || e.code === 'EDQUOT'))
        ? 'disk-full'
        : code.startsWith('SQLITE_IOERR')
          ? 'io'
          : 'input';
    throw new CamdError(kind, `cannot open ${where}: ${storeReason(e, chooser)}`);
  }
}

/** Applies pending migrations in one transaction each; refuses a store from a newer version or another application's database. */
function migrate(db: Database.Database, file: string, chooser: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new CamdError(
      'input',
      `the store ${file} has schema version ${version}, newer than this trainer understands (${MIGRATIONS.length}); update CAMD Studio, or use another ${chooser}`,
    );
  }
  if (version === 0) {
    const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number })
      .n;
    if (tables > 0)
      throw new CamdError(
        'input',
        `${file} is an SQLite database of another application, not a CAMD store; use another ${chooser}`,
      );
  }
  if (version === MIGRATIONS.length) return;
  // tables are rebuilt by some migrations: foreign keys must be off (outside a transaction)
  db.pragma('foreign_keys = OFF');
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length) throw new Error(`migration ${v + 1} broke ${broken.length} foreign key(s)`);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** A store failure in words. */
function storeReason(e: unknown, chooser: string): string {
  const code = (e as { code?: string }).code ?? '';
  if (code === 'SQLITE_NOTADB') return `it is not an SQLite database (not a CAMD store); use another ${chooser}`;
  if (code.startsWith('SQLITE_CORRUPT')) return 'the database is damaged (corrupt)';
  if (code.startsWith('SQLITE_READONLY')) return 'it is read-only (a read-only file system or file)';
  if (code.startsWith('SQLITE_CANTOPEN')) return 'it cannot be opened or created (a read-only or missing folder?)';
  if (code === 'SQLITE_FULL') return 'the disk is full';
  if (code === 'SQLITE_IOERR_SHMSIZE') return 'the disk is full (its shared-memory file cannot grow)';
  if (code.startsWith('SQLITE_IOERR')) return `an input/output error (${code})`;
  if (isSystemError(e)) return systemReason(e);
  return (e as Error).message;
}
