// The point schemes' flip maps, checked two ways: against a left-right symmetric face laid out from
// the published point definitions alone (mirroring it must give it back, point for point), and
// against the flip pairs of HRNet-Facial-Landmark-Detection (lib/utils/transforms.py, MATCHED_PARTS).
import { describe, expect, it } from 'vitest';
import {
  flipLandmarks,
  LANDMARK_SCHEMES,
  type LandmarkScheme,
  SCHEMES,
} from '../../trainer/src/geometry/landmark-schemes.js';

const W = 201; // image width: the face's axis is x = (W − 1) / 2
const CX = (W - 1) / 2;
const CY = 120;

type Pt = [number, number];

/** An open curve along the bottom of an ellipse, numbered left to right (a jaw, the nostrils). */
function bottomArc(cx: number, cy: number, rx: number, ry: number, n: number): Pt[] {
  return Array.from({ length: n }, (_, k): Pt => {
    const t = Math.PI - (Math.PI * k) / (n - 1);
    return [cx + rx * Math.cos(t), cy + ry * Math.sin(t)];
  });
}

/**
 * A contour numbered clockwise from its left corner (eyes, lips, WFLW brows): `upper` points from
 * the left corner to the right corner along the top, then `lower` points back along the bottom.
 */
function ring(cx: number, cy: number, rx: number, ry: number, upper: number, lower: number): Pt[] {
  const top = Array.from({ length: upper }, (_, k): Pt => {
    const t = Math.PI + (Math.PI * k) / (upper - 1);
    return [cx + rx * Math.cos(t), cy + ry * Math.sin(t)];
  });
  const bottom = Array.from({ length: lower }, (_, j): Pt => {
    const t = (Math.PI * (j + 1)) / (lower + 1);
    return [cx + rx * Math.cos(t), cy + ry * Math.sin(t)];
  });
  return [...top, ...bottom];
}

/** A vertical run on the face's axis, top to bottom (the nose bridge). */
const bridge = (n: number): Pt[] => Array.from({ length: n }, (_, k): Pt => [CX, CY - 40 + 7 * k]);

/** iBUG 68: jaw, brows, bridge, nostrils, eyes, outer and inner lips (each brow left to right). */
function ibug68(): Pt[] {
  return [
    ...bottomArc(CX, CY - 20, 80, 100, 17),
    ...ring(CX - 35, CY - 55, 20, 6, 5, 0),
    ...ring(CX + 35, CY - 55, 20, 6, 5, 0),
    ...bridge(4),
    ...bottomArc(CX, CY - 8, 12, 5, 5),
    ...ring(CX - 35, CY - 35, 12, 4, 4, 2),
    ...ring(CX + 35, CY - 35, 12, 4, 4, 2),
    ...ring(CX, CY + 30, 28, 12, 7, 5),
    ...ring(CX, CY + 30, 16, 4, 5, 3),
  ];
}

/** WFLW 98: jaw, brows (each a ring), bridge, nostrils, eyes, outer and inner lips, pupils. */
function wflw98(): Pt[] {
  return [
    ...bottomArc(CX, CY - 20, 80, 100, 33),
    ...ring(CX - 35, CY - 55, 20, 5, 5, 4),
    ...ring(CX + 35, CY - 55, 20, 5, 5, 4),
    ...bridge(4),
    ...bottomArc(CX, CY - 8, 12, 5, 5),
    ...ring(CX - 35, CY - 35, 12, 4, 5, 3),
    ...ring(CX + 35, CY - 35, 12, 4, 5, 3),
    ...ring(CX, CY + 30, 28, 12, 7, 5),
    ...ring(CX, CY + 30, 16, 4, 5, 3),
    [CX - 35, CY - 35],
    [CX + 35, CY - 35],
  ];
}

/** AFLW-19: brows, eyes, nose, mouth (each left corner, centre, right corner), chin. */
function aflw19(): Pt[] {
  const three = (cx: number, cy: number, half: number, midDy = 0): Pt[] => [
    [cx - half, cy],
    [cx, cy + midDy],
    [cx + half, cy],
  ];
  return [
    ...three(CX - 35, CY - 55, 20, -5),
    ...three(CX + 35, CY - 55, 20, -5),
    ...three(CX - 35, CY - 35, 12),
    ...three(CX + 35, CY - 35, 12),
    ...three(CX, CY - 5, 12, -8),
    ...three(CX, CY + 30, 28, 3),
    [CX, CY + 80],
  ];
}

const FACES: Record<LandmarkScheme, () => Pt[]> = { '300w-68': ibug68, 'wflw-98': wflw98, 'aflw-19': aflw19 };

const flat = (pts: Pt[]) => Float32Array.from(pts.flat());

/** The points where mirroring the face with `flip` does not give the face back. */
function mismatches(face: Float32Array, flip: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < face.length / 2; i++) {
    const j = flip[i]!;
    const dx = W - 1 - face[2 * i]! - face[2 * j]!;
    const dy = face[2 * i + 1]! - face[2 * j + 1]!;
    if (Math.hypot(dx, dy) > 1e-3) out.push(i);
  }
  return out;
}

