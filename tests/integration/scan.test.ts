// Dataset index on real images decoded by the real decoder, stored in a real SQLite file.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, readFileSync, realpathSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../../trainer/src/store/store.js';
import { knownImages, scanDataset } from '../../trainer/src/data/scan.js';
import sharp from 'sharp';
import { clmFaces, mixedFolder, tempDir } from '../support/folders.js';

const CAMD = fileURLToPath(new URL('../../trainer/bin/camd.js', import.meta.url));
const camd = (args: string[]) => spawnSync(process.execPath, [CAMD, ...args], { encoding: 'utf8', timeout: 120_000 });

describe('dataset index', () => {
  it('records every image and every unreadable file with its reason, following no symlink loop', async () => {
    const { dir, good, bad } = await mixedFolder();
    const store = new Store(join(tempDir('db'), 'camd.db'));
    const r = await scanDataset(store, dir);
    const rows = store.images(r.datasetId);
    expect(rows.filter((x) => x.status === 'ok').map((x) => x.rel_path)).toEqual(good);
    // sizes from the files' own headers (sharp's metadata; the BMP was written at 64×64), bytes from stat, hashes of the bytes on disk
    const faces = clmFaces();
    const size = async (f: string) => {
      const m = await sharp(f).metadata();
      return [m.width, m.height];
    };
    const expected: Record<string, [number, number, string]> = {
      'a.jpg': [...(await size(faces[0]!)), 'jpeg'] as [number, number, string],
      'sub/B.JPEG': [...(await size(faces[1]!)), 'jpeg'] as [number, number, string],
      'sub/c.PNG': [...(await size(faces[2]!)), 'png'] as [number, number, string],
      'sub/deeper/d.webp': [...(await size(faces[3]!)), 'webp'] as [number, number, string],
      'e.bmp': [64, 64, 'bmp'],
    };
    for (const x of rows.filter((x) => x.status === 'ok')) {
      const abs = join(dir, x.rel_path);
      expect([x.width, x.height, x.format], x.rel_path).toEqual(expected[x.rel_path]);
      expect(x.bytes, x.rel_path).toBe(statSync(abs).size);
      expect(x.sha256, x.rel_path).toBe(createHash('sha256').update(readFileSync(abs)).digest('hex'));
    }
    expect(r.bad.map((b) => b.path).sort()).toEqual(Object.keys(bad).sort());
    for (const b of r.bad) expect(b.reason, b.path).toMatch(bad[b.path]!);
    expect(r.ignored).toBe(1);
    expect(store.dataset(r.datasetId)!.image_count).toBe(good.length);
    store.close();
  });

  it('a re-scan picks up added, changed and removed files without redoing the rest', async () => {
    const dir = tempDir('rescan');
    const faces = clmFaces();
    for (let i = 0; i < 5; i++) copyFileSync(faces[i]!, join(dir, `f${i}.jpg`));
    const store = new Store(join(tempDir('db'), 'camd.db'));
    const first = await scanDataset(store, dir);
    expect([first.added, first.changed, first.removed, first.unchanged]).toEqual([5, 0, 0, 0]);
    copyFileSync(faces[6]!, join(dir, 'new.jpg'));
    rmSync(join(dir, 'f0.jpg'));
    copyFileSync(faces[7]!, join(dir, 'f1.jpg')); // changed content
    utimesSync(join(dir, 'f1.jpg'), new Date(), new Date(Date.now() + 5000));
    const second = await scanDataset(store, dir);
    expect([second.added, second.changed, second.removed, second.unchanged]).toEqual([1, 1, 1, 3]);
    expect(second.images).toBe(5);
    appendFileSync(join(dir, 'f2.jpg'), Buffer.alloc(0)); // touched, same bytes and mtime → unchanged
    const third = await scanDataset(store, dir);
    expect(third.unchanged).toBe(5);
    store.close();
  });

  it('records what it inspects as it goes: another process sees it mid-scan, a stop keeps it, the next scan finds it unchanged; the index is read a page at a time', async () => {
    const dir = tempDir('as-it-goes');
    for (let i = 0; i < 200; i++)
      await sharp({
        create: { width: 24, height: 20, channels: 3, background: { r: i, g: 255 - i, b: (i * 7) % 256 } },
      })
        .jpeg()
        .toFile(join(dir, `i${String(i).padStart(3, '0')}.jpg`));
    const file = join(tempDir('db'), 'camd.db');
    const store = new Store(file);
    const other = new Store(file); // another connection: what a crash at this moment would leave
    const stop = new AbortController();
    let seenMidway = -1;
    const first = await scanDataset(store, dir, {
      concurrency: 2,
      signal: stop.signal,
      onProgress: (done) => {
        if (done !== 150) return;
        seenMidway = other.images(other.datasetByRoot(realpathSync(dir))!.id).length;
        stop.abort();
      },
    });
    // committed 64 at a time (or each second): at the 150th file at least 128 are on disk
    expect(seenMidway).toBeGreaterThanOrEqual(128);
    expect(first.complete).toBe(false);
    const kept = store.images(first.datasetId).length;
    expect(kept).toBeGreaterThanOrEqual(150);
    const second = await scanDataset(store, dir);
    expect(second.complete).toBe(true);
    expect(second.unchanged).toBe(kept);
    expect(second.added).toBe(200 - kept);
    expect(second.images).toBe(200);
    expect(store.dataset(first.datasetId)!.image_count).toBe(200);
    // new images got their ids in path order, whatever order their decodes finished in
    const ids = store.images(first.datasetId).map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // the index as a scan reads it, 7 rows a page: every image once, by its path
    const known = await knownImages(store, first.datasetId, 7);
    expect(known.size).toBe(200);
    expect([...known.keys()].sort()).toEqual(store.images(first.datasetId).map((r) => r.rel_path));
    other.close();
    store.close();
  });
});

