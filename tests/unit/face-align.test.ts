// Face alignment maths, the crop warp, near-duplicate hashes and repeated detections, on inputs
// whose answers are known by construction.
import { describe, expect, it } from 'vitest';
import { alignmentFor, outsideFraction, toCrop, warpAligned, type FivePoints } from '../../trainer/src/faces/align.js';
import { dhash, hamming } from '../../trainer/src/faces/dhash.js';
import { cropName, faceSize, repeatedDetections } from '../../trainer/src/faces/ingest.js';
import type { DetectedFace } from '../../trainer/src/faces/detector.js';

/** A face tilted by `deg` around (cx, cy): eyes 2d apart, mouth 2.2d below the eyes' midpoint. */
function tilted(cx: number, cy: number, d: number, deg: number): FivePoints {
  const t = (deg * Math.PI) / 180;
  const at = (x: number, y: number): [number, number] => [
    cx + x * Math.cos(t) - y * Math.sin(t),
    cy + x * Math.sin(t) + y * Math.cos(t),
  ];
  return {
    rightEye: at(-d, 0),
    leftEye: at(d, 0),
    nose: at(0, 1.2 * d),
    rightMouth: at(-0.8 * d, 2.2 * d),
    leftMouth: at(0.8 * d, 2.2 * d),
  };
}

describe('alignment', () => {
  it('puts the eyes level, at the same place in the crop, whatever the roll, position and size', () => {
    const ref = alignmentFor(tilted(100, 100, 20, 0), 128);
    const eyesRef = [toCrop(ref, tilted(100, 100, 20, 0).rightEye), toCrop(ref, tilted(100, 100, 20, 0).leftEye)];
    // eye distance 40, eye-to-mouth 44: F = max(80, 79.2) = 80; side = 80·2 = 160 px; scale 1.25
    expect(ref.scale).toBeCloseTo(160 / 128, 12);
    // eyes' midpoint + 0.1·44 px is the centre: eyes at 64 ∓ 16 px across, 64 − 4.4/1.25 px down
    expect(eyesRef[0]![0]).toBeCloseTo(64 - 20 / 1.25, 9);
    expect(eyesRef[1]![0]).toBeCloseTo(64 + 20 / 1.25, 9);
    expect(eyesRef[0]![1]).toBeCloseTo(64 - 4.4 / 1.25, 9);
    for (const [deg, cx, d] of [
      [17, 300, 20],
      [-33, 50, 60],
      [90, 400, 5],
    ] as const) {
      const p = tilted(cx, 250, d, deg);
      const a = alignmentFor(p, 128);
      expect(a.rollDeg).toBeCloseTo(deg, 9);
      const [r, l] = [toCrop(a, p.rightEye), toCrop(a, p.leftEye)];
      expect(r[1]).toBeCloseTo(l[1], 9); // level
      expect(r[0]).toBeCloseTo(eyesRef[0]![0], 9);
      expect(l[0]).toBeCloseTo(eyesRef[1]![0], 9);
      expect(r[1]).toBeCloseTo(eyesRef[0]![1], 9);
    }
  });

  it('margin 0 is tight (side = face size), the mouth sets the size of a face turned aside', () => {
    const p = tilted(0, 0, 10, 0);
    expect(faceSize(p)).toBeCloseTo(Math.max(40, 1.8 * 22), 12);
    expect(alignmentFor(p, 100, 0).scale).toBeCloseTo(40 / 100, 12);
    const turned: FivePoints = { ...p, rightEye: [-3, 0], leftEye: [3, 0] }; // eyes close: yaw
    expect(faceSize(turned)).toBeCloseTo(1.8 * 22, 12);
    expect(() => alignmentFor(p, 4)).toThrow(/too small/);
    expect(() => alignmentFor(p, 64, 3)).toThrow(/margin/);
  });

  it('the warp reads the photo where the transform says: a rotated coordinate ramp is read back at the mapped points', () => {
    // a photo whose pixel value encodes its own coordinates (smooth, so bicubic reproduces it)
    const W = 200,
      H = 160;
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        data[(y * W + x) * 3] = x; // R = x
        data[(y * W + x) * 3 + 1] = y; // G = y
        data[(y * W + x) * 3 + 2] = 7;
      }
    const p = tilted(100, 70, 8, 25);
    const a = alignmentFor(p, 48); // side 4·2·8 = 64 px onto 48: scale 4/3, read directly (no averaging)
    expect(a.scale).toBeCloseTo(4 / 3, 12);
    const crop = warpAligned({ width: W, height: H, data }, a);
    expect(outsideFraction(a, W, H)).toBe(0);
    for (const [u, v] of [
      [0, 0],
      [24, 24],
      [47, 10],
      [5, 40],
    ] as const) {
      const x = a.origin[0] + (u + 0.5) * a.ax[0] + (v + 0.5) * a.ay[0];
      const y = a.origin[1] + (u + 0.5) * a.ax[1] + (v + 0.5) * a.ay[1];
      const o = (v * 48 + u) * 3;
      // pixel i holds value i at its centre i + ½: a linear ramp is reproduced exactly by Keys' cubic
      expect(Math.abs(crop.data[o]! - (x - 0.5))).toBeLessThanOrEqual(0.5 + 1e-9);
      expect(Math.abs(crop.data[o + 1]! - (y - 0.5))).toBeLessThanOrEqual(0.5 + 1e-9);
      expect(crop.data[o + 2]).toBe(7);
    }
  });

  it('a face much larger than the crop is averaged first: a fine stripe pattern becomes its mean grey, not aliasing', () => {
    const W = 800,
      H = 800;
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) data.fill(x % 2 ? 200 : 0, (y * W + x) * 3, (y * W + x) * 3 + 3);
    const a = alignmentFor(tilted(400, 350, 120, 0), 64); // side 2·4·120 = 960 px: scale 15 = n (odd: a block holds 7 or 8 bright columns)
    expect(a.scale).toBeCloseTo(960 / 64, 9);
    const crop = warpAligned({ width: W, height: H, data }, a);
    for (let i = 0; i < crop.data.length; i++) expect(Math.abs(crop.data[i]! - 100)).toBeLessThanOrEqual(15);
  });

  it('beyond the photo the edge fades into the mean colour: no streaks of edge pixels, no reflected features', () => {
    // top half bright (200), bottom half dark (0); a face near the left border
    const W = 100,
      H = 100;
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < 50; y++) data.fill(200, y * W * 3, (y + 1) * W * 3);
    const a = alignmentFor(tilted(10, 50, 8, 0), 64); // side 64 px at scale 1: the crop's left ~third lies beyond x = 0
    expect(a.scale).toBeCloseTo(1, 12);
    expect(outsideFraction(a, W, H)).toBeGreaterThan(0.3);
    const crop = warpAligned({ width: W, height: H, data }, a);
    const at = (u: number, v: number) => crop.data[(v * 64 + u) * 3]!;
    // inside the photo the halves are there
    expect(at(40, 5)).toBe(200);
    expect(at(40, 60)).toBe(0);
    // far outside (more than 8 % of the side from the edge) one flat colour, between the halves
    const far = [5, 20, 32, 45, 60].map((v) => at(0, v));
    expect(new Set(far).size).toBe(1);
    expect(far[0]).toBeGreaterThan(60);
    expect(far[0]).toBeLessThan(140);
  });
});

