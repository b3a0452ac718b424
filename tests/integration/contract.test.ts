// The API contract over its browser-mode transport (HTTP + WebSocket) against a real host: real
// SQLite files, real sharp thumbnails, the real trainer worker, real face photographs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  existsSync,
  statSync,
} from 'node:fs';
import { CLM_DIR, SKIMAGE_DIR } from '../support/fixtures.js';
import { join } from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';
import { faceFolder, mixedFolder, tempDir } from '../support/folders.js';
import { expressionFolders } from '../support/rendered-faces.js';
import { errorOf, hosted, until, type Hosted } from '../support/app-host.js';
import { hostilePaths } from '../support/hostile-paths.js';
import { camd } from '../support/cli.js';
import { readTensorFile } from '../../trainer/src/store/checkpoint.js';
import type { Job, TopicEvent } from '../../electron/common/contract.js';

let h: Hosted;
beforeAll(async () => {
  h = await hosted();
});
afterAll(async () => {
  await h?.close();
});

const MICRO = { preset: 'micro' as const, batch: 4, warmupEpochs: 0, blr: 0.05 };

async function addAndScan(path: string): Promise<{ id: number; jobs: Job[] }> {
  const jobs: Job[] = [];
  const off = await h.client.subscribe('jobs', {}, (j) => jobs.push(j));
  const { dataset, job } = await h.client.call('datasets.add', { path });
  await until('the scan to end', () => jobs.find((j) => j.id === job.id && j.status !== 'running'), Boolean);
  off();
  return { id: dataset.id, jobs: jobs.filter((j) => j.id === job.id) };
}

