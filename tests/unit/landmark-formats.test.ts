// The landmark datasets' own files (300W .pts folders, WFLW annotation lists, HRNet's AFLW-19 CSV),
// written in their exact layouts beside tiny real images, including malformed ones.
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import {
  formatPts,
  parsePts,
  read300w,
  readAflw19,
  readLandmarkDataset,
  readPts,
  readWflw,
  writePts,
  landmarkDataOf,
} from '../../trainer/src/geometry/landmark-formats.js';
import { tempDir } from '../support/folders.js';

function write(root: string, rel: string, text: string): string {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}

/** A tiny real image (PNG or JPEG by the extension). */
async function image(root: string, rel: string): Promise<string> {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  const img = sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 200, g: 120, b: 40 } } });
  await (/\.jpe?g$/i.test(rel) ? img.jpeg() : img.png()).toFile(p);
  return p;
}

/** n distinct points, x then y, as written in a file: point i at (10 + i, 200 + 2i) plus `offset`. */
const ramp = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => [10 + i + offset + 0.25, 200 + 2 * i + offset + 0.5]);

/** A .pts text of the ramp (written 1-based, as iBUG's files are), with options for malformed ones. */
function ptsText(n = 68, { header = `n_points: ${n}`, eol = '\n' } = {}): string {
  return ['version: 1', header, '{', ...ramp(n, 1).map(([x, y]) => `${x!.toFixed(3)} ${y!.toFixed(3)}`), '}', ''].join(
    eol,
  );
}

describe('300W .pts files', () => {
  it('reads 1-based coordinates as 0-based', () => {
    const pts = parsePts(ptsText().split('\n'), 'a.pts');
    expect(pts).toHaveLength(136);
    expect(Array.from(pts.slice(0, 4))).toEqual([10.25, 200.5, 11.25, 202.5]);
    expect(pts[135]).toBeCloseTo(200.5 + 2 * 67, 5);
  });

  it('takes the layout of the iBUG files: CRLF, two spaces after n_points:, a trailing blank line', () => {
    const pts = parsePts(ptsText(68, { header: 'n_points:  68', eol: '\r\n' }).split(/\r?\n/), 'a.pts');
    expect(pts[0]).toBe(10.25);
  });

  it('names the file and line of what is wrong', () => {
    const lines = ptsText(4).split('\n');
    const bad = (edit: (l: string[]) => void) => {
      const l = [...lines];
      edit(l);
      return () => parsePts(l, 'f.pts');
    };
    expect(bad((l) => (l[0] = 'version: 2'))).toThrow(/^f\.pts:1: version 2 is not read/);
    expect(bad((l) => (l[1] = 'points: 4'))).toThrow(/^f\.pts:2: expected 'n_points: <count>', got 'points: 4'/);
    expect(bad((l) => (l[1] = 'n_points: 4.5'))).toThrow(/^f\.pts:2: n_points must be a positive whole number/);
    expect(bad((l) => (l[2] = '['))).toThrow(/^f\.pts:3: expected '\{', got '\['/);
    expect(bad((l) => (l[5] = '12.0'))).toThrow(/^f\.pts:6: expected 'x y', got '12.0'/);
    expect(bad((l) => (l[4] = '3 abc'))).toThrow(/^f\.pts:5: point 1 y: 'abc' is not a finite number/);
    expect(bad((l) => (l[3] = 'NaN 4'))).toThrow(/^f\.pts:4: point 0 x: 'NaN' is not a finite number/);
    expect(bad((l) => l.splice(5, 2))).toThrow(/^f\.pts:6: '\}' after 2 points; n_points says 4/);
    expect(bad((l) => l.splice(7))).toThrow(/^f\.pts:7: the file ends where '\}' after 4 points was expected/);
    expect(bad((l) => l.splice(6, 3, '', ''))).toThrow(/^f\.pts:6: the file ends after 3 of 4 points/);
    expect(() => parsePts([''], 'f.pts')).toThrow(/^f\.pts:1: the file ends where 'version: 1' was expected/);
    expect(bad((l) => l.push('5 5'))).toThrow(/^f\.pts:10: unexpected '5 5' after the closing '\}' \(line 8\)/);
    expect(() => parsePts(lines, 'f.pts', { points: 68, scheme: '300W' })).toThrow(
      /^f\.pts:2: n_points is 4; 300W has 68 points/,
    );
  });

  it('writes the format it reads (1-based, three decimals) and reads back what it wrote', async () => {
    expect(formatPts([0, 1.5, 9.25, -0.5])).toBe('version: 1\nn_points: 2\n{\n1.000 2.500\n10.250 0.500\n}\n');
    const dir = tempDir('pts-write');
    const points = Float32Array.from({ length: 136 }, (_, i) => i * 3.1234 - 5);
    const file = join(dir, 'out.pts');
    writePts(file, points);
    expect(readFileSync(file, 'utf8').split('\n').slice(0, 3)).toEqual(['version: 1', 'n_points: 68', '{']);
    const back = await readPts(file);
    for (let i = 0; i < 136; i++) expect(back[i]).toBeCloseTo(points[i]!, 3);
    expect(() => formatPts([1, 2, 3])).toThrow(/x, y pairs: got 3 numbers/);
    expect(() => formatPts([1, Number.NaN])).toThrow(/point 0 is not finite/);
    expect(() => writePts(join(dir, 'no-such-folder', 'x.pts'), [1, 2])).toThrow(/cannot write .*x\.pts/);
  });
});

