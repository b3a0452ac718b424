// A face-parsing model on a photo (`camd predict`) sees what training's evaluation sees: training
// views a parsing sample as its whole image (canonicalParsing, then the plain parsingView), and the
// prediction view of the whole photo is that view, pixel for pixel; the class scores of the view
// go back onto the photo's pixels where training's view took its labels from.
//
// Parsing label maps a person saved (geometry_labels, task 'parsing') go through the PNG check
// (decoded by sharp: the image's size, the scheme's classes) and come out in LaPa's layout, which
// our LaPa reader reads back pixel for pixel and PIL reads as the same class values.
import { describe, expect, it } from 'vitest';
import { CLASS_MAPS } from '../../trainer/src/parsing/parsing-classes.js';
import {
  canonicalParsing,
  DEFAULT_PARSING_AUG,
  parsingPredictionView,
  parsingView,
} from '../../trainer/src/parsing/parsing-views.js';
import { photoLabels } from '../../trainer/src/parsing/parsing-predict.js';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Store } from '../../trainer/src/store/store.js';
import { saveGeometryLabel } from '../../trainer/src/annotation/geometry-labels.js';
import { parsingMaskCheck } from '../../trainer/src/annotation/parsing-mask.js';
import { exportParsingLabels } from '../../trainer/src/annotation/export-parsing.js';
import { encodeLabelPng, type LabelMap } from '../../trainer/src/parsing/label-png.js';
import { readLapa } from '../../trainer/src/parsing/read-lapa.js';
import { readSampleLabels } from '../../trainer/src/parsing/parsing-sample.js';
import { tempDir } from '../support/folders.js';

// a landscape photo (wider than tall: the view pads above and below) with three coloured regions
const W = 150;
const H = 100;
function photoAndLabels(): { img: { width: number; height: number; data: Uint8Array }; labels: LabelMap } {
  const data = new Uint8Array(W * H * 3);
  const lab = new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      // skin (1) an ellipse, nose (6) a box inside it, hair (10) the top band, else background
      const inFace = ((x - 75) / 40) ** 2 + ((y - 55) / 35) ** 2 < 1;
      const cls = y < 18 ? 10 : x >= 68 && x < 84 && y >= 45 && y < 70 ? 6 : inFace ? 1 : 0;
      lab[y * W + x] = cls;
      const rgb = { 0: [30, 40, 50], 1: [220, 170, 140], 6: [200, 90, 80], 10: [60, 30, 10] }[cls as 0 | 1 | 6 | 10];
      data.set(rgb, (y * W + x) * 3);
    }
  return { img: { width: W, height: H, data }, labels: { width: W, height: H, data: lab } };
}

describe('the parsing prediction view: the whole photo, as training views a sample', () => {
  it('is the evaluation view of training, pixel for pixel, and its scores map back onto the photo’s labels', () => {
    const { img, labels } = photoAndLabels();
    const S = 32;
    const p = parsingPredictionView(img, S);
    const train = parsingView(
      canonicalParsing(img, labels, S, 'test'),
      S,
      CLASS_MAPS['lapa-11'].flip,
      DEFAULT_PARSING_AUG,
      null,
    );
    expect(p.x).toEqual(train.x);
    // the view's labels as one-hot scores, back on the photo: the photo's own labels, but near region edges
    const K = 11;
    const z = new Float32Array(S * S * K);
    for (let i = 0; i < S * S; i++) z[i * K + train.y[i]!] = 1;
    const back = photoLabels(z, S, K, p, W, H);
    expect([back.width, back.height]).toEqual([W, H]);
    let same = 0;
    for (let i = 0; i < W * H; i++) if (back.data[i] === labels.data[i]) same++;
    expect(same / (W * H)).toBeGreaterThan(0.93);
    // region centres: exactly the class there (the view's 32 px hold the photo's 150: ~5 px a sample)
    const at = (x: number, y: number) => back.data[y * W + x];
    expect([at(75, 57), at(50, 60), at(75, 5), at(5, 95), at(145, 50)]).toEqual([6, 1, 10, 0, 0]);
    // the longer side fills the view: 150 photo pixels over 32 view pixels, the shorter side centred
    expect(p.scale).toBeCloseTo(W / S, 6);
    expect(p.origin[0]).toBeCloseTo(0, 6);
    expect(p.origin[1]).toBeCloseTo((H - W) / 2, 6);
  });
});

const python = ['/usr/bin/python3', 'python3'].find(
  (p) => spawnSync(p, ['-c', 'import PIL, numpy'], { encoding: 'utf8' }).status === 0,
);

