// Face parsing's files: label PNGs read as their stored indices (greyscale, the first channel of an
// RGB mask, a palette PNG refused), LaPa's train/test layout, CelebAMask-HQ's per-part masks merged
// in g_mask.py's order (a later part wins an overlap) with its official split, and label maps
// written by camd read back by PIL. Fixtures are written by Pillow, as the datasets' own tools do.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/folders.js';
import { readLabelPng, writeLabelPng } from '../../trainer/src/parsing/label-png.js';
import { readLapa } from '../../trainer/src/parsing/read-lapa.js';
import { readCelebAMask } from '../../trainer/src/parsing/read-celebamask.js';
import { readSampleLabels } from '../../trainer/src/parsing/parsing-sample.js';
import { CELEBAMASK_PARTS, CLASS_MAPS } from '../../trainer/src/parsing/parsing-classes.js';

const python = [process.env['CAMD_PYTHON'], '/usr/bin/python3', 'python3']
  .filter((p): p is string => Boolean(p))
  .find((p) => spawnSync(p, ['-c', 'import PIL, numpy'], { encoding: 'utf8' }).status === 0);
const missing = python ? null : 'no Python with PIL and numpy (install python3-pil, python3-numpy; .ci/run does)';
if (missing && process.env['CI']) throw new Error(`parsing-formats tests need ${missing}`);
if (missing) console.log(`[parsing-formats] skipped: ${missing}`);