describe('camd scan', () => {
  it('the pixel limit of each scan decides: an image accepted under a raised --max-pixels is refused under the default, and back', async () => {
    const dir = tempDir('limit');
    copyFileSync(clmFaces()[0]!, join(dir, 'face.jpg'));
    await sharp({ create: { width: 6000, height: 10000, channels: 3, background: { r: 90, g: 60, b: 40 } } })
      .png({ compressionLevel: 9 })
      .toFile(join(dir, 'big.png'));
    const db = join(tempDir('db'), 'camd.db');
    const scan = (extra: string[]) =>
      JSON.parse(camd(['scan', dir, '--db', db, '--json', ...extra]).stdout) as {
        images: number;
        bad: { path: string; reason: string }[];
      };
    expect(scan(['--max-pixels', '100000000']).images).toBe(2);
    const strict = scan([]); // the default 50 000 000
    expect(strict.images).toBe(1);
    expect(strict.bad).toEqual([
      {
        path: 'big.png',
        reason: expect.stringMatching(
          /^too large: 6000×10000 = 60,000,000 pixels exceeds the limit of 50,000,000/,
        ) as unknown as string,
      },
    ]);
    expect(scan(['--max-pixels', '100000000']).images).toBe(2);
  });

  it('reports counts and each bad file by name; exit 0 when some files are bad', async () => {
    const { dir, bad } = await mixedFolder();
    const db = join(tempDir('db'), 'camd.db');
    const r = camd(['scan', dir, '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/5 readable image\(s\), 4 unreadable file\(s\)/);
    for (const name of Object.keys(bad)) expect(r.stdout).toContain(`unreadable: ${name}: `);
    const j = camd(['scan', dir, '--db', db, '--json']);
    const rep = JSON.parse(j.stdout) as { images: number; bad: { path: string }[]; unchanged: number };
    expect(rep.images).toBe(5);
    expect(rep.unchanged).toBe(9);
  });

  it('a missing folder, or one without a readable image, is one line and a non-zero exit', () => {
    const db = join(tempDir('db'), 'camd.db');
    const r = camd(['scan', '/nonexistent/faces', '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('camd: the folder /nonexistent/faces does not exist');
    const empty = tempDir('empty');
    const r2 = camd(['scan', empty, '--db', db]);
    expect(r2.status).toBe(2);
    expect(r2.stderr.trim()).toMatch(/^camd: no readable image in /);
    expect(r2.stderr).not.toMatch(/\n\s+at /);
  });
});
