// Two-view augmentation (§1.2–1.3) and batches, on real decoded faces.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { resizedCrop } from '../../trainer/src/data/resample.js';
import {
  applyColour,
  drawTwoViews,
  gaussianBlur,
  twoViews,
  VGGFACE2_MEAN,
  VGGFACE2_STD,
  type ViewParams,
} from '../../trainer/src/data/augment.js';
import { decodeRgb, resizeShorterSide, type RgbImage } from '../../trainer/src/data/image-io.js';
import { DECODE_VERSION, DecodeCache } from '../../trainer/src/data/decode-cache.js';
import { BatchSource } from '../../trainer/src/data/batches.js';
import { Rng } from '../../trainer/src/util/rng.js';
import { clmFaces, tempDir } from '../support/folders.js';

let face: RgbImage;
beforeAll(async () => {
  face = await resizeShorterSide(await decodeRgb(readFileSync(clmFaces()[0]!)), 129);
});

const plain = { jitter: null, grey: false, blurSigma: null, solarize: false };

function denorm(x: Float32Array): Float32Array {
  return x.map((v, k) => v * VGGFACE2_STD[k % 3]! + VGGFACE2_MEAN[k % 3]!);
}

describe('two-view augmentation', () => {
  it('is a pure function of the rng state', async () => {
    const a = drawTwoViews(face.width, face.height, new Rng(9));
    const b = drawTwoViews(face.width, face.height, new Rng(9));
    expect(a).toEqual(b);
    const va = await twoViews(face, 112, a);
    const vb = await twoViews(face, 112, b);
    expect(va.x1).toEqual(vb.x1);
    expect(va.x2).toEqual(vb.x2);
    expect(va.x1.length).toBe(112 * 112 * 3);
    expect(va.x1.every(Number.isFinite)).toBe(true);
  });

  it('view 1 covers 8–60 % of the image, view 2 (almost) all of it; geometry follows §1.3', () => {
    const rng = new Rng(10);
    for (let t = 0; t < 200; t++) {
      const p = drawTwoViews(face.width, face.height, rng);
      const area = (p.v1.crop.h * p.v1.crop.w) / (face.width * face.height);
      expect(area).toBeGreaterThan(0.07);
      expect(area).toBeLessThan(0.62);
      // view 2 is the whole image, or (as released, §1.2) a crop 1 px short of it
      expect(face.width - p.v2.crop.w).toBeLessThanOrEqual(1);
      expect(face.height - p.v2.crop.h).toBeLessThanOrEqual(1);
      expect(p.geometry.dh).toBeCloseTo(p.v2.crop.h / p.v1.crop.h, 12);
      expect(p.geometry.di).toBeCloseTo((p.v2.crop.i - p.v1.crop.i) / p.v1.crop.h, 12);
      expect(p.geometry.flip).toBe(p.v1.flip !== p.v2.flip);
    }
  });

  it('a plain full view equals the PIL-exact bicubic resize of the image (resample.ts), and a flip mirrors it', async () => {
    const v: ViewParams = { crop: { i: 0, j: 0, h: face.height, w: face.width }, flip: false, colour: plain };
    const out = await twoViews(face, 64, {
      v1: v,
      v2: { ...v, flip: true },
      geometry: { di: 0, dj: 0, dh: 1, dw: 1, flip: true, fdj: 1 },
    });
    const ref = resizedCrop(face, { i: 0, j: 0, h: face.height, w: face.width }, 64);
    const x1 = denorm(out.x1);
    const x2 = denorm(out.x2);
    for (let k = 0; k < x1.length; k++) expect(Math.abs(x1[k]! - ref[k]! / 255)).toBeLessThan(1e-5);
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 64; x++)
        for (let c = 0; c < 3; c++) expect(x2[(y * 64 + x) * 3 + c]).toBeCloseTo(x1[(y * 64 + (63 - x)) * 3 + c]!, 5);
  });

  it('the blur σ is drawn for 224 px views and scaled with the view size (σ·S/224), its result in 8 bits as PIL returns it', () => {
    const S = 16;
    const x = new Float32Array(S * S * 3).map((_, k) => Math.round((((k * 37) % 101) / 101) * 255));
    const viaColour = x.slice();
    applyColour(viaColour, S, { ...plain, blurSigma: 2 }, [0, 0, 0], [1, 1, 1]);
    const direct = x.slice();
    gaussianBlur(direct, S, (2 * 16) / 224);
    expect(Array.from(viaColour)).toEqual(
      Array.from(direct, (v) => Math.fround(Math.min(255, Math.max(0, Math.round(v))) / 255)),
    );
    const unscaled = x.slice();
    gaussianBlur(unscaled, S, 2);
    expect(Array.from(viaColour)).not.toEqual(Array.from(unscaled, (v) => Math.fround(Math.round(v) / 255)));
  });

  it('colour ops on 8-bit values: grey equalises channels, solarize inverts from 128 up, blur keeps a flat image flat, jitter stays 8-bit', () => {
    const S = 8;
    const x = new Float32Array(S * S * 3).map((_, k) => Math.round(((k % 7) / 7) * 255));
    const g = x.slice();
    applyColour(g, S, { ...plain, grey: true }, [0, 0, 0], [1, 1, 1]);
    for (let k = 0; k < g.length; k += 3) expect(g[k]).toBe(g[k + 1]!);
    const s = x.slice();
    applyColour(s, S, { ...plain, solarize: true }, [0, 0, 0], [1, 1, 1]);
    for (let k = 0; k < s.length; k++) expect(s[k]).toBe(Math.fround((x[k]! >= 128 ? 255 - x[k]! : x[k]!) / 255));
    const flat = new Float32Array(S * S * 3).fill(77);
    gaussianBlur(flat, S, 1.7);
    for (const v of flat) expect(v).toBeCloseTo(77, 3);
    const j = x.slice();
    applyColour(
      j,
      S,
      { ...plain, jitter: { order: [3, 2, 1, 0], brightness: 1.3, contrast: 0.7, saturation: 1.1, hue: 0.05 } },
      [0, 0, 0],
      [1, 1, 1],
    );
    expect(j.every((v) => v >= 0 && v <= 1 && Number.isInteger(Math.round(v * 255 * 1e4) / 1e4))).toBe(true);
    expect(j).not.toEqual(Float32Array.from(x, (v) => v / 255));
  });
});