describe('300W folder', () => {
  it('pairs each image with the .pts beside it, at any depth; the rest is skipped with reasons', async () => {
    const root = tempDir('300w');
    const a = await image(root, 'afw/1051618982_1.jpg');
    write(root, 'afw/1051618982_1.pts', ptsText());
    const b = await image(root, 'helen/trainset/100032540_1.PNG');
    write(root, 'helen/trainset/100032540_1.pts', ptsText(68, { header: 'n_points:  68', eol: '\r\n' }));
    const lonely = await image(root, 'lfpw/image_0001.png');
    write(root, 'lfpw/image_0002.pts', ptsText());
    write(root, 'readme.txt', 'not an image');
    const ds = await read300w(root);
    expect(ds.scheme).toBe('300w-68');
    expect(ds.samples.map((s) => s.image)).toEqual([a, b]);
    expect(ds.samples[0]).toMatchObject({ box: null, source: join(root, 'afw/1051618982_1.pts') });
    expect(Array.from(ds.samples[1]!.points.slice(0, 2))).toEqual([10.25, 200.5]);
    expect(ds.skipped).toEqual([
      { path: lonely, reason: 'no .pts file beside it (expected image_0001.pts)' },
      { path: join(root, 'lfpw/image_0002.pts'), reason: 'a .pts file without an image beside it' },
    ]);
  });

  it('a malformed .pts is an error naming it; a wrong point count too', async () => {
    const root = tempDir('300w-bad');
    await image(root, 'a.png');
    const bad = write(root, 'a.pts', ptsText().replace('12.250', '12,250'));
    await expect(read300w(root)).rejects.toThrow(`${bad}:5: point 1 x: '12,250' is not a finite number`);
    write(root, 'a.pts', ptsText(49));
    await expect(read300w(root)).rejects.toThrow(
      `${bad}:2: n_points is 49; 300W (the iBUG 68-point scheme) has 68 points`,
    );
  });

  it('refuses a folder without one annotated image, and a path that is not a folder', async () => {
    const root = tempDir('300w-empty');
    const img = await image(root, 'x.jpg');
    await expect(read300w(root)).rejects.toThrow(
      `no usable 300w-68 samples in ${root} (1 skipped; ${img}: no .pts file beside it (expected x.pts))`,
    );
    await expect(read300w(img)).rejects.toThrow(`the 300W folder ${img} is not a folder`);
    await expect(read300w(join(root, 'gone'))).rejects.toThrow(/300W folder .*gone cannot be read: no such file/);
  });
});

/** A WFLW list line: 98 points, the box, six flags, the image path. */
function wflwLine(path: string, { flags = '0 0 0 0 0 0', box = '5 190 120 420', offset = 0 } = {}): string {
  return `${ramp(98, offset).flat().join(' ')} ${box} ${flags} ${path}`;
}

async function wflwLayout() {
  const root = tempDir('wflw');
  const list = join(root, 'WFLW_annotations/list_98pt_rect_attr_train_test/list_98pt_rect_attr_train.txt');
  const a = await image(root, 'WFLW_images/51--Dresses/51_Dresses_wearingdress_51_377.jpg');
  const b = await image(root, 'WFLW_images/0--Parade/0_Parade_marchingband_1_116.png');
  return { root, list, a, b };
}

