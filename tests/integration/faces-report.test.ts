// What `camd scan DIR --faces` tells a person, on real photographs through the real process: when
// no face is kept it says so, names each photo with why, and gives the settings that would keep
// them (and those settings do); with --dedupe the crops it counts are the crops it wrote.
import { describe, expect, it } from 'vitest';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { CLM_DIR, SKIMAGE_DIR } from '../support/fixtures.js';
import { tempDir } from '../support/folders.js';
import { camd } from '../support/cli.js';

interface Report {
  derived: { root: string; images: number };
  faces: { found: number; kept: number; small: number; lowScore: number; collapsed: number };
  photos: { withoutKeptFace: number; noFaceFound: number; withoutKeptFaceExamples: { path: string; reason: string }[] };
  crops: { made: number; reused: number };
}

/** Photos none of whose faces is kept at --min-score 0.7: no face, a small face, a face the detector is unsure of. */
async function unkeptFolder(): Promise<string> {
  const dir = tempDir('unkept');
  copyFileSync(join(SKIMAGE_DIR, 'coffee.png'), join(dir, 'coffee.png'));
  copyFileSync(join(SKIMAGE_DIR, 'camera.png'), join(dir, 'camera.png')); // the cameraman: score 0.64 (box 0.74, mesh 0.55)
  await sharp(join(CLM_DIR, 'audrey.jpg')).resize(70).jpeg({ quality: 92 }).toFile(join(dir, 'small.jpg')); // a 29-px face
  return dir;
}

describe('the faces report', () => {
  it('no face kept: exit 2, no pre-training line; each photo named with why, and the settings that keep them — which do', async () => {
    const dir = await unkeptFolder();
    const db = join(tempDir('db'), 'camd.db');
    const h = camd(['scan', dir, '--faces', '--min-score', '0.7', '--min-face', '40', '--db', db]);
    expect(h.status).toBe(2);
    expect(h.stdout).not.toContain('pre-train on them');
    expect(h.stdout).toContain('  no face kept: 3 photo(s) without a usable face\n');
    expect(h.stdout).toContain('    coffee.png: no face found\n');
    expect(h.stdout).toMatch(/\n {4}camera\.png: 1 face below score 0\.7 \(0\.6\d\)\n/);
    expect(h.stdout).toMatch(/\n {4}small\.jpg: 1 face too small \(29 px; the minimum is 40\)\n/);
    const minFace = /try --min-face (\d+) to keep the faces too small/.exec(h.stdout)?.[1];
    const minScore = /try --min-score (0\.\d+) to keep the faces below the score/.exec(h.stdout)?.[1];
    expect([minFace, minScore]).toEqual(['29', expect.stringMatching(/^0\.6\d$/)]);
    expect(h.stdout).toContain('  try --tiles 2 to look for small faces in the photos where none was found');
    expect(h.stderr.trim().split('\n')).toHaveLength(1);
    expect(h.stderr).toMatch(
      /^camd: no face kept in .*: 3 photo\(s\) without a usable face; try --min-face 29, --min-score 0\.6\d, --tiles 2\n$/,
    );
    // the same with --json: the report names the photos, the one line says what to try
    const j = camd(['scan', dir, '--faces', '--min-score', '0.7', '--min-face', '40', '--db', db, '--json']);
    expect(j.status).toBe(2);
    const rep = j.events.find((e) => 'faces' in e) as unknown as Report;
    expect(j.events.at(-1)).toEqual({ type: 'error', message: h.stderr.slice('camd: '.length).trim(), cause: 'input' });
    expect(rep.faces).toMatchObject({ kept: 0, small: 1, lowScore: 1 });
    expect(rep.photos).toMatchObject({ withoutKeptFace: 3, noFaceFound: 1 });
    expect(rep.photos.withoutKeptFaceExamples.map((p) => p.path)).toEqual(['camera.png', 'coffee.png', 'small.jpg']);
    expect(j.stderr).toBe(h.stderr);
    // what it says to try keeps them
    const again = camd([
      'scan',
      dir,
      '--faces',
      '--min-score',
      minScore!,
      '--min-face',
      minFace!,
      '--db',
      db,
      '--json',
    ]);
    expect(again.status, again.stderr).toBe(0);
    const kept = again.events.at(-1) as unknown as Report;
    expect(kept.faces.kept).toBe(2);
    expect(kept.photos.withoutKeptFaceExamples).toEqual([{ path: 'coffee.png', reason: 'no face found' }]);
  }, 180_000);

  it('some photos without a kept face: named in the report, with the pre-training line still there', async () => {
    const dir = await unkeptFolder();
    copyFileSync(join(CLM_DIR, 'audrey.jpg'), join(dir, 'audrey.jpg'));
    const h = camd(['scan', dir, '--faces', '--db', join(tempDir('db'), 'camd.db')]);
    expect(h.status, h.stderr).toBe(0);
    expect(h.stdout).toContain(
      '  faces found but none kept in 1 photo(s):\n    small.jpg: 1 face too small (29 px; the minimum is 32)\n  try --min-face 29 to keep the faces too small (29 px; a crop of the smallest is enlarged 4.4× from 58 photo pixels, and is that much blurrier)',
    );
    expect(h.stdout).toContain('  pre-train on them: camd pretrain --data ');
  }, 180_000);

  it('--dedupe: the crops counted are the crops written, on the first scan and on a re-scan', async () => {
    const dir = tempDir('dedupe');
    copyFileSync(join(CLM_DIR, 'franck_02159.jpg'), join(dir, 'a.jpg'));
    await sharp(join(CLM_DIR, 'franck_02159.jpg'))
      .modulate({ brightness: 1.03 })
      .jpeg({ quality: 80 })
      .toFile(join(dir, 'b.jpg')); // the same shot, a little brighter: a near-duplicate
    copyFileSync(join(CLM_DIR, 'audrey.jpg'), join(dir, 'c.jpg'));
    const db = join(tempDir('db'), 'camd.db');
    const scan = () => {
      const r = camd(['scan', dir, '--faces', '--dedupe', '6', '--db', db, '--json']);
      expect(r.status, r.stderr).toBe(0);
      return r.events.at(-1) as unknown as Report;
    };
    const first = scan();
    expect(first.faces).toMatchObject({ found: 3, kept: 2, collapsed: 1 });
    const written = readdirSync(first.derived.root).sort();
    expect(written).toEqual(['a.face0.png', 'c.face0.png']);
    expect(first.crops).toEqual({ made: 2, reused: 0 });
    expect(first.derived.images).toBe(2);
    const second = scan();
    expect(second.crops).toEqual({ made: 0, reused: 2 });
    expect(readdirSync(second.derived.root).sort()).toEqual(written);
    const h = camd(['scan', dir, '--faces', '--dedupe', '6', '--db', db]);
    expect(h.stdout).toContain('; 0 made, 2 unchanged since the last scan\n');
    expect(h.stdout).toContain('kept 2; not kept:');
  }, 180_000);
});
