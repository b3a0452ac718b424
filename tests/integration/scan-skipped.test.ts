// Every entry a scan does not read is named with its reason — in the library's report, in
// `camd scan DIR` (JSON and the lines a person reads) and in `camd scan DIR --faces` — on a folder
// of real faces with the odd things ordinary folders hold: an animated GIF, notes, hidden files,
// links that loop back (to the folder itself, to the root, to a folder above the root), a second
// link to one folder, a link to itself, a broken link, a loop of links, a named pipe.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Store } from '../../trainer/src/store/store.js';
import { scanDataset } from '../../trainer/src/data/scan.js';
import { SKIPPED_LISTED } from '../../trainer/src/data/walk.js';
import { clmFaces, lfwFaces, tempDir } from '../support/folders.js';
import { camd } from '../support/cli.js';

const OTHER = 'jpg, jpeg, png, webp, bmp are read';

async function oddFolder(): Promise<string> {
  const parent = tempDir('odd');
  const root = join(parent, 'photos');
  const faces = clmFaces();
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(join(root, 'real'));
  mkdirSync(join(root, '.thumbs'));
  copyFileSync(faces[0]!, join(root, 'a.jpg'));
  copyFileSync(faces[1]!, join(root, 'sub', 'b.jpg'));
  copyFileSync(lfwFaces()[0]!, join(root, 'real', 'c.png'));
  copyFileSync(faces[2]!, join(root, '.thumbs', 'a-small.jpg')); // inside a hidden folder: not searched
  copyFileSync(faces[3]!, join(parent, 'outside.jpg')); // above the root: a link up there must not bring it in
  const frames = await Promise.all(faces.slice(4, 6).map((f) => sharp(f).resize(64, 64).toBuffer()));
  await sharp(frames, { join: { animated: true } })
    .gif()
    .toFile(join(root, 'anim.gif'));
  writeFileSync(join(root, 'notes.txt'), 'who is who\n');
  writeFileSync(join(root, 'README'), 'photos of the party\n');
  writeFileSync(join(root, '.DS_Store'), Buffer.alloc(16));
  symlinkSync('..', join(root, 'sub', 'up')); // the root
  symlinkSync('../..', join(root, 'sub', 'up2')); // the folder above the root
  symlinkSync('.', join(root, 'sub', 'here')); // the folder it is in
  symlinkSync('real', join(root, 'alias')); // a second way to real/
  symlinkSync('self', join(root, 'self'));
  symlinkSync('nowhere.jpg', join(root, 'broken.jpg'));
  symlinkSync('loopb', join(root, 'loopa'));
  symlinkSync('loopa', join(root, 'loopb'));
  execFileSync('mkfifo', [join(root, 'pipe.jpg')]);
  return root;
}

const SKIPPED = [
  { path: '.DS_Store', reason: 'hidden (the name starts with a dot): not read' },
  { path: '.thumbs', reason: 'hidden (the name starts with a dot): not searched' },
  { path: 'README', reason: `not an image type camd reads (no extension): ${OTHER}` },
  { path: 'alias', reason: 'a link to a folder walked already (as real): not followed again' },
  { path: 'anim.gif', reason: `not an image type camd reads (.gif): ${OTHER}` },
  { path: 'notes.txt', reason: `not an image type camd reads (.txt): ${OTHER}` },
  { path: 'pipe.jpg', reason: 'a named pipe: not read' },
  { path: 'sub/here', reason: 'a link to the folder it is in (a loop, to .): not followed' },
  { path: 'sub/up', reason: 'a link to a folder above it (a loop, to ..): not followed' },
  { path: 'sub/up2', reason: 'a link to a folder above it (a loop, to ../..): not followed' },
];
const BAD = [
  { path: 'broken.jpg', reason: 'a broken link to nowhere.jpg (it does not exist)' },
  { path: 'loopa', reason: 'a link in a loop of links (to loopb)' },
  { path: 'loopb', reason: 'a link in a loop of links (to loopa)' },
  { path: 'self', reason: 'a link to itself' },
];