describe('WFLW annotation list', () => {
  it('reads points, box (x_min y_min x_max y_max → x y w h), flags and path; a missing image is skipped', async () => {
    const { root, list, a, b } = await wflwLayout();
    write(
      root,
      'WFLW_annotations/list_98pt_rect_attr_train_test/list_98pt_rect_attr_train.txt',
      [
        wflwLine('51--Dresses/51_Dresses_wearingdress_51_377.jpg'),
        '',
        wflwLine('0--Parade/0_Parade_marchingband_1_116.png', { flags: '1 0 1 0 1 1', offset: 3 }),
        wflwLine('0--Parade/0_Parade_marchingband_1_116.png', { box: '0 0 10.5 20' }), // a second face
        wflwLine('0--Parade/gone.jpg'),
        '',
      ].join('\r\n'),
    );
    const ds = await readWflw(list); // WFLW_images found where the official layout puts it
    expect(ds.scheme).toBe('wflw-98');
    expect(ds.samples.map((s) => s.image)).toEqual([a, b, b]);
    const [s0, s1, s2] = ds.samples;
    expect(s0!.points).toHaveLength(196);
    expect(Array.from(s0!.points.slice(0, 4))).toEqual([10.25, 200.5, 11.25, 202.5]);
    expect(s0!.box).toEqual([5, 190, 115, 230]);
    expect(s0!.attributes).toEqual({
      pose: false,
      expression: false,
      illumination: false,
      makeUp: false,
      occlusion: false,
      blur: false,
    });
    expect(s1!.points[0]).toBe(13.25);
    expect(s1!.attributes).toEqual({
      pose: true,
      expression: false,
      illumination: true,
      makeUp: false,
      occlusion: true,
      blur: true,
    });
    expect(s1!.source).toBe(`${list}:3`);
    expect(s2!.box).toEqual([0, 0, 10.5, 20]);
    expect(ds.skipped).toEqual([
      {
        path: join(root, 'WFLW_images/0--Parade/gone.jpg'),
        reason: `the image cannot be read: no such file or folder (listed at ${list}:5)`,
      },
    ]);
    const explicit = await readLandmarkDataset('wflw', list, { images: join(root, 'WFLW_images') });
    expect(explicit.samples).toHaveLength(3);
  });

  it('names the line of a malformed entry', async () => {
    const { root, list } = await wflwLayout();
    const p = '51--Dresses/51_Dresses_wearingdress_51_377.jpg';
    const bad = async (line: string, message: string) => {
      write(
        root,
        'WFLW_annotations/list_98pt_rect_attr_train_test/list_98pt_rect_attr_train.txt',
        `${wflwLine(p)}\n${line}\n`,
      );
      await expect(readWflw(list)).rejects.toThrow(`${list}:2: ${message}`);
    };
    await bad(
      wflwLine(p).replace(' 5 190 ', ' 190 '),
      'expected 207 fields (196 coordinates, 4 box numbers, 6 attribute flags, the image path), got 206',
    );
    await bad(wflwLine(p).replace('13.25', 'nan'), "point 3 x: 'nan' is not a finite number");
    await bad(wflwLine(p, { box: '50 190 20 420' }), 'the face box is empty (x 50–20, y 190–420)');
    await bad(wflwLine(p, { flags: '0 0 2 0 0 0' }), "the illumination flag (field 203) must be 0 or 1, got '2'");
    await bad(
      wflwLine('../../secret.jpg'),
      `the image path '../../secret.jpg' leaves the images folder ${join(root, 'WFLW_images')}`,
    );
  });

  it('says where it looked for the images folder', async () => {
    const root = tempDir('wflw-noimages');
    const list = write(root, 'list.txt', `${wflwLine('a.jpg')}\n`);
    await expect(readWflw(list)).rejects.toThrow(
      `the WFLW images folder (WFLW_images) ${join(root, '..', '..', 'WFLW_images')} cannot be read: no such file or folder`,
    );
    await expect(readWflw(join(root, 'missing.txt'), root)).rejects.toThrow(
      `${join(root, 'missing.txt')}: cannot read the WFLW annotation list: no such file or folder`,
    );
  });
});

const AFLW_HEADER = [
  'image_name',
  'scale',
  'box_size',
  'center_w',
  'center_h',
  ...Array.from({ length: 19 }, (_, i) => [`original_${i}_x`, `original_${i}_y`]).flat(),
].join(',');

function aflwRow(name: string, { meta = '0.6,120,64.5,80', offset = 0 } = {}): string {
  return `${name},${meta},${ramp(19, offset).flat().join(',')}`;
}