/** Runs Python with PIL and numpy imported (as `Image`, `np`). */
function py(code: string): void {
  const r = spawnSync(python!, ['-c', `from PIL import Image\nimport numpy as np\n${code}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

describe.skipIf(missing)('face-parsing files', () => {
  it('a greyscale label PNG reads as its indices, an RGB mask by its first channel; a palette PNG and a class past the scheme are refused', async () => {
    const dir = tempDir('labelpng');
    py(`
a = (np.arange(30, dtype=np.uint8) % 11).reshape(5, 6)
Image.fromarray(a, 'L').save('${dir}/grey.png')
rgb = np.zeros((5, 6, 3), np.uint8); rgb[..., 0] = a; rgb[..., 1] = 200
Image.fromarray(rgb, 'RGB').save('${dir}/rgb.png')
Image.fromarray(a, 'L').convert('P').save('${dir}/pal.png')
b = a.copy(); b[2, 3] = 11
Image.fromarray(b, 'L').save('${dir}/eleven.png')
Image.fromarray(a, 'L').save('${dir}/a.jpg')
`);
    const want = Array.from({ length: 30 }, (_, i) => i % 11);
    const g = await readLabelPng(join(dir, 'grey.png'));
    expect([g.width, g.height]).toEqual([6, 5]);
    expect([...g.data]).toEqual(want);
    expect([...(await readLabelPng(join(dir, 'rgb.png'))).data]).toEqual(want);
    await expect(readLabelPng(join(dir, 'pal.png'))).rejects.toThrow(/pal\.png: a palette PNG/);
    await expect(readLabelPng(join(dir, 'a.jpg'))).rejects.toThrow(/must be a PNG/);
    await expect(
      readSampleLabels({ image: 'x', labels: { kind: 'map', file: join(dir, 'eleven.png') }, split: null }, 'lapa-11'),
    ).rejects.toThrow(/eleven\.png: pixel 3,2 has class 11; lapa-11 has 11 classes/);
    // what camd writes, PIL reads as the same single-channel indices
    await writeLabelPng(join(dir, 'ours.png'), { width: 6, height: 5, data: Uint8Array.from(want) });
    py(`
im = Image.open('${dir}/ours.png'); assert im.mode == 'L', im.mode
assert (np.array(im) == (np.arange(30) % 11).reshape(5, 6)).all()
`);
  });

  it("LaPa's train/ and test/ are its split (val/ not read); an image without its label map is skipped", async () => {
    const root = tempDir('lapa');
    for (const s of ['train', 'val', 'test']) {
      mkdirSync(join(root, s, 'images'), { recursive: true });
      mkdirSync(join(root, s, 'labels'), { recursive: true });
      mkdirSync(join(root, s, 'landmarks'), { recursive: true });
    }
    py(`
for s, names in [('train', ['a', 'b', 'c']), ('val', ['v']), ('test', ['t'])]:
    for n in names:
        Image.fromarray(np.full((8, 8, 3), 120, np.uint8)).save(f'${root}/{s}/images/{n}.jpg')
        if n != 'c': Image.fromarray(np.full((8, 8), 1, np.uint8), 'L').save(f'${root}/{s}/labels/{n}.png')
`);
    const ds = await readLapa(root);
    expect(ds.scheme).toBe('lapa-11');
    expect(ds.split).toMatch(/LaPa train\/ and test\//);
    const by = (s: string) =>
      ds.samples
        .filter((x) => x.split === s)
        .map((x) => x.image.split('/').pop())
        .sort();
    expect(by('train')).toEqual(['a.jpg', 'b.jpg']);
    expect(by('test')).toEqual(['t.jpg']);
    expect(ds.samples).toHaveLength(3);
    expect(ds.skipped.map((s) => s.path.split('/').pop())).toEqual(['c.jpg']);
    await expect(readLapa(join(root, 'train', 'landmarks'))).rejects.toThrow(/no LaPa layout/);
  });

  it("CelebAMask-HQ's part masks merge in g_mask.py's order, later parts winning; the official split when its two lists are there", async () => {
    const root = tempDir('celebm');
    mkdirSync(join(root, 'CelebA-HQ-img'));
    mkdirSync(join(root, 'CelebAMask-HQ-mask-anno', '0'), { recursive: true });
    mkdirSync(join(root, 'CelebAMask-HQ-mask-anno', '1'), { recursive: true });
    // images 16 px (masks 8 px: half, as 1024 and 512); image 3 has no mask; 2's masks sit in folder 1
    py(`
anno = '${root}/CelebAMask-HQ-mask-anno'
for n in range(4):
    Image.fromarray(np.full((16, 16, 3), 100 + n, np.uint8)).save(f'${root}/CelebA-HQ-img/{n}.jpg')
def mask(n, part, rows, sub=0):
    m = np.zeros((8, 8, 3), np.uint8); m[rows] = 255
    Image.fromarray(m).save(f'{anno}/{sub}/{n:05d}_{part}.png')
for n in range(3):
    sub = 1 if n == 2 else 0
    mask(n, 'skin', slice(0, 8), sub)   # everywhere
    mask(n, 'hair', slice(0, 4), sub)   # rows 0-3 over skin
    mask(n, 'nose', slice(2, 6), sub)   # rows 2-5: under hair (rows 2-3), over skin (rows 4-5)
    mask(n, 'cloth', slice(7, 8), sub)  # the last part: row 7
open('${root}/CelebA-HQ-to-CelebA-mapping.txt', 'w').write('idx         orig_idx        orig_file\\n0 10 000011.jpg\\n1 20 000021.jpg\\n2 30 000031.jpg\\n3 40 000041.jpg\\n')
open('${root}/list_eval_partition.txt', 'w').write('000011.jpg 0\\n000021.jpg 1\\n000031.jpg 2\\n000041.jpg 0\\n')
`);
    const ds = await readCelebAMask(root);
    expect(ds.scheme).toBe('celebamask-19');
    expect(ds.split).toMatch(/^official/);
    // 0 trains, 1 is val (not read), 2 tests, 3 has no masks
    expect(ds.samples.map((s) => [s.image.split('/').pop(), s.split])).toEqual([
      ['0.jpg', 'train'],
      ['2.jpg', 'test'],
    ]);
    expect(ds.skipped.map((s) => s.path.split('/').pop())).toEqual(['3.jpg']);
    const m = await readSampleLabels(ds.samples[1]!, 'celebamask-19');
    const cls = (p: string) => CELEBAMASK_PARTS.indexOf(p as never) + 1;
    expect([m.width, m.height]).toEqual([8, 8]);
    const rows = Array.from({ length: 8 }, (_, r) => m.data[r * 8 + 3]);
    expect(rows).toEqual([
      cls('hair'),
      cls('hair'),
      cls('hair'),
      cls('hair'),
      cls('nose'),
      cls('nose'),
      cls('skin'),
      cls('cloth'),
    ]);
    expect([cls('skin'), cls('nose'), cls('hair'), cls('cloth')]).toEqual([1, 2, 13, 18]);
    expect(CLASS_MAPS['celebamask-19'].names).toHaveLength(19);
    // without the two lists: no split of its own
    rmSync(join(root, 'list_eval_partition.txt'));
    const plain = await readCelebAMask(root);
    expect(plain.split).toBeNull();
    expect(plain.samples.map((s) => s.split)).toEqual([null, null, null]);
  });
});