/** A label map with stripes of classes 0…10 (row y has class ⌊y·11/h⌋) and a block of `cls` in the corner. */
function map(width: number, height: number, cls: number): LabelMap {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data[y * width + x] = x < 5 && y < 5 ? cls : Math.floor((y * 11) / height);
  return { width, height, data };
}

async function storeWithImages() {
  const root = tempDir('parsing-export-ds');
  mkdirSync(join(root, 'sub'));
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#c08060' } })
    .jpeg()
    .toFile(join(root, 'a.jpg'));
  await sharp({ create: { width: 24, height: 36, channels: 3, background: '#305070' } })
    .png()
    .toFile(join(root, 'sub', 'b.png'));
  const s = new Store(join(tempDir('parsing-export-db'), 'camd.db'));
  const ds = s.ensureDataset(root, 'faces');
  const row = (rel: string, width: number, height: number) => ({
    rel_path: rel,
    bytes: 1,
    mtime_ms: 1,
    width,
    height,
    format: 'jpeg',
    sha256: rel,
    status: 'ok' as const,
    error: null,
  });
  s.applyScan(ds.id, [row('a.jpg', 40, 30), row('sub/b.png', 24, 36)], []);
  const id = (rel: string) => s.images(ds.id).find((i) => i.rel_path === rel)!.id;
  return { s, ds, id, root };
}

const who = { labeller: 'ana', source: 'hand' };

describe('parsing label maps: saved through the PNG check, exported in LaPa’s layout', () => {
  it('round-trips: saved maps → images/ + labels/*.png → read-lapa gives the same maps; PIL reads the same values', async () => {
    const { s, ds, id, root } = await storeWithImages();
    const save = async (rel: string, m: LabelMap, scheme: 'lapa-11' | 'celebamask-19' = 'lapa-11') => {
      const png = new Uint8Array(await encodeLabelPng(m));
      return saveGeometryLabel(s.db, id(rel), { task: 'parsing', scheme, mask: png }, who, await parsingMaskCheck(png));
    };
    const a = map(40, 30, 7);
    const b = map(24, 36, 10);
    await save('a.jpg', a);
    await save('sub/b.png', b);
    // refused in words: the wrong size, a class the scheme has not, bytes that are no PNG
    await expect(save('a.jpg', map(30, 40, 1))).rejects.toThrow(/the label map is 30×40; the image is 40×30/);
    await expect(save('a.jpg', map(40, 30, 11))).rejects.toThrow(/has class 11; the scheme has 11 classes \(0–10\)/);
    const jpeg = new Uint8Array(await sharp(join(root, 'a.jpg')).toBuffer());
    await expect(parsingMaskCheck(jpeg)).rejects.toMatchObject({ field: 'mask', message: /must be a PNG/ });

    const out = join(tempDir('parsing-export'), 'lapa');
    const r = await exportParsingLabels(s.db, ds.id, 'lapa-11', out);
    expect(r).toMatchObject({ written: 2, skipped: [] });
    const back = await readLapa(out);
    expect(back.samples.map((x) => x.image)).toEqual([
      join(out, 'images', 'a.jpg'),
      join(out, 'images', 'sub', 'b.png'),
    ]);
    expect((await readSampleLabels(back.samples[0]!, 'lapa-11')).data).toEqual(a.data);
    expect((await readSampleLabels(back.samples[1]!, 'lapa-11')).data).toEqual(b.data);
    if (python) {
      const counts = (m: LabelMap) => Array.from({ length: 11 }, (_, c) => m.data.filter((v) => v === c).length);
      const pil = spawnSync(
        python,
        [
          '-c',
          'import sys, numpy as np; from PIL import Image\nfor f in sys.argv[1:]: a = np.array(Image.open(f)); print(*a.shape, *np.bincount(a.ravel(), minlength=11))',
          join(out, 'labels', 'a.png'),
          join(out, 'labels', 'sub', 'b.png'),
        ],
        { encoding: 'utf8' },
      );
      expect(
        pil.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(' ').map(Number)),
      ).toEqual([
        [30, 40, ...counts(a)],
        [36, 24, ...counts(b)],
      ]);
    }
    // a folder that is not empty, and a scheme LaPa's layout does not hold, are refused
    await expect(exportParsingLabels(s.db, ds.id, 'lapa-11', out)).rejects.toThrow(/not an empty folder/);
    await save('a.jpg', map(40, 30, 18), 'celebamask-19');
    await expect(exportParsingLabels(s.db, ds.id, 'celebamask-19', join(out, '..', 'c'))).rejects.toThrow(
      /LaPa's layout holds LaPa's 11 classes/,
    );
    s.close();
  });
});