describe('near-duplicates and repeats', () => {
  const img = (f: (x: number, y: number) => number, n = 64) => {
    const data = new Uint8Array(n * n * 3);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) data.fill(f(x, y), (y * n + x) * 3, (y * n + x) * 3 + 3);
    return { width: n, height: n, data };
  };

  it('dHash: 64 bits of left-brighter-than-right; a small brightness change keeps it, a mirrored image flips it', () => {
    const ramp = img((x) => 255 - x * 4); // brighter on the left everywhere: every bit 1
    expect(dhash(ramp)).toBe('ffffffffffffffff');
    expect(dhash(img((x) => x * 4))).toBe('0000000000000000');
    expect(hamming('ffffffffffffffff', '0000000000000000')).toBe(64);
    expect(hamming('f0f0f0f0f0f0f0f0', 'f0f0f0f0f0f0f0f1')).toBe(1);
    const wavy = img((x, y) => 128 + Math.round(60 * Math.sin(x / 5 + y / 9)));
    const brighter = img((x, y) => 131 + Math.round(60 * Math.sin(x / 5 + y / 9)));
    expect(hamming(dhash(wavy), dhash(brighter))).toBe(0);
    const mirrored = img((x, y) => 128 + Math.round(60 * Math.sin((63 - x) / 5 + y / 9)));
    expect(hamming(dhash(wavy), dhash(mirrored))).toBeGreaterThan(20);
  });

  it('a second detection of the same face (eyes within an eye distance) is a repeat; the higher score stays', () => {
    const face = (cx: number, score: number): DetectedFace => ({
      score,
      boxScore: score,
      meshScore: score,
      eyeLineShift: 0,
      box: [cx - 30, 0, 60, 80],
      points: tilted(cx, 40, 15, 0),
      landmarks68: [],
      pose: { roll: 0, yaw: 0, pitch: 0 },
      suggestions: { age: null, gender: null, genderScore: null, emotion: [] },
    });
    expect([...repeatedDetections([face(100, 0.9), face(120, 0.95), face(200, 0.8)])]).toEqual([0]);
    expect([...repeatedDetections([face(100, 0.9), face(165, 0.95)])]).toEqual([]); // two faces side by side
  });

  it('crop names follow their photo, folders kept', () => {
    expect(cropName('a/b/photo.JPG', 2)).toBe('a/b/photo.face2.png');
    expect(cropName('noext', 0)).toBe('noext.face0.png');
  });
});
