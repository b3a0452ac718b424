// Faces at ingest on ordinary photos, through the real `camd scan --faces` process with its
// defaults: no animal or object face kept (the second look), the small faces of a group photo kept,
// their eyes level, and --dedupe collapsing the same person only, never two people whose crops
// look alike. The photos: tests/support/fixtures.ts ORDINARY_DIR (Debian opencv-doc, npm
// @vladmandic/face-api), counted by eye in bench/face-photos.json.
import { describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ORDINARY_DIR, REPO, SKIMAGE_DIR } from '../support/fixtures.js';
import { tempDir } from '../support/folders.js';
import { camd } from '../support/cli.js';

interface Report {
  derived: { root: string; datasetId: number; images: number };
  faces: { found: number; kept: number; lowScore: number; collapsed: number };
  nearDuplicatePairs: { a: string; b: string; distance: number; similarity: number | null; samePerson: boolean }[];
  eyeLineUnsure: { crop: string; degrees: number }[];
}

const counted = JSON.parse(readFileSync(join(REPO, 'bench', 'face-photos.json'), 'utf8')).photos as Record<
  string,
  { kind: string; faces: [number, number, number, number][] }
>;

function scan(dir: string, db: string, more: string[] = []) {
  const r = camd(['scan', dir, '--faces', '--json', '--db', db, ...more]);
  expect(r.status, r.stderr).toBe(0);
  return { report: r.events.at(-1) as unknown as Report, stdout: r.stdout };
}

/** Each kept face of the derived dataset: its photo, box, landmarks, crop. */
function keptFaces(db: string, datasetId: number) {
  const d = new Database(db, { readonly: true });
  try {
    return (
      d
        .prepare(
          `SELECT i.rel_path AS photo, f.box, f.landmarks, f.crop_path, f.status FROM faces f
           JOIN images i ON i.id = f.source_image_id WHERE f.dataset_id = ? AND f.status = 'kept'`,
        )
        .all(datasetId) as { photo: string; box: string; landmarks: string; crop_path: string }[]
    ).map((r) => ({ ...r, box: JSON.parse(r.box) as number[], landmarks: JSON.parse(r.landmarks) }));
  } finally {
    d.close();
  }
}

describe('faces at ingest on ordinary photos (defaults)', () => {
  it('keeps no animal or object face — a dog, a baboon, a cat, a squirrel, a cartoon fish — and every face of a group photo whose faces are 35–60 px', () => {
    const dir = tempDir('ordinary');
    const animals = [
      'ocv-dog.png',
      'ocv-baboon.jpg',
      'ocv-cat.jpg',
      'ocv-squirrel.jpg',
      'ocv-happy-fish.jpg',
      'ocv-fruits.jpg',
    ];
    for (const f of [...animals, 'group-sample5-480.jpg']) copyFileSync(join(ORDINARY_DIR, f), join(dir, f));
    copyFileSync(join(SKIMAGE_DIR, 'chelsea.png'), join(dir, 'chelsea.png'));
    const db = join(tempDir('db'), 'camd.db');
    const { report } = scan(dir, db);
    const kept = keptFaces(db, report.derived.datasetId);
    expect(kept.filter((k) => k.photo !== 'group-sample5-480.jpg')).toEqual([]);
    // the baboon's eye and the fish convinced the face mesh (0.62, 0.68) but not the box detector
    expect(report.faces.lowScore).toBeGreaterThanOrEqual(2);
    // the five women of the group photo, each found where counted by eye
    const truth = counted['group-sample5-480.jpg']!.faces;
    expect(kept).toHaveLength(truth.length);
    for (const g of truth) {
      const hit = kept.filter((k) => {
        const cx = k.box[0]! + k.box[2]! / 2;
        const cy = k.box[1]! + k.box[3]! / 2;
        return cx >= g[0] && cx <= g[0] + g[2] && cy >= g[1] && cy <= g[1] + g[3];
      });
      expect(hit, JSON.stringify(g)).toHaveLength(1);
    }
  }, 300_000);

  it('the eyes of the crops of tilted heads in group photos are level: detected again on each crop, within 5°', () => {
    const dir = tempDir('tilted');
    for (const f of ['group-sample4.jpg', 'group-sample6.jpg']) copyFileSync(join(ORDINARY_DIR, f), join(dir, f));
    const { report } = scan(dir, join(tempDir('db'), 'camd.db'));
    expect(report.faces.kept).toBe(8);
    const db2 = join(tempDir('db'), 'camd.db');
    const again = scan(report.derived.root, db2, ['--min-face', '1', '--min-score', '0']).report;
    const byCrop = new Map<string, { box: number[]; landmarks: { rightEye: number[]; leftEye: number[] } }>();
    for (const f of keptFaces(db2, again.derived.datasetId)) {
      const had = byCrop.get(f.photo);
      if (!had || f.box[2]! > had.box[2]!) byCrop.set(f.photo, f); // the crop's face: its largest
    }
    expect(byCrop.size).toBe(8);
    const angles = [...byCrop.values()].map(({ landmarks: l }) => {
      const deg = Math.abs(
        (Math.atan2(l.leftEye[1]! - l.rightEye[1]!, l.leftEye[0]! - l.rightEye[0]!) * 180) / Math.PI,
      );
      return Math.min(deg, 180 - deg);
    });
    expect(Math.max(...angles), JSON.stringify(angles)).toBeLessThan(5);
  }, 300_000);

  it('--dedupe collapses the same person only: at 26 bits, of two sizes of one group photo, each woman is kept once and no two women merge', () => {
    const dir = tempDir('dedupe');
    for (const f of ['group-sample5.jpg', 'group-sample5-480.jpg']) copyFileSync(join(ORDINARY_DIR, f), join(dir, f));
    const db = join(tempDir('db'), 'camd.db');
    const { report } = scan(dir, db, ['--dedupe', '26']);
    // five women, each twice: each kept once
    expect(report.faces.kept).toBe(5);
    expect(report.faces.collapsed).toBe(5);
    for (const p of report.nearDuplicatePairs) {
      expect(p.samePerson).toBe(true);
      // the same face at both sizes
      expect(p.a.replace('-480', '').split('.face')[0]).toBe(p.b.replace('-480', '').split('.face')[0]);
      expect(p.similarity!).toBeGreaterThanOrEqual(0.7);
    }
    // difference hashes alone would have merged different women: two of one photo within 26 bits
    const d = new Database(db, { readonly: true });
    const hashes = d
      .prepare('SELECT f.source_image_id AS photo, f.dhash FROM faces f WHERE f.dataset_id = ? AND f.dhash IS NOT NULL')
      .all(report.derived.datasetId) as { photo: number; dhash: string }[];
    d.close();
    const bits = (a: string, b: string) =>
      [...(BigInt(`0x${a}`) ^ BigInt(`0x${b}`)).toString(2)].filter((c) => c === '1').length;
    const apart = hashes.flatMap((a, i) =>
      hashes
        .slice(i + 1)
        .filter((b) => b.photo === a.photo)
        .map((b) => bits(a.dhash, b.dhash)),
    );
    expect(Math.min(...apart)).toBeLessThanOrEqual(26);
  }, 300_000);
});