describe('AFLW-19 CSV (HRNet layout)', () => {
  it('reads 43 columns by position: the box is the square of side box_size about the centre', async () => {
    const root = tempDir('aflw');
    const img = await image(root, 'images/flickr/3/image00035.jpg');
    const csv = write(
      root,
      'face_landmarks_aflw_test.csv',
      `${AFLW_HEADER}\n${aflwRow('flickr/3/image00035.jpg')}\n${aflwRow('"flickr/0/image04000.jpg"', { offset: 1 })}\n\n`,
    );
    const ds = await readLandmarkDataset('aflw19', csv); // images/ beside the CSV, as in HRNet's data/aflw/
    expect(ds.scheme).toBe('aflw-19');
    expect(ds.samples).toHaveLength(1);
    expect(ds.samples[0]).toMatchObject({ image: img, box: [4.5, 20, 120, 120], source: `${csv}:2` });
    expect(Array.from(ds.samples[0]!.points.slice(-2))).toEqual([28.25, 236.5]);
    expect(ds.skipped).toEqual([
      {
        path: join(root, 'images/flickr/0/image04000.jpg'),
        reason: `the image cannot be read: no such file or folder (listed at ${csv}:3)`,
      },
    ]);
  });

  it('names the line of a malformed row, and refuses a file whose first row is data', async () => {
    const root = tempDir('aflw-bad');
    await image(root, 'imgs/a.png');
    const csv = join(root, 'face_landmarks_aflw_train.csv');
    const bad = async (text: string, message: string) => {
      writeFileSync(csv, text);
      await expect(readAflw19(csv, join(root, 'imgs'))).rejects.toThrow(`${csv}:${message}`);
    };
    const good = aflwRow('a.png');
    await bad(`${good}\n`, '1: the first row is data, not the header');
    await bad(`image_name,scale\n${good}\n`, '1: the header has 2 columns; expected 43');
    await bad(`${AFLW_HEADER}\n${good}\n${good.replace(/,[^,]*$/, '')}\n`, '3: expected 43 columns');
    await bad(`${AFLW_HEADER}\n${aflwRow('a.png', { meta: '0.6,0,64,80' })}\n`, '2: box_size must be positive, got 0');
    await bad(`${AFLW_HEADER}\n${aflwRow('a.png', { meta: '-1,120,64,80' })}\n`, '2: scale must be positive, got -1');
    await bad(
      `${AFLW_HEADER}\n${aflwRow('a.png', { meta: '0.6,120,,80' })}\n`,
      "2: center_w: '' is not a finite number",
    );
    await bad(`${AFLW_HEADER}\n${good.replace(',11.25,', ',x,')}\n`, "2: point 1 x: 'x' is not a finite number");
    await bad(`${AFLW_HEADER}\n${aflwRow('/etc/a.png')}\n`, "2: the image path '/etc/a.png' leaves the images folder");
    await bad('\n\n', ' the file is empty');
  });

  it('refuses a CSV whose every image is missing, naming the first', async () => {
    const root = tempDir('aflw-none');
    mkdirSync(join(root, 'images'));
    const csv = write(root, 'a.csv', `${AFLW_HEADER}\n${aflwRow('x.jpg')}\n${aflwRow('y.gif')}\n`);
    await expect(readAflw19(csv)).rejects.toThrow(
      `no usable aflw-19 samples in ${csv} (2 skipped; ${join(root, 'images/x.jpg')}: the image cannot be read`,
    );
    await expect(readAflw19(csv)).rejects.toThrow(/y\.gif: not an image type camd reads \(\.gif\)/);
  });
});

describe('readLandmarkDataset', () => {
  it('dispatches by format and refuses what does not apply', async () => {
    const root = tempDir('300w-entry');
    await image(root, 'a.png');
    write(root, 'a.pts', ptsText());
    expect((await readLandmarkDataset('300w', root)).samples).toHaveLength(1);
    await expect(readLandmarkDataset('300w', root, { images: root })).rejects.toThrow(/holds its own images/);
    await expect(readLandmarkDataset('cofw' as never, root)).rejects.toThrow(/unknown landmark format 'cofw'/);
  });
});

describe('landmarkDataOf: the annotation of a format inside a dataset folder (the app gives folders)', () => {
  it('a 300W folder is its own; the WFLW lists and the AFLW-19 CSVs are found where their releases put them, the test one too', () => {
    const root = tempDir('lmk-data-of');
    expect(landmarkDataOf('300w', root)).toEqual({ data: root });
    expect(() => landmarkDataOf('wflw', root)).toThrow(
      `${root} holds no WFLW annotation list: looked for WFLW_annotations/list_98pt_rect_attr_train_test/list_98pt_rect_attr_train.txt and list_98pt_rect_attr_train.txt`,
    );
    const list = join(root, 'WFLW_annotations', 'list_98pt_rect_attr_train_test', 'list_98pt_rect_attr_train.txt');
    mkdirSync(dirname(list), { recursive: true });
    writeFileSync(list, '');
    expect(landmarkDataOf('wflw', root)).toEqual({ data: list });
    // the release's test list beside it is the test set
    writeFileSync(list.replace('_train.txt', '_test.txt'), '');
    expect(landmarkDataOf('wflw', root)).toEqual({ data: list, testData: list.replace('_train.txt', '_test.txt') });
    expect(() => landmarkDataOf('aflw19', root)).toThrow(
      /holds no AFLW-19 CSV: looked for face_landmarks_aflw_train\.csv and data\/aflw\/face_landmarks_aflw_train\.csv/,
    );
    const csv = join(root, 'data', 'aflw', 'face_landmarks_aflw_train.csv');
    mkdirSync(dirname(csv), { recursive: true });
    writeFileSync(csv, '');
    expect(landmarkDataOf('aflw19', root)).toEqual({ data: csv });
  });
});