// HRNet-Facial-Landmark-Detection, lib/utils/transforms.py MATCHED_PARTS: 300W and AFLW 1-based, WFLW 0-based
// biome-ignore format: the pairs as HRNet lists them
const HRNET_PAIRS: Record<LandmarkScheme, [number, number][]> = {
  '300w-68': [
    [1, 17], [2, 16], [3, 15], [4, 14], [5, 13], [6, 12], [7, 11], [8, 10],
    [18, 27], [19, 26], [20, 25], [21, 24], [22, 23], [32, 36], [33, 35],
    [37, 46], [38, 45], [39, 44], [40, 43], [41, 48], [42, 47],
    [49, 55], [50, 54], [51, 53], [62, 64], [61, 65], [68, 66], [59, 57], [60, 56],
  ].map(([a, b]) => [a! - 1, b! - 1]),
  'wflw-98': [
    [0, 32], [1, 31], [2, 30], [3, 29], [4, 28], [5, 27], [6, 26], [7, 25], [8, 24], [9, 23], [10, 22],
    [11, 21], [12, 20], [13, 19], [14, 18], [15, 17],
    [33, 46], [34, 45], [35, 44], [36, 43], [37, 42], [38, 50], [39, 49], [40, 48], [41, 47],
    [60, 72], [61, 71], [62, 70], [63, 69], [64, 68], [65, 75], [66, 74], [67, 73],
    [55, 59], [56, 58], [76, 82], [77, 81], [78, 80], [87, 83], [86, 84], [88, 92], [89, 91], [95, 93], [96, 97],
  ],
  'aflw-19': [[1, 6], [2, 5], [3, 4], [7, 12], [8, 11], [9, 10], [13, 15], [16, 18]].map(([a, b]) => [a! - 1, b! - 1]),
};

describe('landmark schemes', () => {
  for (const scheme of LANDMARK_SCHEMES) {
    const info = SCHEMES[scheme];

    it(`${scheme}: the flip map is a permutation of ${info.points} points and its own inverse`, () => {
      expect(info.flip).toHaveLength(info.points);
      expect([...info.flip].sort((a, b) => a - b)).toEqual(Array.from({ length: info.points }, (_, i) => i));
      info.flip.forEach((j, i) => expect(info.flip[j]).toBe(i));
    });

    it(`${scheme}: mirroring a symmetric face laid out from the point definitions gives it back`, () => {
      const face = flat(FACES[scheme]());
      expect(face).toHaveLength(2 * info.points);
      expect(mismatches(face, info.flip)).toEqual([]);
      const mirrored = flipLandmarks(face, scheme, W);
      for (let i = 0; i < face.length; i++) expect(mirrored[i]).toBeCloseTo(face[i]!, 3);
    });

    it(`${scheme}: the flip map pairs exactly the points HRNet pairs`, () => {
      const pairs = info.flip.flatMap((j, i) => (i < j ? [[i, j]] : []));
      const hrnet = HRNET_PAIRS[scheme].map(([a, b]) => [Math.min(a, b), Math.max(a, b)]);
      const key = (p: number[]) => p.join('-');
      expect(pairs.map(key).sort()).toEqual(hrnet.map(key).sort());
    });
  }

  it('a flip map with two pairs swapped is caught by the symmetric face (the check can fail)', () => {
    const flip = [...SCHEMES['300w-68'].flip];
    // lower eyelids crossed: 40↔46 and 41↔47 instead of 40↔47 and 41↔46
    flip[40] = 46;
    flip[46] = 40;
    flip[41] = 47;
    flip[47] = 41;
    expect(mismatches(flat(ibug68()), flip)).toEqual([40, 41, 46, 47]);
  });

  it('the inter-ocular schemes name the outer eye corners, which mirror onto each other', () => {
    for (const scheme of ['300w-68', 'wflw-98'] as const) {
      const info = SCHEMES[scheme];
      if (info.normaliser !== 'inter-ocular') throw new Error(`${scheme} is inter-ocular`);
      const [a, b] = info.eyeCorners;
      expect(info.flip[a]).toBe(b);
      const face = FACES[scheme]();
      const xs = face.map(([x]) => x);
      // the outer corners are the eyes' extreme points: nothing of the eyes lies further out
      const eyes = scheme === '300w-68' ? xs.slice(36, 48) : xs.slice(60, 76);
      expect(face[a]![0]).toBe(Math.min(...eyes));
      expect(face[b]![0]).toBe(Math.max(...eyes));
    }
    expect(SCHEMES['300w-68'].normaliser === 'inter-ocular' && SCHEMES['300w-68'].eyeCorners).toEqual([36, 45]);
    expect(SCHEMES['wflw-98'].normaliser === 'inter-ocular' && SCHEMES['wflw-98'].eyeCorners).toEqual([60, 72]);
    expect(SCHEMES['aflw-19'].normaliser).toBe('box-size');
  });

  it('flipLandmarks mirrors x about the image (x → W − 1 − x) and refuses a wrong point count', () => {
    const pts = new Float32Array(2 * 19);
    pts[0] = 3; // point 0 at x = 3 becomes point 5 at x = W − 1 − 3
    pts[1] = 7;
    const out = flipLandmarks(pts, 'aflw-19', 100);
    expect([out[10], out[11]]).toEqual([96, 7]);
    expect(() => flipLandmarks(new Float32Array(36), 'aflw-19', 100)).toThrow(/19 points \(38 numbers\), got 36/);
  });
});