describe('every entry not read is named with its reason', () => {
  it('the scan report names each skipped entry and each link it cannot follow; the counts stay', async () => {
    const root = await oddFolder();
    const store = new Store(join(tempDir('db'), 'camd.db'));
    const r = await scanDataset(store, root);
    expect(store.images(r.datasetId, 'ok').map((i) => i.rel_path)).toEqual(['a.jpg', 'real/c.png', 'sub/b.jpg']);
    expect(r.images).toBe(3);
    expect(r.skipped).toEqual(SKIPPED);
    expect(r.skippedTotal).toBe(SKIPPED.length);
    expect(r.bad).toEqual(BAD);
    expect(r.ignored).toBe(3); // anim.gif, notes.txt, README: files of other types, as before
    store.close();
  });

  it('camd scan names them in its JSON and in the lines a person reads', async () => {
    const root = await oddFolder();
    const db = join(tempDir('db'), 'camd.db');
    const j = camd(['scan', root, '--db', db, '--json']);
    expect(j.status, j.stderr).toBe(0);
    const rep = JSON.parse(j.stdout) as { skipped: unknown[]; skippedTotal: number; ignored: number };
    expect(rep).toMatchObject({ skipped: SKIPPED, skippedTotal: SKIPPED.length, ignored: 3 });
    const h = camd(['scan', root, '--db', db]);
    expect(h.status, h.stderr).toBe(0);
    expect(h.stdout).toContain('3 readable image(s), 4 unreadable file(s), 10 skipped');
    for (const s of SKIPPED) expect(h.stdout).toContain(`  skipped: ${s.path}: ${s.reason}\n`);
    for (const b of BAD) expect(h.stdout).toContain(`  unreadable: ${b.path}: ${b.reason}\n`);
  });

  it('camd scan --faces names them too (JSON and lines)', async () => {
    const root = await oddFolder();
    const db = join(tempDir('db'), 'camd.db');
    const j = camd(['scan', root, '--faces', '--db', db, '--json']);
    expect(j.status, j.stderr).toBe(0);
    const rep = j.events.at(-1) as unknown as { source: { skipped: unknown[]; skippedTotal: number } };
    expect(rep.source).toMatchObject({ skipped: SKIPPED, skippedTotal: SKIPPED.length });
    const h = camd(['scan', root, '--faces', '--db', db]);
    expect(h.status, h.stderr).toBe(0);
    expect(h.stdout).toContain('3 readable photo(s), 4 unreadable file(s), 10 skipped');
    for (const s of SKIPPED) expect(h.stdout).toContain(`  skipped: ${s.path}: ${s.reason}\n`);
  }, 120_000);

  it(`a folder of thousands of other files: the first ${SKIPPED_LISTED} are named, all are counted, and the lines a person reads stay short`, async () => {
    const root = tempDir('many');
    copyFileSync(clmFaces()[0]!, join(root, 'face.jpg'));
    const n = SKIPPED_LISTED + 203;
    for (let i = 0; i < n; i++) writeFileSync(join(root, `note${String(i).padStart(5, '0')}.txt`), `${i}\n`);
    const db = join(tempDir('db'), 'camd.db');
    const rep = JSON.parse(camd(['scan', root, '--db', db, '--json']).stdout) as {
      skipped: { path: string }[];
      skippedTotal: number;
      ignored: number;
    };
    expect(rep.skipped).toHaveLength(SKIPPED_LISTED);
    expect(rep.skipped[0]!.path).toBe('note00000.txt');
    expect(rep).toMatchObject({ skippedTotal: n, ignored: n });
    const h = camd(['scan', root, '--db', db]);
    expect(h.stdout).toContain(`1 readable image(s), 0 unreadable file(s), ${n} skipped`);
    expect(h.stdout).toContain(
      `  skipped ${SKIPPED_LISTED} file(s): not an image type camd reads (.txt): ${OTHER}: note00000.txt, note00001.txt, note00002.txt, note00003.txt, note00004.txt and ${SKIPPED_LISTED - 5} more (all in camd scan --json)\n`,
    );
    expect(h.stdout).toContain(
      `  … and ${n - SKIPPED_LISTED} more not read, past the ${SKIPPED_LISTED} a report names\n`,
    );
    expect(h.stdout.split('\n').length).toBeLessThan(12);
  });
});
