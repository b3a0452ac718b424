// Colour at decode, against the real producer and the reference's loader: CMYK JPEGs and images
// with an embedded ICC profile, written by Pillow from a real face photo (and skimage's own photos
// that carry Adobe RGB, a laptop display's profile and a grey dot-gain profile), decoded by our
// decoder and by Pillow's Image.open(f).convert('RGB') (tests/support/pil_decode.py).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decodeRgb } from '../../trainer/src/data/image-io.js';
import { CLM_DIR, SKIMAGE_DIR } from '../support/fixtures.js';
import { tempDir } from '../support/folders.js';

const SCRIPT = fileURLToPath(new URL('../support/pil_decode.py', import.meta.url));
const python = [process.env['CAMD_PYTHON'], '/usr/bin/python3', 'python3']
  .filter((p): p is string => Boolean(p))
  .find((p) => spawnSync(p, ['-c', 'import PIL.ImageCms'], { encoding: 'utf8' }).status === 0);
const missing = python ? null : 'no Python with Pillow (install python3-pil; .ci/run does)';
if (missing && process.env['CI']) throw new Error(`decode-colour tests need ${missing}`);
if (missing) console.log(`[decode-colour] skipped: ${missing}`);

const FACE = join(CLM_DIR, 'audrey.jpg');
let dir: string;
const pillow = new Map<string, { mode: string; width: number; height: number; profile: string | null }>();

function runPython(args: string[]): string {
  const r = spawnSync(python!, [SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

beforeAll(async () => {
  if (missing) return;
  dir = tempDir('colour');
  // libvips' own CMYK profile (sharp's npm package ships it), embedded by Pillow as a CMYK export would carry one
  const withProfile = await sharp(FACE).withIccProfile('cmyk').toColourspace('cmyk').jpeg().toBuffer();
  writeFileSync(join(dir, 'cmyk.icc'), (await sharp(withProfile).metadata()).icc!);
  runPython(['make', FACE, dir, join(SKIMAGE_DIR, 'rocket.jpg'), join(dir, 'cmyk.icc')]);
  const files = [
    FACE,
    ...['cmyk.jpg', 'cmyk-profile.jpg', 'adobe-rgb.jpg'].map((f) => join(dir, f)),
    ...['rocket.jpg', 'color.png', 'page.png'].map((f) => join(SKIMAGE_DIR, f)),
  ];
  for (const line of runPython(['decode', dir, ...files])
    .trim()
    .split('\n')) {
    const r = JSON.parse(line) as { name: string; mode: string; width: number; height: number; profile: string | null };
    pillow.set(r.name, r);
  }
}, 300_000);

/** Per-channel means of interleaved RGB. */
function means(px: Uint8Array): [number, number, number] {
  const s = [0, 0, 0];
  for (let i = 0; i < px.length; i++) s[i % 3]! += px[i]!;
  return s.map((v) => v / (px.length / 3)) as [number, number, number];
}

/** Ours against Pillow's bytes of the same file: channel means, mean and largest per-value difference. */
async function compare(file: string, name = file.split('/').pop()!) {
  const ours = await decodeRgb(readFileSync(file));
  const ref = pillow.get(name)!;
  expect([ours.width, ours.height], name).toEqual([ref.width, ref.height]);
  const theirs = new Uint8Array(readFileSync(join(dir, `${name}.rgb`)));
  let sum = 0;
  let max = 0;
  for (let i = 0; i < theirs.length; i++) {
    const d = Math.abs(ours.data[i]! - theirs[i]!);
    sum += d;
    max = Math.max(max, d);
  }
  const [a, b] = [means(ours.data), means(theirs)];
  return {
    ours: a,
    theirs: b,
    meanShift: Math.max(...a.map((v, k) => Math.abs(v - b[k]!))),
    mae: sum / theirs.length,
    max,
  };
}

describe.skipIf(missing !== null)('colour at decode, as Pillow converts it', () => {
  it('a CMYK JPEG (Pillow’s export of a real face, with and without an embedded CMYK profile) decodes to the colours Pillow gives, and to the original’s', async () => {
    expect(pillow.get('cmyk.jpg')).toMatchObject({ mode: 'CMYK', profile: null });
    expect(pillow.get('cmyk-profile.jpg')).toMatchObject({ mode: 'CMYK', profile: 'Chemical proof' });
    const original = means((await decodeRgb(readFileSync(FACE))).data);
    for (const name of ['cmyk.jpg', 'cmyk-profile.jpg']) {
      const c = await compare(join(dir, name));
      const fromOriginal = Math.max(...c.ours.map((v, k) => Math.abs(v - original[k]!)));
      expect(c.meanShift, `${name}: channel means ours ${c.ours}, Pillow ${c.theirs}`).toBeLessThan(0.1);
      expect(c.mae, `${name}: mean difference per value`).toBeLessThan(0.1);
      expect(c.max, `${name}: largest difference`).toBeLessThanOrEqual(1);
      expect(fromOriginal, `${name}: channel means ours ${c.ours}, the RGB original ${original}`).toBeLessThan(1);
    }
  });

  it('an embedded RGB or grey profile (Adobe RGB on a real face and on skimage’s rocket, a display profile, a dot-gain grey) is read as Pillow reads it: the stored values', async () => {
    expect(pillow.get('adobe-rgb.jpg')!.profile).toBe('Adobe RGB (1998)');
    expect(pillow.get('rocket.jpg')!.profile).toBe('Adobe RGB (1998)');
    expect(pillow.get('color.png')).toMatchObject({ mode: 'RGB', profile: 'Color LCD' });
    expect(pillow.get('page.png')).toMatchObject({ mode: 'L', profile: 'Dot Gain 20%' });
    for (const file of [
      join(dir, 'adobe-rgb.jpg'),
      ...['rocket.jpg', 'color.png', 'page.png'].map((f) => join(SKIMAGE_DIR, f)),
    ]) {
      const c = await compare(file);
      expect(c.meanShift, `${file}: channel means ours ${c.ours}, Pillow ${c.theirs}`).toBeLessThan(0.1);
      expect(c.mae, `${file}: mean difference per value`).toBeLessThan(0.1);
      expect(c.max, `${file}: largest difference`).toBeLessThanOrEqual(1);
    }
  });

  it('a plain sRGB JPEG stays as it was: byte for byte Pillow’s', async () => {
    const c = await compare(FACE);
    expect(c.max).toBe(0);
  });
});