describe('datasets', () => {
  it('adding a folder scans it in the background with progress; bad files come with their reasons; pages, filters, stats', async () => {
    const { dir, good, bad } = await mixedFolder();
    const { id, jobs } = await addAndScan(dir);
    const last = jobs.at(-1)!;
    expect(last.status).toBe('done');
    expect(last.message).toMatch(/^5 readable image\(s\), 4 unreadable/);
    // what was not read is named, with its reason: a text file, and a link back to the root
    expect(last.message).toContain('2 skipped: ');
    expect(last.message).toContain('notes.txt (not an image type camd reads (.txt)');
    expect(last.message).toContain('sub/loop (a link to a folder above it');
    expect(jobs.some((j) => j.phase === 'scanning' && j.total === good.length + Object.keys(bad).length)).toBe(true);
    const list = await h.client.call('datasets.list', {});
    expect(list.find((d) => d.id === id)).toMatchObject({ image_count: 5, bad_count: 4 });
    const badPage = await h.client.call('datasets.images', { dataset: id, status: 'bad' });
    expect(badPage.total).toBe(4);
    for (const b of badPage.items) expect(b.error, b.rel_path).toMatch(bad[b.rel_path]!);
    const page1 = await h.client.call('datasets.images', { dataset: id, status: 'ok', limit: 2 });
    const page2 = await h.client.call('datasets.images', { dataset: id, status: 'ok', limit: 2, offset: 2 });
    expect(page1.total).toBe(5);
    expect([...page1.items, ...page2.items].map((i) => i.rel_path)).toEqual(good.slice(0, 4));
    expect(
      (await h.client.call('datasets.images', { dataset: id, folder: 'sub' })).items.map((i) => i.rel_path),
    ).toEqual(['sub/B.JPEG', 'sub/c.PNG', 'sub/deeper/d.webp']);
    expect((await h.client.call('datasets.images', { dataset: id, search: 'deeper' })).total).toBe(1);
    const stats = await h.client.call('datasets.stats', { id });
    expect(stats.formats).toMatchObject({ jpeg: 2, png: 1, webp: 1, bmp: 1, unreadable: 4 });
    expect(stats.resolution.reduce((a, b) => a + b.count, 0)).toBe(5);
    expect(stats.folders).toEqual([
      { folder: '', count: 2 },
      { folder: 'sub', count: 3 },
    ]);
    const detail = await h.client.call('datasets.image', { id: page1.items[0]!.id });
    expect(detail).toMatchObject({ rel_path: 'a.jpg', status: 'ok', labels: [] });
    expect(detail.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('thumbnails: WebP by id, cached by content hash, revalidated with an ETag; originals by id', async () => {
    const dir = faceFolder(3, 'thumbs');
    const { id } = await addAndScan(dir);
    const img = (await h.client.call('datasets.images', { dataset: id })).items[0]!;
    const t = await h.raw(`/api/images/${img.id}/thumb?size=128`);
    expect(t.status).toBe(200);
    expect(t.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(t.body).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(128);
    const again = await h.raw(`/api/images/${img.id}/thumb?size=128`, {
      headers: { 'If-None-Match': t.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
    const sha = (await h.client.call('datasets.image', { id: img.id })).sha256!;
    expect(existsSync(join(h.app.paths.thumbs, '128', sha.slice(0, 2), `${sha}.webp`))).toBe(true);
    const orig = await h.raw(`/api/images/${img.id}/file`);
    expect(orig.status).toBe(200);
    expect(orig.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(orig.body).metadata()).width).toBe(img.width);
  });

  it('the mask preview shows round(ratio·N) masked patches of the preset grid, and the views as PNG', async () => {
    const { id } = await addAndScan(faceFolder(2, 'maskprev'));
    const img = (await h.client.call('datasets.images', { dataset: id })).items[0]!;
    for (const [preset, ratio, N] of [
      ['tiny', 0.6, 49],
      ['tiny', 0.25, 49],
      ['micro', 0.5, 16],
    ] as const) {
      const p = await h.client.call('preview.mask', { image: img.id, preset, maskRatio: ratio, sample: 1 });
      expect(p.tokens).toBe(N);
      expect(p.masked).toBe(Math.round(ratio * N));
      expect(p.visible).toBe(N - p.masked);
      expect(p.mask.filter((m) => m === 1)).toHaveLength(p.masked);
      expect(p.view1).toMatch(/^data:image\/png;base64,/);
      const v1 = await sharp(Buffer.from(p.view1.split(',')[1]!, 'base64')).metadata();
      expect([v1.width, v1.height]).toEqual([p.imgSize, p.imgSize]);
    }
    expect(await errorOf(h.client.call('preview.mask', { image: img.id, maskRatio: 1.5 }))).toMatchObject({
      cause: 'usage',
      field: 'maskRatio',
    });
  });

  it('adding a missing folder or a file is one message with its field; deleting forgets the index, not the files', async () => {
    expect(await errorOf(h.client.call('datasets.add', { path: '/no/such/folder' }))).toEqual({
      message: 'the folder /no/such/folder does not exist',
      cause: 'input',
      field: 'path',
    });
    expect(await errorOf(h.client.call('datasets.add', { path: 'relative/faces' }))).toMatchObject({
      cause: 'input',
      field: 'path',
    });
    // a folder with no image is refused at once with its reason, not made a dataset of 0 images
    const empty = tempDir('contract-empty');
    expect(await errorOf(h.client.call('datasets.add', { path: empty }))).toEqual({
      message: `no images found in ${empty}: camd reads .jpg, .jpeg, .png, .webp, .bmp files (the folder is empty)`,
      cause: 'input',
      field: 'path',
    });
    const labelsOnly = tempDir('contract-labels');
    writeFileSync(join(labelsOnly, 'labels.csv'), 'file,label\na.jpg,happy\n');
    mkdirSync(join(labelsOnly, 'notes'));
    writeFileSync(join(labelsOnly, 'notes', 'readme.txt'), 'no pictures here');
    expect(await errorOf(h.client.call('datasets.add', { path: labelsOnly }))).toEqual({
      message: `no images found in ${labelsOnly}: camd reads .jpg, .jpeg, .png, .webp, .bmp files (it has 2 other file(s))`,
      cause: 'input',
      field: 'path',
    });
    expect((await h.client.call('datasets.list', {})).some((d) => d.root === empty || d.root === labelsOnly)).toBe(
      false,
    );
    const dir = faceFolder(2, 'todelete');
    const { id } = await addAndScan(dir);
    expect(await h.client.call('datasets.delete', { id })).toEqual({ deleted: true });
    expect((await h.client.call('datasets.list', {})).some((d) => d.id === id)).toBe(false);
    expect(existsSync(dir)).toBe(true);
    expect(await errorOf(h.client.call('datasets.stats', { id }))).toMatchObject({ cause: 'not-found' });
    const parent = dir.slice(0, dir.lastIndexOf('/') + 1);
    const completions = await h.client.call('datasets.completePath', { prefix: `${parent}todel` });
    expect(completions).toEqual([dir]);
  });
});

describe('face geometry a person draws', () => {
  it('landmarks start from the face mesh, are saved with their fitted pose, read back, listed, exported as a 300W folder; parsing masks are checked; bad requests refused in words', async () => {
    const dir = faceFolder(2, 'geometry');
    const { id } = await addAndScan(dir);
    const [a, b] = (await h.client.call('datasets.images', { dataset: id })).items;
    const start = await h.client.call('geometry.start', { image: a!.id, scheme: '300w-68' });
    expect(start).toMatchObject({ scheme: '300w-68', source: 'mesh' });
    expect(start.points).toHaveLength(68);
    expect(start.pose).not.toBeNull();
    // AFLW-19's points are picked from the mesh's 68; WFLW starts from a run of its scheme only
    const aflw = await h.client.call('geometry.start', { image: a!.id, scheme: 'aflw-19' });
    expect(aflw).toMatchObject({ scheme: 'aflw-19', source: 'mesh', pose: null });
    expect(aflw.points).toEqual(
      [17, 19, 21, 22, 24, 26, 36]
        .map((i) => start.points[i])
        .concat(
          aflw.points.slice(7, 12),
          [31, 33, 35, 48].map((i) => start.points[i]),
          aflw.points.slice(16, 17),
          [54, 8].map((i) => start.points[i]),
        ),
    );
    expect((await errorOf(h.client.call('geometry.start', { image: a!.id, scheme: 'wflw-98' }))).message).toMatch(
      /face mesh gives 300W \(iBUG 68 points\) and AFLW-19 \(19 points\) only/,
    );
    const moved = start.points.map(([x, y], i): [number, number] => (i === 30 ? [x - 4, y] : [x, y]));
    const saved = await h.client.call('geometry.save', {
      task: 'landmarks',
      image: a!.id,
      scheme: '300w-68',
      points: moved,
      source: 'mesh',
      labeller: 'ana',
      withPose: true,
    });
    const fitted = await h.client.call('geometry.poseOf', { points: moved });
    expect(saved.pose).toMatchObject({
      task: 'pose',
      pose: { yaw: fitted.yaw, pitch: fitted.pitch, from: 'landmarks' },
    });
    expect(await h.client.call('geometry.get', { image: a!.id, task: 'landmarks', scheme: '300w-68' })).toMatchObject({
      points: moved,
      labeller: 'ana',
    });
    expect(await h.client.call('geometry.get', { image: b!.id, task: 'landmarks', scheme: '300w-68' })).toBeNull();
    expect(await h.client.call('geometry.annotated', { dataset: id, task: 'landmarks', scheme: '300w-68' })).toEqual({
      images: [a!.id],
    });
    const out = tempDir('geometry-export');
    const ex = await h.client.call('geometry.export', { dataset: id, task: 'landmarks', format: 'pts', out });
    expect(ex).toMatchObject({
      folder: out,
      faces: 1,
      readBack: `camd finetune --task landmarks --format 300w --data ${out}`,
    });
    const pts = readFileSync(ex.files[0]!, 'utf8').split('\n');
    expect(pts[3 + 30]).toBe(`${(moved[30]![0] + 1).toFixed(3)} ${(moved[30]![1] + 1).toFixed(3)}`);
    // a parsing label map: an 8-bit greyscale PNG of the image's size with the scheme's classes
    const { width, height } = (await h.client.call('datasets.image', { id: b!.id })) as {
      width: number;
      height: number;
    };
    const grey = (v: number, w = width) =>
      sharp(Buffer.alloc(w * height, v), { raw: { width: w, height, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toBuffer();
    const mask = (await grey(10)).toString('base64');
    const p = await h.client.call('geometry.save', {
      task: 'parsing',
      image: b!.id,
      scheme: 'lapa-11',
      mask,
      source: 'hand',
      labeller: 'ana',
    });
    expect(p.label).toMatchObject({ task: 'parsing', scheme: 'lapa-11', mask });
    const bad = (m: Buffer) =>
      errorOf(
        h.client.call('geometry.save', {
          task: 'parsing',
          image: b!.id,
          scheme: 'lapa-11',
          mask: m.toString('base64'),
          source: 'hand',
          labeller: 'ana',
        }),
      );
    expect((await bad(await grey(11))).message).toMatch(/has class 11; the scheme has 11 classes/);
    expect((await bad(await grey(1, width - 1))).message).toMatch(/label map is \d+×\d+; the image is/);
    expect(
      (
        await bad(
          await sharp({ create: { width, height, channels: 3, background: '#000' } })
            .png()
            .toBuffer(),
        )
      ).message,
    ).toMatch(/has 3 channels: save it as an 8-bit greyscale PNG/);
    // refused in words: a point outside the image, a wrong count, an unknown scheme, a pose with WFLW
    const save = (o: object) =>
      errorOf(
        h.client.call('geometry.save', {
          task: 'landmarks',
          image: a!.id,
          scheme: '300w-68',
          points: moved,
          source: 'hand',
          labeller: 'ana',
          ...o,
        } as never),
      );
    expect((await save({ points: moved.map(([x, y], i) => (i === 5 ? [x + 1e5, y] : [x, y])) })).message).toMatch(
      /point 6 .* is outside the/,
    );
    expect((await save({ points: moved.slice(1) })).message).toMatch(/has 68 points; got 67/);
    expect(await save({ scheme: '300w-69' })).toMatchObject({ cause: 'usage', field: 'scheme' });
    expect((await save({ scheme: 'aflw-19', points: moved.slice(0, 19), withPose: true })).message).toMatch(
      /fitted to 300W's 68 points only/,
    );
    expect(await h.client.call('geometry.delete', { image: a!.id, task: 'landmarks', scheme: '300w-68' })).toEqual({
      deleted: true,
    });
    expect(
      (await errorOf(h.client.call('geometry.export', { dataset: id, task: 'landmarks', format: 'pts', out }))).message,
    ).toMatch(/no saved 300w-68 landmarks/);
  });
});

describe('faces at ingest', () => {
  it('adding photos with "find faces" makes a dataset of face crops; a photo lists its faces; "not a face" removes a crop, restore brings it back', async () => {
    const dir = tempDir('app-faces');
    for (const f of ['franck_02159.jpg', 'audrey.jpg']) copyFileSync(join(CLM_DIR, f), join(dir, f));
    copyFileSync(join(SKIMAGE_DIR, 'coffee.png'), join(dir, 'coffee.png'));
    const jobs: Job[] = [];
    const off = await h.client.subscribe('jobs', {}, (j) => jobs.push(j));
    const { dataset, job } = await h.client.call('datasets.add', { path: dir, faces: { margin: 0.4 } });
    await until('the face scan to end', () => jobs.find((j) => j.id === job.id && j.status !== 'running'), Boolean);
    const last = jobs.filter((j) => j.id === job.id).at(-1)!;
    expect(last.status, String(last.message)).toBe('done');
    expect(last.message).toBe('2 face crop(s) from 2 face(s) found; 1 photo(s) without a usable face');
    expect(jobs.some((j) => j.id === job.id && j.phase === 'detecting' && j.total === 3)).toBe(true);
    const derived = (await h.client.call('datasets.list', {})).find((d) => d.source_dataset_id === dataset.id)!;
    expect(derived).toMatchObject({ image_count: 2, name: `${dir.split('/').pop()} (faces)` });
    const photos = (await h.client.call('datasets.images', { dataset: dataset.id })).items;
    const audrey = photos.find((p) => p.rel_path === 'audrey.jpg')!;
    const [face] = await h.client.call('faces.ofImage', { id: audrey.id });
    expect(face).toMatchObject({ dataset_id: derived.id, source_image_id: audrey.id, face_index: 0, status: 'kept' });
    // the eyes lie inside the box, the box inside the photo
    const [x, y, w, hh] = face!.box;
    for (const p of [face!.landmarks.rightEye, face!.landmarks.leftEye])
      expect(p[0] > x && p[0] < x + w && p[1] > y && p[1] < y + hh).toBe(true);
    // the crop square: side F·(1 + 2·0.4), F = max(2·eye distance, 1.8·eyes-to-mouth), its top edge parallel to the eye line
    const L = face!.landmarks;
    const F = Math.max(
      2 * Math.hypot(L.leftEye[0] - L.rightEye[0], L.leftEye[1] - L.rightEye[1]),
      1.8 *
        Math.hypot(
          (L.leftMouth[0] + L.rightMouth[0] - L.leftEye[0] - L.rightEye[0]) / 2,
          (L.leftMouth[1] + L.rightMouth[1] - L.leftEye[1] - L.rightEye[1]) / 2,
        ),
    );
    const [c0, c1, , c3] = face!.crop;
    expect(Math.hypot(c1[0] - c0[0], c1[1] - c0[1])).toBeCloseTo(F * 1.8, 0);
    expect(Math.hypot(c3[0] - c0[0], c3[1] - c0[1])).toBeCloseTo(F * 1.8, 0);
    const eyeLine = Math.atan2(L.leftEye[1] - L.rightEye[1], L.leftEye[0] - L.rightEye[0]);
    expect(Math.atan2(c1[1] - c0[1], c1[0] - c0[0])).toBeCloseTo(eyeLine, 6);
    expect(await h.client.call('faces.ofImage', { id: photos.find((p) => p.rel_path === 'coffee.png')!.id })).toEqual(
      [],
    );
    expect(await h.client.call('faces.ofImage', { id: face!.crop_image_id! })).toEqual([face]);
    // not a face: the crop leaves the derived dataset at once
    const dropped = await h.client.call('faces.drop', { face: face!.id });
    expect(dropped).toMatchObject({ face: { status: 'dropped', crop_image_id: null }, job: null });
    expect((await h.client.call('datasets.images', { dataset: derived.id })).items.map((i) => i.rel_path)).toEqual([
      'franck_02159.face0.png',
    ]);
    expect(await errorOf(h.client.call('faces.drop', { face: 99999 }))).toMatchObject({ cause: 'not-found' });
    // restore: the derived dataset is made again (a job; detections from the cache)
    const restore = await h.client.call('faces.drop', { face: face!.id, undo: true });
    await until(
      'the restore to end',
      () => jobs.find((j) => j.id === restore.job!.id && j.status !== 'running'),
      Boolean,
    );
    off();
    expect(
      (await h.client.call('datasets.images', { dataset: derived.id })).items.map((i) => i.rel_path).sort(),
    ).toEqual(['audrey.face0.png', 'franck_02159.face0.png']);
  }, 240_000);

  it("sample faces for a first run: the face-model package's photographs, their faces cropped into a dataset; `camd pretrain --data sample` trains on the same crops", async () => {
    const jobs: Job[] = [];
    const off = await h.client.subscribe('jobs', {}, (j) => jobs.push(j));
    const { dataset, job } = await h.client.call('datasets.addSample', {});
    expect(dataset).toMatchObject({ name: 'sample-photos', root: join(h.app.paths.root, 'sample-photos') });
    expect(readdirSync(dataset.root).sort()).toEqual([
      'samples.jpg',
      'screenshot-facedetect.jpg',
      'screenshot-faceid.jpg',
      'screenshot-facematch.jpg',
    ]);
    await until(
      'the sample faces to be found',
      () => jobs.find((j) => j.id === job.id && j.status !== 'running'),
      Boolean,
      240_000,
    );
    off();
    const last = jobs.filter((j) => j.id === job.id).at(-1)!;
    expect(last.status, String(last.message)).toBe('done');
    const crops = (await h.client.call('datasets.list', {})).find((d) => d.source_dataset_id === dataset.id)!;
    expect(crops.image_count).toBeGreaterThanOrEqual(100); // about 130 real faces in four photographs
    expect(last.message).toMatch(new RegExp(`^${crops.image_count} face crop\\(s\\) from \\d+ face\\(s\\) found`));
    // the command line, on the same store: the same crops (made once), then a real step on them
    const out = tempDir('sample-run');
    const r = camd([
      'pretrain',
      '--data',
      'sample',
      '--preset',
      'micro',
      '--batch',
      '4',
      '--steps',
      '1',
      '--json',
      '--db',
      h.app.paths.db,
      '--out',
      join(out, 'run'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    const said = r.events.find((e) => e['type'] === 'log' && String(e['message']).startsWith('--data sample:'));
    expect(said?.['message']).toBe(
      `--data sample: ${crops.image_count} face crops from the photographs in @vladmandic/human@3.3.6's assets (samples.jpg, screenshot-facematch.jpg, screenshot-facedetect.jpg, screenshot-faceid.jpg), in ${crops.root}`,
    );
    expect(r.events.find((e) => e['type'] === 'start')).toMatchObject({ images: crops.image_count });
    expect(r.events.at(-1)).toMatchObject({ type: 'done', reason: 'completed', step: 1 });
    // the crops' grid thumbnails were made ahead of need too, not only the photos'
    await until(
      'thumbnails made ahead of need',
      () => h.app.images.queue.busy,
      (busy) => !busy,
      60_000,
    );
    const crop = (await h.client.call('datasets.images', { dataset: crops.id, limit: 1 })).items[0]!;
    const sha = h.app.store.image(crop.id)!.sha256!;
    expect(existsSync(join(h.app.paths.thumbs, '256', sha.slice(0, 2), `${sha}.webp`))).toBe(true);
  }, 300_000);
});

describe('runs', () => {
  it('a head-pose run takes a test folder of its own: a missing folder, a file, or a folder without .mat files is refused on its field; AFLW2000’s goes into the spec', async () => {
    const { id: dataset } = await addAndScan(faceFolder(2, 'pose-app'));
    const create = (testData: string) =>
      h.client.call('runs.create', {
        kind: 'finetune',
        dataset,
        settings: { task: 'pose', format: '300w-lp', init: 'none', preset: 'micro', testData },
        start: false,
      });
    expect(await errorOf(create('/no/such/aflw'))).toEqual({
      message: 'the test folder /no/such/aflw does not exist',
      cause: 'input',
      field: 'testData',
    });
    const noMat = faceFolder(1, 'pose-app-nomat');
    expect(await errorOf(create(noMat))).toMatchObject({ cause: 'input', field: 'testData' });
    expect((await errorOf(create(noMat))).message).toMatch(/holds no \.mat files: give AFLW2000's folder .* or BIWI's/);
    expect(await errorOf(create(join(noMat, readdirSync(noMat)[0]!)))).toMatchObject({ field: 'testData' });
    expect(await errorOf(create('relative/aflw'))).toMatchObject({ cause: 'input', field: 'testData' });
    const aflw = tempDir('pose-app-aflw');
    writeFileSync(join(aflw, 'image00002.mat'), 'a .mat beside its image');
    const run = await create(aflw);
    const detail = await h.client.call('runs.get', { id: run.id });
    expect(detail.spec).toMatchObject({ task: 'pose', testData: aflw });
  });

  it('a tiny pre-train: metric points by subscription, pause, resume (steps continue), stop; checkpoints and logs', async () => {
    const { id: dataset } = await addAndScan(faceFolder(12, 'apprun'));
    const sub = h.wsClient();
    const points: TopicEvent<'metrics'>[] = [];
    const statuses: string[] = [];
    const run = await h.client.call('runs.create', {
      kind: 'pretrain',
      name: 'first',
      dataset,
      settings: { ...MICRO, steps: 400, checkpointEvery: 3 },
      start: false,
    });
    expect(run).toMatchObject({ status: 'created', name: 'first', kind: 'pretrain' });
    await sub.subscribe('metrics', { runs: [run.id], names: ['loss'] }, (e) => points.push(e));
    await sub.subscribe('runs', {}, (r) => r.id === run.id && statuses.push(r.status));
    await h.client.call('runs.start', { id: run.id });
    await until(
      '5 points',
      () => points.length,
      (n) => n >= 5,
    );
    expect(points[0]).toMatchObject({ run: run.id, step: 1 });
    expect(Object.keys(points[0]!.values)).toEqual(['loss']);
    await h.client.call('runs.pause', { id: run.id });
    const paused = await until(
      'paused',
      () => h.client.call('runs.get', { id: run.id }),
      (r) => r.status === 'paused',
    );
    expect(statuses).toEqual(expect.arrayContaining(['queued', 'running', 'pausing', 'paused']));
    const stoppedAt = paused.last_step;
    const cks = await h.client.call('checkpoints.list', { run: run.id });
    expect(cks.find((c) => c.kind === 'encoder')).toMatchObject({ step: stoppedAt, exists: true });
    expect(cks.some((c) => c.kind === 'full' && c.step === stoppedAt)).toBe(true);
    points.length = 0;
    await h.client.call('runs.resume', { id: run.id });
    await until(
      'steps after the resume',
      () => points.length,
      (n) => n >= 2,
    );
    expect(points[0]!.step).toBe(stoppedAt + 1);
    await h.client.call('runs.stop', { id: run.id });
    const stopped = await until(
      'stopped',
      () => h.client.call('runs.get', { id: run.id }),
      (r) => r.status === 'stopped',
    );
    expect(stopped.spec).toMatchObject({ preset: 'micro', steps: 400 });
    expect(stopped.backend).toBe('wasm');
    expect(stopped.log_tail.some((l) => l.includes('"type":"done"'))).toBe(true);
    // the curve: every step once, in order, smoothed and not
    const [loss] = await h.client.call('metrics.series', { runs: [run.id], names: ['loss'], smoothing: 0.6 });
    expect(loss!.x).toEqual(Array.from({ length: stopped.last_step }, (_, i) => i + 1));
    expect(loss!.smoothed[0]).toBeCloseTo(loss!.y[0]!, 10); // debiased: the first value is the value
    expect((await h.client.call('metrics.names', { runs: [run.id] })).sort()).toEqual([
      'grad_norm',
      'images_per_s',
      'loss',
      'loss_agmd',
      'loss_dense',
      'loss_global',
      'lr',
      'mm',
    ]);
    const byTime = (await h.client.call('metrics.series', { runs: [run.id], names: ['lr'], x: 'time' }))[0]!;
    expect(byTime.x[0]).toBe(0);
    expect(byTime.x.every((v, i) => i === 0 || v >= byTime.x[i - 1]!)).toBe(true);
    const listed = await h.client.call('runs.list', { kind: 'pretrain' });
    expect(listed.map((r) => r.id)).toContain(run.id);
    const encoder = (await h.client.call('checkpoints.list', { run: run.id })).find((c) => c.kind === 'encoder')!;
    expect(encoder.id).toBe(cks.find((c) => c.kind === 'encoder')!.id); // one row for the file, its id kept
    expect(encoder.step).toBe(stopped.last_step);
    const exp = await h.client.call('checkpoints.export', { id: encoder.id, format: 'safetensors' });
    expect(existsSync(exp.out)).toBe(true);
    // for deployment: one ONNX file (the real camd export), with what it expects and gives
    const onnx = await h.client.call('checkpoints.export', { id: encoder.id, format: 'onnx' });
    expect(onnx.out).toMatch(/-encoder-\d+\.onnx$/);
    expect(onnx.onnx).toMatchObject({
      kind: 'encoder',
      opset: 17,
      names: null,
      preprocessing: { normalisation: 'vggface2' },
    });
    expect(onnx.onnx!.bytes).toBe(statSync(onnx.out).size);
    expect(onnx.onnx!.outputs.map((o) => o.name)).toEqual(['embedding', 'patch_features']);
    // a NUL byte in a path is refused at the boundary with its field, not a 500
    expect(
      await errorOf(
        h.client.call('checkpoints.export', { id: encoder.id, format: 'safetensors', out: '/tmp/a\0b.safetensors' }),
      ),
    ).toMatchObject({ cause: 'usage', field: 'out' });
    expect(await errorOf(h.client.call('datasets.add', { path: '/tmp/a\0b' }))).toMatchObject({
      cause: 'usage',
      field: 'path',
    });
  });

  it('kill -9 of the worker mid-run: the run is failed with the reason in words, its metrics and last checkpoint are kept', async () => {
    const { id: dataset } = await addAndScan(faceFolder(12, 'appkill'));
    const steps: number[] = [];
    const run = await h.client.call('runs.create', {
      kind: 'pretrain',
      dataset,
      settings: { ...MICRO, steps: 400, checkpointEvery: 2 },
    });
    const off = await h.client.subscribe('run', { id: run.id }, (e) => e.type === 'step' && steps.push(e.step));
    await until(
      'step 7',
      () => steps.length,
      (n) => n >= 7,
    );
    const detail = await h.client.call('runs.get', { id: run.id });
    const pid = h.app.store.run(run.id)!.pid!;
    process.kill(pid, 'SIGKILL');
    const failed = await until(
      'failed',
      () => h.client.call('runs.get', { id: run.id }),
      (r) => r.status === 'failed',
    );
    off();
    expect(detail.status).toBe('running');
    expect(failed.error).toMatch(/killed \(SIGKILL\): most often the system ran out of memory/);
    expect(failed.exit).toMatch(/SIGKILL/);
    const cks = (await h.client.call('checkpoints.list', { run: run.id })).filter((c) => c.kind === 'full' && c.exists);
    expect(cks.length).toBeGreaterThan(0);
    const last = cks.at(-1)!;
    expect(() => readTensorFile(last.path, 'camd-checkpoint')).not.toThrow();
    // every point written before the kill is still there: the flush at each checkpoint covers step `last.step`
    const [loss] = await h.client.call('metrics.series', { runs: [run.id], names: ['loss'] });
    expect(loss!.x.slice(0, last.step)).toEqual(Array.from({ length: last.step }, (_, i) => i + 1));
    // and it resumes from there
    await h.client.call('runs.resume', { id: run.id });
    const resumed: number[] = [];
    const off2 = await h.client.subscribe('run', { id: run.id }, (e) => e.type === 'step' && resumed.push(e.step));
    await until(
      'a step after the resume',
      () => resumed.length,
      (n) => n >= 1,
    );
    off2();
    expect(resumed[0]).toBe(last.step + 1);
    await h.client.call('runs.stop', { id: run.id });
    await until(
      'stopped',
      () => h.client.call('runs.get', { id: run.id }),
      (r) => r.status === 'stopped',
    );
  });

  it('20 clients read metrics while a run writes: no store error, no lost point', async () => {
    const { id: dataset } = await addAndScan(faceFolder(12, 'appread'));
    const run = await h.client.call('runs.create', {
      kind: 'pretrain',
      dataset,
      settings: { ...MICRO, steps: 30, checkpointEvery: 1 },
    });
    const clients = Array.from({ length: 20 }, () => h.wsClient());
    const errors: unknown[] = [];
    let reads = 0;
    let done = false;
    const readers = clients.map(async (c) => {
      while (!done) {
        try {
          await c.call('metrics.series', { runs: [run.id], names: ['loss', 'lr'], smoothing: 0.5 });
          reads++;
        } catch (e) {
          errors.push(e);
        }
      }
    });
    await until(
      'done',
      () => h.client.call('runs.get', { id: run.id }),
      (r) => r.status === 'done',
      120_000,
    );
    done = true;
    await Promise.all(readers);
    expect(errors).toEqual([]);
    expect(reads).toBeGreaterThan(40);
    const series = await h.client.call('metrics.series', { runs: [run.id], names: ['loss', 'lr'] });
    for (const s of series) expect(s.x).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it("a new run from a run of the store: carried on from its checkpoint (one of this machine's, or a cluster run's), or its weights; refused in words", async () => {
    const { id: dataset } = await addAndScan(faceFolder(8, 'appfrom'));
    // 8 faces, batch 4: 2 steps an epoch; 4 steps = 2 epochs
    const first = await h.client.call('runs.create', {
      kind: 'pretrain',
      name: 'first',
      dataset,
      settings: { ...MICRO, steps: 4 },
    });
    await until(
      'done',
      () => h.client.call('runs.get', { id: first.id }),
      (r) => r.status === 'done',
      120_000,
    );
    // what it sees: one face of its dataset through its newest checkpoint (camd see), as pictures
    const seen = await h.client.call('runs.see', { id: first.id, seed: 3 });
    const faces = (await h.client.call('datasets.images', { dataset, status: 'ok' })).items;
    expect(seen.image).toEqual({ id: faces[3 % faces.length]!.id, rel_path: faces[3 % faces.length]!.rel_path });
    expect(seen).toMatchObject({ step: 4, grid: 4, masked: 10 }); // micro at 32 px: 4 × 4 patches, 118/196 of them masked
    for (const png of [seen.prediction, seen.attention]) {
      expect(png).toMatch(/^data:image\/png;base64,/);
      expect((await sharp(Buffer.from(png.split(',')[1]!, 'base64')).metadata()).format).toBe('png');
    }
    for (const c of [seen.meanCosineMasked, seen.meanCosineVisible]) expect(Math.abs(c)).toBeLessThanOrEqual(1);
    expect(await errorOf(h.client.call('runs.see', { id: first.id, image: 999_999 }))).toMatchObject({
      cause: 'input',
      field: 'image',
    });
    // taken to a cluster: camd cluster-pack into the app's exports (micro is packed as ViT-B, without its checkpoint)
    const pack = await h.client.call('runs.clusterPack', { id: first.id, gpus: 2 });
    expect(pack).toMatchObject({
      out: join(h.app.paths.exports, 'cluster', first.id),
      images: 8,
      model: 'CAMD_vit_micro_patch8',
      resume: { step: 4, epoch: 1, file: join(h.app.paths.exports, 'cluster', first.id, 'start', 'checkpoint.pth') },
    });
    expect(pack.notes).toContain(
      'micro at 32 px: camd_launch.py gives the released code this model size and input size, which its models_CAMD.py and mask generator do not have',
    );
    expect(pack.script).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell script's own ${NUM_GPUS:-2}, as written
      'torchrun --nproc_per_node=${NUM_GPUS:-2} camd_launch.py --camd_start start/checkpoint.pth \\\n    --model CAMD_vit_micro_patch8',
    );
    expect(readdirSync(join(pack.out, 'data', 'train', 'faces'))).toHaveLength(8);
    expect(readdirSync(pack.out).sort()).toEqual(['camd_launch.py', 'data', 'flags.json', 'run.sh', 'start']);
    expect(await h.client.call('runs.clusterPack', { id: first.id, gpus: 8, preset: 'large' })).toMatchObject({
      model: 'CAMD_vit_large_patch16',
      flags: { dis_lay: [5, 11, 17, 23] },
    });
    const cont = await h.client.call('runs.create', {
      kind: 'pretrain',
      dataset,
      settings: { batch: 4, steps: 6 },
      from: { run: first.id, mode: 'continue' },
    });
    const c = await until(
      'done',
      () => h.client.call('runs.get', { id: cont.id }),
      (r) => ['done', 'failed'].includes(r.status),
      120_000,
    );
    expect(c.status, c.error ?? '').toBe('done');
    expect(c.config).toMatchObject({
      settings: { preset: 'micro', blr: 0.05, warmupEpochs: 0 },
      start: { mode: 'continue', format: 'camd', epochs_done: 2, step: 4, optimizer: true },
    });
    expect(h.app.store.run(cont.id)!.parent_run_id).toBe(first.id);
    const [loss] = await h.client.call('metrics.series', { runs: [cont.id], names: ['loss'] });
    expect(loss!.x).toEqual([5, 6]); // it went on from step 4
    // a cluster run: its checkpoint in the released layout (camd export), its log; carried on here
    const box = tempDir('appfrom-cluster');
    const full = (await h.client.call('checkpoints.list', { run: first.id })).find((k) => k.kind === 'full')!;
    expect(
      camd(['export', '--checkpoint', full.path, '--format', 'camd-pth', '--out', join(box, 'checkpoint-1.pth')])
        .status,
    ).toBe(0);
    writeFileSync(
      join(box, 'log.txt'),
      `${[0, 1].map((e) => JSON.stringify({ train_loss: 1, train_lr: 1e-4, epoch: e })).join('\n')}\n`,
    );
    const imported = await h.client.call('runs.importTorchrun', { dir: box });
    const fromCluster = await h.client.call('runs.create', {
      kind: 'pretrain',
      dataset,
      settings: { batch: 4, steps: 6, blr: 0.05, warmupEpochs: 0 },
      from: { run: imported.run.id, mode: 'continue' },
    });
    const fc = await until(
      'done',
      () => h.client.call('runs.get', { id: fromCluster.id }),
      (r) => ['done', 'failed'].includes(r.status),
      120_000,
    );
    expect(fc.status, fc.error ?? '').toBe('done');
    expect(fc.config).toMatchObject({
      start: {
        mode: 'continue',
        format: 'released',
        file: join(box, 'checkpoint-1.pth'),
        epochs_done: 2,
        optimizer: true,
      },
    });
    const init = await h.client.call('runs.create', {
      kind: 'pretrain',
      dataset,
      settings: { batch: 4, steps: 2 },
      from: { run: first.id, mode: 'init' },
    });
    const i = await until(
      'done',
      () => h.client.call('runs.get', { id: init.id }),
      (r) => ['done', 'failed'].includes(r.status),
      120_000,
    );
    expect(i.config).toMatchObject({ start: { mode: 'init', step: 0, optimizer: false } });
    // refused: the model given too, a run with no checkpoint, a fine-tuning run, an unknown run
    expect(
      await errorOf(
        h.client.call('runs.create', {
          kind: 'pretrain',
          dataset,
          settings: { preset: 'tiny' },
          from: { run: first.id, mode: 'init' },
        }),
      ),
    ).toMatchObject({ cause: 'input', field: 'preset' });
    const bare = tempDir('appfrom-bare');
    writeFileSync(join(bare, 'log.txt'), `${JSON.stringify({ train_loss: 1, epoch: 0 })}\n`);
    const noCk = await h.client.call('runs.importTorchrun', { dir: bare });
    expect(
      await errorOf(
        h.client.call('runs.create', {
          kind: 'pretrain',
          dataset,
          settings: {},
          from: { run: noCk.run.id, mode: 'continue' },
        }),
      ),
    ).toMatchObject({
      cause: 'input',
      field: 'from',
      message: expect.stringMatching(/has no checkpoint/) as unknown as string,
    });
    expect(
      await errorOf(
        h.client.call('runs.create', {
          kind: 'pretrain',
          dataset,
          settings: {},
          from: { run: 'nope', mode: 'continue' },
        }),
      ),
    ).toMatchObject({ cause: 'not-found' });
    expect(await errorOf(h.client.call('runs.see', { id: noCk.run.id }))).toMatchObject({
      cause: 'input',
      message: expect.stringMatching(
        /has no checkpoint yet here \(a cluster run: carry it on here first\)/,
      ) as unknown as string,
    });
    expect(await errorOf(h.client.call('runs.clusterPack', { id: noCk.run.id }))).toMatchObject({
      cause: 'input',
      message: expect.stringMatching(/not a pre-training run of this machine/) as unknown as string,
    });
    // the wasm memory check is of the model the run will have: a ViT-H/14 cluster run's, not the form's default
    h.app.store.createRun({
      id: 'cluster-huge',
      kind: 'pretrain',
      name: 'huge (torchrun)',
      config: {
        source: 'torchrun',
        args: { model: 'CAMD_vit_huge_patch14', input_size: 224 },
        checkpoints: [join(box, 'checkpoint-1.pth')],
      },
      seed: 0,
      outDir: box,
    });
    expect(
      await errorOf(
        h.client.call('runs.create', {
          kind: 'pretrain',
          dataset,
          settings: { backend: 'wasm', batch: 8 },
          from: { run: 'cluster-huge', mode: 'init' },
        }),
      ),
    ).toMatchObject({ cause: 'input', field: 'batch' });
    expect(
      (
        await h.client.call('runs.create', {
          kind: 'pretrain',
          dataset,
          settings: { backend: 'wasm', batch: 8 },
          from: { run: first.id, mode: 'init' },
          start: false,
        })
      ).status,
    ).toBe('created'); // micro fits
  }, 300_000);

  it('bad run requests are refused with the field at fault, before anything is recorded', async () => {
    const { id: dataset } = await addAndScan(faceFolder(4, 'appbad'));
    const before = (await h.client.call('runs.list', {})).length;
    expect(
      await errorOf(h.client.call('runs.create', { kind: 'pretrain', dataset, settings: { batch: 0 } })),
    ).toMatchObject({
      cause: 'input',
      field: 'batch',
      message: '--batch must be an integer of at least 1 (images per step), got 0',
    });
    expect(
      await errorOf(h.client.call('runs.create', { kind: 'pretrain', dataset, settings: { batchSize: 4 } as never })),
    ).toMatchObject({ cause: 'usage', message: "unknown field(s) 'batchSize'", field: 'batchSize' });
    expect(await errorOf(h.client.call('runs.create', { kind: 'pretrain', dataset: 999, settings: {} }))).toMatchObject(
      { cause: 'not-found' },
    );
    // what only the start used to find: a model that cannot take the image size, a batch larger than the dataset
    expect(
      await errorOf(
        h.client.call('runs.create', {
          kind: 'pretrain',
          dataset,
          settings: { preset: 'tiny', imgSize: 33, batch: 4 },
        }),
      ),
    ).toMatchObject({
      cause: 'input',
      field: 'imgSize',
      message: 'the image size 33 is not a multiple of the 16-px patches of tiny (112 and 224 are)',
    });
    expect(
      await errorOf(h.client.call('runs.create', { kind: 'pretrain', dataset, settings: { batch: 100000 } })),
    ).toMatchObject({
      cause: 'input',
      field: 'batch',
      message: 'the dataset has 4 readable image(s), fewer than the batch size 100000; lower the batch or add images',
    });
    expect((await h.client.call('runs.list', {})).length).toBe(before);
    expect(await errorOf(h.client.call('runs.get', { id: 'nope' }))).toMatchObject({ cause: 'not-found' });
  });
});

describe('fine-tuning, labels, evaluations, system', () => {
  it('a fine-tune from the app on a folder-per-class dataset: evaluations per epoch, labels in the store, filters by label', async () => {
    const { id: dataset } = await addAndScan(await expressionFolders(10, 5));
    const run = await h.client.call('runs.create', {
      kind: 'finetune',
      dataset,
      settings: {
        task: 'fer',
        format: 'folders',
        init: 'none',
        preset: 'micro',
        epochs: 2,
        batch: 8,
        randAugment: 'none',
        reprob: 0,
        warmupEpochs: 0,
      },
    });
    const done = await until(
      'done',
      () => h.client.call('runs.get', { id: run.id }),
      (r) => ['done', 'failed'].includes(r.status),
      120_000,
    );
    expect(done.status, done.error ?? '').toBe('done');
    const evals = await h.client.call('evaluations.list', { run: run.id });
    expect(evals.filter((e) => e.metric === 'top1').map((e) => [e.epoch, e.split])).toEqual([
      [1, 'test'],
      [1, 'val'],
      [2, 'test'],
      [2, 'val'],
    ]);
    const test2 = evals.find((e) => e.epoch === 2 && e.split === 'test')!;
    expect(test2.detail).toMatchObject({
      metric: 'top1',
      per_class: expect.any(Object) as unknown,
      confusion: expect.any(Array) as unknown,
    });
    expect(evals.some((e) => e.selected)).toBe(true);
    expect((await h.client.call('checkpoints.list', { run: run.id })).map((c) => c.kind)).toContain('classifier');
    const stats = await h.client.call('datasets.stats', { id: dataset });
    const cls = stats.labels.find((l) => l.task === 'fer' && l.name === 'class')!;
    expect(Object.values(cls.values).reduce((a, b) => a + b, 0)).toBe(30);
    expect(Object.keys(cls.splits).sort()).toEqual(['test', 'train', 'val']);
    expect((await h.client.call('datasets.images', { dataset, labelled: true })).total).toBe(30);
    expect((await h.client.call('datasets.images', { dataset, labelled: false })).total).toBe(0);
    expect(
      (await h.client.call('datasets.images', { dataset, label: { task: 'fer', name: 'class', value: 0 } })).total,
    ).toBe(cls.values['0']);
    const img = (await h.client.call('datasets.images', { dataset, limit: 1 })).items[0]!;
    expect((await h.client.call('datasets.image', { id: img.id })).labels).toEqual([
      expect.objectContaining({ task: 'fer', name: 'class' }),
    ]);
    // a fine-tune from a pre-trained checkpoint of the store names its parent
    expect(
      await errorOf(
        h.client.call('runs.create', {
          kind: 'finetune',
          dataset,
          settings: { task: 'fer', format: 'folders', init: { checkpoint: 999999 } },
        }),
      ),
    ).toMatchObject({ cause: 'not-found' });
    expect(await errorOf(h.client.call('runs.pause', { id: run.id }))).toMatchObject({
      cause: 'input',
      message: expect.stringMatching(/cannot be paused/) as unknown as string,
    });
    expect(await errorOf(h.client.call('runs.resume', { id: run.id }))).toMatchObject({ cause: 'input' });
    expect(await h.client.call('runs.delete', { id: run.id, files: true })).toEqual({ deleted: true });
    expect(existsSync(join(h.app.paths.runs, run.id))).toBe(false);
  });

  it('a run of the released code from a cluster: its log into the store, its metrics by epoch; bad folders refused with the field', async () => {
    const dir = tempDir('torchrun-out');
    writeFileSync(
      join(dir, 'log.txt'),
      `${[0, 1, 2, 3].map((e) => JSON.stringify({ train_lr: 1e-4, train_loss: 1 - 0.2 * e, epoch: e })).join('\n')}\n`,
    );
    const seen: string[] = [];
    const off = await h.client.subscribe('runs', {}, (r) => seen.push(r.id));
    const r = await h.client.call('runs.importTorchrun', { dir });
    expect(r).toMatchObject({
      kind: 'pretrain',
      epochs: 4,
      metrics: ['loss', 'lr'],
      checkpoints: [],
      updated: false,
      run: {
        kind: 'pretrain',
        status: 'done',
        name: expect.stringMatching(/ \(torchrun\)$/) as unknown as string,
        last_step: 4,
      },
    });
    await until(
      'the runs topic to tell',
      () => seen,
      (ids) => ids.includes(r.run.id),
    );
    off();
    const series = await h.client.call('metrics.series', { runs: [r.run.id], names: ['loss'] });
    expect(series[0]!.x).toEqual([1, 2, 3, 4]);
    expect((await h.client.call('runs.get', { id: r.run.id })).config).toMatchObject({ source: 'torchrun' });
    expect(await h.client.call('runs.importTorchrun', { dir })).toMatchObject({ updated: true, run: { id: r.run.id } });
    expect(await errorOf(h.client.call('runs.importTorchrun', { dir: 'relative/out' }))).toMatchObject({
      cause: 'input',
      field: 'dir',
      message: expect.stringMatching(/give the full path of the run's folder/) as unknown as string,
    });
    expect(await errorOf(h.client.call('runs.importTorchrun', { dir: join(dir, 'nope') }))).toMatchObject({
      cause: 'input',
      field: 'dir',
      message: `the folder ${join(dir, 'nope')} does not exist`,
    });
    expect(await errorOf(h.client.call('runs.importTorchrun', { dir: join(dir, 'log.txt') }))).toMatchObject({
      cause: 'input',
      field: 'dir',
      message: expect.stringMatching(/is a file: give the run's folder/) as unknown as string,
    });
    expect(await errorOf(h.client.call('runs.importTorchrun', { dir: tempDir('no-log') }))).toMatchObject({
      cause: 'input',
      field: 'dir',
      message: expect.stringMatching(/has no log\.txt: not the --output_dir of CAMD_pretrain\.py/) as unknown as string,
    });
  });

  it("a probe set must be one of the app's datasets, with its labels from the store", async () => {
    const { id: dataset } = await addAndScan(faceFolder(8, 'probe-app'));
    const other = tempDir('not-a-dataset');
    expect(
      await errorOf(
        h.client.call('runs.create', {
          kind: 'pretrain',
          dataset,
          settings: { ...MICRO, steps: 2, probeData: other, probeFormat: 'store' },
        }),
      ),
    ).toMatchObject({ cause: 'input', field: 'probeData' });
    const root = (await h.client.call('datasets.list', {})).find((d) => d.id === dataset)!.root;
    expect(
      await errorOf(
        h.client.call('runs.create', {
          kind: 'pretrain',
          dataset,
          settings: { ...MICRO, steps: 2, probeData: root, probeFormat: 'folders' },
        }),
      ),
    ).toMatchObject({ cause: 'input', field: 'probeFormat' });
  });

  it('an estimate of the time per epoch from three measured steps; runs listed with their key settings and headline number', async () => {
    const { id: dataset } = await addAndScan(faceFolder(12, 'estimate'));
    const e = await h.client.call('runs.estimate', { dataset, settings: { preset: 'micro', batch: 4, epochs: 10 } });
    expect(e).toMatchObject({ backend: 'wasm', batch: 4, stepsPerEpoch: 3, totalSteps: 30, measuredSteps: 3 });
    expect(e.stepSeconds).toBeGreaterThan(0);
    expect(e.epochSeconds).toBeCloseTo(e.stepSeconds * 3, 9);
    expect(
      await errorOf(h.client.call('runs.estimate', { dataset, settings: { preset: 'micro', batch: 64 } })),
    ).toMatchObject({ cause: 'input', field: 'batch' });
    const run = await h.client.call('runs.create', {
      kind: 'pretrain',
      dataset,
      settings: { preset: 'micro', batch: 4, steps: 3, maskRatio: 0.5, warmupEpochs: 0 },
    });
    const done = await until(
      'done',
      () => h.client.call('runs.get', { id: run.id }),
      (r) => r.status === 'done',
    );
    const listed = (await h.client.call('runs.list', {})).find((r) => r.id === run.id)!;
    expect(listed.key).toMatchObject({ preset: 'micro', batch: 4, steps: 3, maskRatio: 0.5 });
    expect(listed.metric).toMatchObject({ name: 'loss' });
    const [loss] = await h.client.call('metrics.series', { runs: [run.id], names: ['loss'] });
    expect(listed.metric!.value).toBe(loss!.y.at(-1));
    expect(done.last_step).toBe(3);
  });

  it('disk use by part, and the clean-up of what can be made again', async () => {
    const { id } = await addAndScan(faceFolder(2, 'disk'));
    const [img, other] = (await h.client.call('datasets.images', { dataset: id })).items;
    // the grid's thumbnails are made ahead of need after the scan, without being asked for, but not
    // while the app is in use: any operation (here the grid's first page, every 200 ms) holds them back
    await new Promise((ok) => setTimeout(ok, 100));
    const madeAhead = h.app.images.queue.counts.background;
    for (let k = 0; k < 8; k++) {
      await h.client.call('datasets.images', { dataset: id });
      await new Promise((ok) => setTimeout(ok, 200));
    }
    expect(h.app.images.queue.counts.background).toBe(madeAhead);
    expect(h.app.images.queue.backlog).toBeGreaterThan(0);
    await until(
      'thumbnails made ahead of need',
      () => h.app.images.queue.busy,
      (busy) => !busy,
    );
    const sha = h.app.store.image(other!.id)!.sha256!;
    expect(existsSync(join(h.app.paths.thumbs, '256', sha.slice(0, 2), `${sha}.webp`))).toBe(true);
    expect((await h.raw(`/api/images/${img!.id}/thumb`)).status).toBe(200);
    const parts = await h.client.call('system.disk', {});
    expect(parts.map((p) => p.part)).toEqual(['store', 'cache', 'thumbs', 'runs', 'exports', 'logs']);
    const thumbs = parts.find((p) => p.part === 'thumbs')!;
    expect(thumbs).toMatchObject({ cleanable: true });
    expect(thumbs.bytes).toBeGreaterThan(0);
    expect(parts.find((p) => p.part === 'store')!.bytes).toBeGreaterThan(0);
    expect(await h.client.call('system.clean', { what: 'thumbs' })).toEqual({
      part: 'thumbs',
      freedBytes: thumbs.bytes,
    });
    expect((await h.client.call('system.disk', {})).find((p) => p.part === 'thumbs')!.bytes).toBe(0);
    expect((await h.raw(`/api/images/${img!.id}/thumb`)).status).toBe(200); // made again
    expect(await errorOf(h.client.call('system.clean', { what: 'runs' } as never))).toMatchObject({ cause: 'usage' });
  });

  it('system information: versions, where the data lives, and every rung of the backend ladder', async () => {
    const info = await h.client.call('system.info', {});
    expect(info.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(info.dataDir).toBe(h.app.paths.root);
    expect(info.store).toBe(h.app.paths.db);
    expect(Object.keys(info.backends)).toEqual(expect.arrayContaining(['wasm', 'cpu']));
    expect((info.backends['wasm'] as { loaded: boolean }).loaded).toBe(true);
  });

  it('system information asked 30 times at once starts one `camd info`, not 30', async () => {
    const { System } = await import('../../electron/services/system.js');
    let started = 0;
    const command = (async () => {
      started++;
      await new Promise((r) => setTimeout(r, 200));
      return { code: 0, signal: null, stdout: '{"wasm":{"loaded":true}}', stderr: '' };
    }) as never;
    const system = new System(h.app.paths, command);
    const answers = await Promise.all(Array.from({ length: 30 }, () => system.info()));
    expect(started).toBe(1);
    expect(answers.every((a) => (a.backends['wasm'] as { loaded: boolean }).loaded)).toBe(true);
  });
});

describe('hostile requests', () => {
  it('no token or a wrong one: 401 before any routing, for the API, images, pages and the socket', async () => {
    for (const path of ['/api/datasets.list', '/api/nope', '/api/images/1/thumb', '/', '/assets/x.js']) {
      expect((await h.raw(path, { method: path.includes('.list') ? 'POST' : 'GET', token: null })).status, path).toBe(
        401,
      );
      expect((await h.raw(path, { method: 'GET', token: 'wrong' })).status, path).toBe(401);
    }
    const ws = new WebSocket(`ws://127.0.0.1:${h.host.port}/api/ws?token=wrong`);
    const status = await new Promise<number>((res) =>
      ws.on('unexpected-response', (_req, r) => res(r.statusCode ?? 0)).on('open', () => res(101)),
    );
    expect(status).toBe(401);
    const evil = new WebSocket(`ws://127.0.0.1:${h.host.port}/api/ws?token=${h.host.token}`, {
      headers: { Origin: 'http://evil.example' },
    });
    expect(
      await new Promise<number>((res) =>
        evil.on('unexpected-response', (_req, r) => res(r.statusCode ?? 0)).on('open', () => res(101)),
      ),
    ).toBe(401);
    // another host name (DNS rebinding) is refused even with the token
    const rebound = await h.raw('/api/datasets.list', { method: 'POST', headers: { Host: 'evil.example' } });
    expect(rebound.status).toBe(401);
    expect(
      (await h.raw('/api/datasets.list', { method: 'POST', headers: { Host: `localhost:${h.host.port}` } })).status,
    ).toBe(200);
  });

  it('the first page load trades the token for an HttpOnly SameSite=Strict cookie; every response carries the CSP', async () => {
    const r = await h.raw(`/?token=${h.host.token}`, { token: null });
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('/');
    const cookie = r.headers.get('set-cookie')!;
    expect(cookie).toMatch(new RegExp(`^camd_token_${h.host.port}=[^;]+; HttpOnly; SameSite=Strict; Path=/`));
    const page = await h.raw('/', { token: null, headers: { Cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    // a stale cookie of an earlier launch does not beat the token just printed (the URL's), and is replaced
    const stale = `camd_token_${h.host.port}=${'0'.repeat(h.host.token.length)}`;
    const fresh = await h.raw(`/?token=${h.host.token}`, { token: null, headers: { Cookie: stale } });
    expect([fresh.status, fresh.headers.get('set-cookie')?.split(';')[0]]).toEqual([302, cookie.split(';')[0]]);
    expect(
      (
        await h.raw(`/api/datasets.list?token=${h.host.token}`, {
          method: 'POST',
          token: null,
          headers: { Cookie: stale },
        })
      ).status,
    ).toBe(200);
    // with the cookie alone, an operation must be JSON from this origin: another site's page cannot make the host work
    const jar = { Cookie: cookie.split(';')[0]! };
    const post = (headers: Record<string, string>, body?: string) =>
      h.raw('/api/system.info', {
        method: 'POST',
        token: null,
        headers: { ...jar, ...headers },
        ...(body !== undefined ? { body } : {}),
      });
    expect((await post({})).status).toBe(403); // an empty body without a content type (a form or a beacon)
    expect((await post({ 'Content-Type': 'text/plain' }, '{}')).status).toBe(403);
    expect((await post({ 'Content-Type': 'application/json', Origin: 'http://127.0.0.1:1' }, '{}')).status).toBe(403);
    expect((await post({ 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'same-site' }, '{}')).status).toBe(403);
    expect(
      (
        await post(
          {
            'Content-Type': 'application/json',
            Origin: `http://127.0.0.1:${h.host.port}`,
            'Sec-Fetch-Site': 'same-origin',
          },
          '{}',
        )
      ).status,
    ).toBe(200);
    // another host's cookie (another port) is not this host's
    expect((await h.raw('/', { token: null, headers: { Cookie: `camd_token_1=${h.host.token}` } })).status).toBe(401);
    for (const res of [r, page, await h.raw('/api/images/1/thumb', { token: null })]) {
      expect(res.headers.get('content-security-policy')).toMatch(
        /default-src 'self'; script-src 'self';.*object-src 'none'.*frame-ancestors 'none'/,
      );
    }
  });

  it('images only by id: traversal, absolute paths, encoded and double-encoded traversal, NUL bytes and symlinks out are refused', async () => {
    const dir = faceFolder(1, 'hostile-img');
    const outside = tempDir('outside');
    writeFileSync(join(outside, 'secret.jpg'), 'not for you');
    symlinkSync(join(outside, 'secret.jpg'), join(dir, 'link.jpg'));
    const elsewhere = join(tempDir('elsewhere'), 'face.jpg');
    const src = faceFolder(2, 'elsewhere-src');
    copyFileSync(join(src, readdirSync(src).sort()[1]!), elsewhere);
    symlinkSync(elsewhere, join(dir, 'elsewhere.jpg'));
    mkdirSync(join(dir, 'sub'));
    symlinkSync(outside, join(dir, 'sub', 'out'));
    const { id } = await addAndScan(dir);
    const imgs = (await h.client.call('datasets.images', { dataset: id })).items;
    // the symlinked file is indexed (it is bad: not an image), but never served: it resolves outside the folder
    const link = imgs.find((i) => i.rel_path === 'link.jpg');
    expect(link?.status).toBe('bad');
    expect((await h.raw(`/api/images/${link!.id}/file`)).status).toBe(404);
    // a link to a real image elsewhere is part of the dataset, as the trainer follows it: indexed, shown
    const face = imgs.find((i) => i.rel_path === 'elsewhere.jpg');
    expect(face?.status).toBe('ok');
    const shown = await h.raw(`/api/images/${face!.id}/file`);
    expect(shown.status).toBe(200);
    expect(shown.body.equals(readFileSync(elsewhere))).toBe(true);
    expect((await h.raw(`/api/images/${face!.id}/thumb?size=128`)).status).toBe(200);
    const paths = hostilePaths(imgs[0]!.id);
    for (const p of paths) {
      const r = await h.raw(p);
      expect([400, 404], `${p} → ${r.status}`).toContain(r.status);
      expect(r.body.toString()).not.toMatch(/root:|not for you/);
    }
  });

  it('bad bodies: not JSON, unknown fields, wrong types, oversize — a 4xx with the reason, and the host keeps serving', async () => {
    const post = (op: string, body: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }) =>
      h.raw(`/api/${op}`, { method: 'POST', body, headers });
    const cases: [string, string, number, RegExp][] = [
      ['datasets.list', '{not json', 400, /not JSON/],
      ['datasets.images', JSON.stringify({ dataset: 1, extra: true }), 400, /unknown field\(s\) 'extra'/],
      ['datasets.images', JSON.stringify({ dataset: 'one' }), 400, /dataset/],
      ['datasets.images', JSON.stringify({ dataset: 1, limit: 1e9 }), 400, /limit/],
      ['runs.create', JSON.stringify({ kind: 'nope' }), 400, /kind/],
      ['no.such.op', '{}', 404, /unknown operation/],
      ['datasets.list', JSON.stringify({ pad: 'x'.repeat(2 << 20) }), 413, /request body over/],
    ];
    for (const [op, body, status, msg] of cases) {
      const r = await post(op, body);
      expect(r.status, `${op} ${body.slice(0, 40)}`).toBe(status);
      expect(JSON.parse(r.body.toString()).error.message).toMatch(msg);
    }
    expect((await h.raw('/api/datasets.list', { method: 'GET' })).status).toBe(400);
    expect((await post('datasets.list', '{}', { 'Content-Type': 'text/plain' })).status).toBe(400);
    const ws = h.wsClient();
    expect(await errorOf(ws.call('datasets.images', { dataset: -3 } as never))).toMatchObject({ cause: 'usage' });
    expect(await errorOf(ws.subscribe('nope' as never, {} as never, () => undefined))).toMatchObject({
      cause: 'not-found',
    });
    expect(Array.isArray(await h.client.call('datasets.list', {}))).toBe(true);
  });
});

describe('a socket that subscribes without end, or stops reading', () => {
  it('at most 256 subscriptions on one connection; a reader that does not read is dropped past its buffer limit, and the host serves on', async () => {
    const raw = new WebSocket(`ws://127.0.0.1:${h.host.port}/api/ws?token=${h.host.token}`);
    await new Promise((res, rej) => (raw.once('open', res), raw.once('error', rej)));
    const replies = new Map<number, { type: string; error?: { cause: string; message: string } }>();
    raw.on('message', (b) => {
      const m = JSON.parse(b.toString()) as {
        type: string;
        id: number | null;
        error?: { cause: string; message: string };
      };
      if (m.id !== null && m.type !== 'event') replies.set(m.id, m);
    });
    for (let id = 1; id <= 300; id++) raw.send(JSON.stringify({ type: 'subscribe', id, topic: 'jobs', params: {} }));
    await until(
      '300 replies',
      () => replies.size,
      (n) => n === 300,
      20_000,
    );
    const refused = [...replies.entries()].filter(([, m]) => m.type === 'error');
    expect(refused.map(([id]) => id)).toEqual(Array.from({ length: 44 }, (_, i) => 257 + i));
    expect(refused[0]![1].error).toEqual({
      cause: 'busy',
      message: 'at most 256 subscriptions on one connection; unsubscribe first',
    });
    raw.close();

    // a host whose sockets may hold 256 KB unread; this client stops reading and keeps asking
    const { startHost } = await import('../../electron/host/http-host.js');
    const small = await startHost({ app: h.app, port: 0, socketBufferLimit: 256 << 10 });
    try {
      const { id: dataset } = await addAndScan(faceFolder(40, 'paused-reader'));
      const slow = new WebSocket(`ws://127.0.0.1:${small.port}/api/ws?token=${small.token}`);
      await new Promise((res, rej) => (slow.once('open', res), slow.once('error', rej)));
      const closed = new Promise<number>((res) => slow.once('close', (code) => res(code)));
      let answered = 0;
      slow.on('message', () => void answered++);
      (slow as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      const asks = 3000;
      for (let id = 1; id <= asks; id++)
        slow.send(JSON.stringify({ type: 'call', id, op: 'datasets.images', params: { dataset, limit: 100 } }));
      await new Promise((r) => setTimeout(r, 3000));
      (slow as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await closed).toBe(1006); // dropped by the host, not closed by either side's handshake
      expect(answered).toBeLessThan(asks);
      // the host and its other clients are untouched
      expect(Array.isArray(await h.client.call('datasets.list', {}))).toBe(true);
    } finally {
      await small.close();
    }
  }, 60_000);
});

describe('runs that cannot fit', () => {
  it('a pre-training whose step would not fit in the wasm heap is refused before anything is recorded, naming the batch', async () => {
    const { id } = await addAndScan(faceFolder(4, 'too-big'));
    const before = (await h.client.call('runs.list', {})).length;
    const e = await errorOf(
      h.client.call('runs.create', {
        kind: 'pretrain',
        dataset: id,
        settings: { preset: 'base', batch: 32, backend: 'wasm' },
        start: false,
      }),
    );
    expect(e).toMatchObject({
      cause: 'input',
      field: 'batch',
      message: expect.stringMatching(
        /^base\/224 at batch 32 needs about 7\.\d GB of wasm memory even with activations recomputed .* use --batch 16 or less/,
      ),
    });
    expect((await h.client.call('runs.list', {})).length).toBe(before);
  });
});
