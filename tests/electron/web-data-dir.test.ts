// `npm run web -- --data-dir DIR` with a data folder that cannot be used: one line in words that
// says what is wrong and what to change (--data-dir), exit 2 — not ENOENT/EEXIST or the CLI's --db.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/folders.js';
import { mountTmpfs, unmount } from '../support/tmpfs.js';

const WEB = join(import.meta.dirname, '..', '..', 'electron', 'dist', 'web.js');

function web(dataDir: string): { status: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, [WEB, '--port', '0', '--data-dir', dataDir], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, lines: r.stderr.trim().split('\n') };
}

describe('npm run web with a data folder it cannot use', () => {
  it('one line in words, naming --data-dir, exit 2', () => {
    const w = tempDir('web-data');
    const file = join(w, 'a-file');
    writeFileSync(file, 'not a folder\n');
    const notStore = join(w, 'not-a-store');
    mkdirSync(notStore);
    writeFileSync(join(notStore, 'camd.db'), Buffer.alloc(4096, 0x41));
    const storeFolder = join(w, 'store-is-a-folder');
    mkdirSync(join(storeFolder, 'camd.db'), { recursive: true });
    const runsFile = join(w, 'runs-is-a-file');
    mkdirSync(runsFile);
    writeFileSync(join(runsFile, 'runs'), 'x');
    const cases: [string, string][] = [
      [
        file,
        `cannot create the data folder ${file}: a part of the path is a file, not a folder; use another data folder (--data-dir)`,
      ],
      [
        join(file, 'sub'),
        `cannot create the data folder ${join(file, 'sub')}: a part of the path is a file, not a folder; use another data folder (--data-dir)`,
      ],
      [
        notStore,
        `cannot open the store ${join(notStore, 'camd.db')}: it is not an SQLite database (not a CAMD store); use another data folder (--data-dir)`,
      ],
      [
        storeFolder,
        `${join(storeFolder, 'camd.db')} is a folder where the store's file belongs; use another data folder (--data-dir)`,
      ],
      [
        runsFile,
        `cannot create the data folder's runs folder ${join(runsFile, 'runs')}: a part of the path is a file, not a folder; use another data folder (--data-dir)`,
      ],
    ];
    const ro = mountTmpfs('ro,size=64k');
    if ('dir' in ro)
      cases.push([
        join(ro.dir, 'data'),
        `cannot create the data folder ${join(ro.dir, 'data')}: the file system is read-only; use another data folder (--data-dir)`,
      ]);
    else console.warn(`read-only case skipped: cannot mount a read-only tmpfs here (${ro.why})`);
    try {
      for (const [dir, line] of cases) expect(web(dir), dir).toEqual({ status: 2, lines: [`camd web: ${line}`] });
    } finally {
      if ('dir' in ro) unmount(ro.dir);
    }
  });
});