describe('batches', () => {
  it('are reproducible per step, cover each epoch without repeats, and carry exact masks', async () => {
    const cache = new DecodeCache(tempDir('cache'), 37);
    const files = clmFaces().slice(0, 10);
    const items = files.map((abs, i) => ({ abs, sha256: String(i).padStart(2, '0').repeat(32) }));
    const res = await cache.ensure(items, 50_000_000);
    expect(res.failed).toEqual([]);
    expect(cache.get(items[0]!.sha256)!.width).toBeGreaterThanOrEqual(37);
    const src = new BatchSource({
      hashes: items.map((i) => i.sha256),
      cache,
      imgSize: 32,
      grid: 4,
      maskCount: 10,
      batchSize: 3,
      seed: 5,
    });
    expect(src.itersPerEpoch).toBe(3);
    const seen = [0, 1, 2].flatMap((s) => src.indices(s));
    expect(new Set(seen).size).toBe(9);
    const b1 = await src.batch(4);
    const b2 = await src.batch(4);
    expect(b1.x1).toEqual(b2.x1);
    expect(b1.masks).toEqual(b2.masks);
    expect(b1.masks.every((m) => m.reduce((a, v) => a + v, 0) === 10)).toBe(true);
    expect((await src.batch(5)).x1).not.toEqual(b1.x1);
    expect(b1.shape).toEqual([3, 32, 32, 3]);
    expect(
      () =>
        new BatchSource({
          hashes: items.slice(0, 2).map((i) => i.sha256),
          cache,
          imgSize: 32,
          grid: 4,
          maskCount: 10,
          batchSize: 3,
          seed: 5,
        }),
    ).toThrow(/2 readable image\(s\), fewer than the batch size 3/);
  });
});

describe('decode cache versions', () => {
  it("an entry written by another version of the decoder is decoded again, with this version's colours", async () => {
    const cache = new DecodeCache(tempDir('cache-v'), 37);
    const item = { abs: clmFaces()[0]!, sha256: 'ab'.repeat(32) };
    expect((await cache.ensure([item], 50_000_000)).decoded).toBe(1);
    const fresh = cache.get(item.sha256)!;
    // as the version before Pillow's colours wrote it: same layout, version 1, other pixels
    const file = cache.path(item.sha256);
    const old = readFileSync(file);
    old.writeUInt16LE(1, 4);
    old.fill(7, 16);
    writeFileSync(file, old);
    expect(cache.get(item.sha256)).toBeNull();
    expect((await cache.ensure([item], 50_000_000)).decoded).toBe(1);
    expect(readFileSync(file).readUInt16LE(4)).toBe(DECODE_VERSION);
    expect(cache.get(item.sha256)!.data).toEqual(fresh.data);
  });
});
