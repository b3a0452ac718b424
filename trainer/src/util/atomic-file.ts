/**
 * Atomic file writes: a temporary file in the same folder (`.<name>.tmp-<pid>`), fsync, rename,
 * fsync of the folder. A crash or a full disk leaves the previous file untouched; a crash can
 * leave the temporary file, which `removeStaleTemps` clears once the folder is locked again.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CamdError } from './errors.js';
import { reasonOf } from './system-errors.js';

/** Minimal file-system surface, injectable so that tests can simulate a full disk. */
export interface WriteFs {
  openSync: typeof openSync;
  writeSync: (fd: number, buffer: Uint8Array, offset?: number, length?: number) => number;
  fsyncSync: typeof fsyncSync;
  closeSync: typeof closeSync;
  renameSync: typeof renameSync;
  rmSync: typeof rmSync;
}

const realFs: WriteFs = {
  openSync,
  writeSync: (fd, b, o, l) => writeSync(fd, b, o, l),
  fsyncSync,
  closeSync,
  renameSync,
  rmSync,
};

/** The temporary name of `path` for process `pid`. */
export function tempPathOf(path: string, pid = process.pid): string {
  return join(dirname(path), `.${basename(path)}.tmp-${pid}`);
}

/** Matches the temporary files of writeFileAtomic (and of the decode cache); group 1 is the pid. */
export const TEMP_FILE = /^\..+\.tmp-(\d+)$/;

/** Writes bytes to `path` atomically. On any failure the temp file is removed and `path` is untouched. */
export function writeFileAtomic(path: string, bytes: Uint8Array, fs: WriteFs = realFs): void {
  const tmp = tempPathOf(path);
  const existed = existsSync(path);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'w', 0o644);
    for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off, Math.min(bytes.length - off, CHUNK));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null; // closed: a failed rename must not close it again
    fs.renameSync(tmp, path);
  } catch (e) {
    throw failed(e, { path, tmp, fd, existed, fs });
  }
  fsyncFolder(path);
}

/**
 * writeFileAtomic in 16 MB chunks, giving the event loop a turn between them: a signal (a second
 * Ctrl-C, "quit at once") is handled during the write of a large checkpoint, not after it. The
 * bytes may come in parts, written one after another (a checkpoint's header, then each tensor).
 */
export async function writeFileAtomicYielding(
  path: string,
  data: Uint8Array | readonly Uint8Array[],
  fs: WriteFs = realFs,
): Promise<void> {
  const tmp = tempPathOf(path);
  const existed = existsSync(path);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'w', 0o644);
    for (const bytes of data instanceof Uint8Array ? [data] : data)
      for (let off = 0; off < bytes.length; ) {
        off += fs.writeSync(fd, bytes, off, Math.min(bytes.length - off, CHUNK));
        await new Promise((done) => setImmediate(done));
      }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, path);
  } catch (e) {
    throw failed(e, { path, tmp, fd, existed, fs });
  }
  fsyncFolder(path);
}

const CHUNK = 1 << 24;

/** The temp file closed (when still open) and removed; the error as the user reads it. */
function failed(
  e: unknown,
  o: { path: string; tmp: string; fd: number | null; existed: boolean; fs: WriteFs },
): CamdError {
  if (o.fd !== null) {
    try {
      o.fs.closeSync(o.fd);
    } catch {
      /* already failing */
    }
  }
  try {
    o.fs.rmSync(o.tmp, { force: true });
  } catch {
    /* a read-only folder: nothing was created */
  }
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new CamdError(
      'disk-full',
      `disk full while writing ${o.path} (${o.existed ? 'the previous file is intact' : 'no partial file was left'})`,
    );
  return new CamdError('io', `cannot write ${o.path}: ${reasonOf(e)}`);
}

function fsyncFolder(path: string): void {
  try {
    const dfd = openSync(dirname(path), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    /* directories cannot be fsynced on every platform */
  }
}

/**
 * Removes the temporary files of writeFileAtomic left in `dir` by processes other than this one
 * (call it only while holding the folder's lock: no other writer can be at work there).
 * Returns the removed files and their total size.
 */
export function removeStaleTemps(dir: string): { files: string[]; bytes: number } {
  const out = { files: [] as string[], bytes: 0 };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const m = TEMP_FILE.exec(n);
    if (!m || Number(m[1]) === process.pid) continue;
    const f = join(dir, n);
    try {
      out.bytes += statSync(f).size;
      rmSync(f, { force: true });
      out.files.push(f);
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}
