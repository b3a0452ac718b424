/**
 * The three face-alignment point schemes of the literature (300W, WFLW, AFLW-19): how many points,
 * which point each becomes when the image is mirrored, and what a point error is divided by.
 *
 * Flip maps are written from the published point definitions, region by region, with 0-based
 * indices. They agree with the flip pairs of HRNet-Facial-Landmark-Detection
 * (github.com/HRNet/HRNet-Facial-Landmark-Detection, lib/utils/transforms.py, MATCHED_PARTS: its
 * 300W and AFLW pairs are 1-based there, its WFLW pairs 0-based); tests/unit/landmark-schemes.test.ts
 * checks each map against a symmetric face laid out from the definitions alone.
 */

export type LandmarkScheme = '300w-68' | 'wflw-98' | 'aflw-19';

export const LANDMARK_SCHEMES: readonly LandmarkScheme[] = ['300w-68', 'wflw-98', 'aflw-19'];

interface SchemeBase {
  /** The name the papers use. */
  title: string;
  points: number;
  /** flip[i]: the index point i takes when the image is mirrored left to right (an involution). */
  flip: readonly number[];
}

/** Inter-ocular: the distance between the outer eye corners of the ground truth. */
interface InterOcular extends SchemeBase {
  normaliser: 'inter-ocular';
  /** The outer corners, image-left eye first (0-based). */
  eyeCorners: readonly [number, number];
}

/**
 * Face size: sqrt(w·h) of the face box given with the annotation. For AFLW-19 that is the
 * `box_size` column of HRNet's CSV (lib/core/evaluation.py divides by meta['box_size']), stored as a
 * square box of that side, so sqrt(w·h) is box_size itself.
 */
interface BoxSize extends SchemeBase {
  normaliser: 'box-size';
}

export type SchemeInfo = InterOcular | BoxSize;

type Pair = readonly [number, number];

/** Pairs (first + k, last − k) of a contour numbered across the face and symmetric about its middle. */
function across(first: number, last: number): Pair[] {
  const out: Pair[] = [];
  for (let a = first, b = last; a < b; a++, b--) out.push([a, b]);
  return out;
}

/** The index map of `pairs`; every index not in a pair maps to itself. Refuses an index paired twice. */
function flipMap(points: number, pairs: readonly Pair[]): number[] {
  const map = Array.from({ length: points }, (_, i) => i);
  const seen = new Set<number>();
  for (const [a, b] of pairs) {
    for (const i of [a, b]) {
      if (!Number.isInteger(i) || i < 0 || i >= points || seen.has(i))
        throw new Error(`flip pairs: index ${i} is out of range or paired twice`);
      seen.add(i);
    }
    map[a] = b;
    map[b] = a;
  }
  return map;
}

/**
 * iBUG 68 (300W): jaw 0–16 left to right round the chin; brows 17–21 and 22–26, each left to right;
 * nose bridge 27–30 (on the midline), nostrils 31–35 left to right; each eye clockwise from its
 * left corner (36–41 the image-left eye: 36 its outer corner; 42–47 the other: 45 its outer
 * corner); outer lip 48–59 clockwise from the left corner (54 the right corner); inner lip 60–67
 * clockwise from the left corner (64 the right corner).
 */
const IBUG_68: Pair[] = [
  ...across(0, 16),
  ...across(17, 26),
  ...across(31, 35),
  [36, 45],
  [37, 44],
  [38, 43],
  [39, 42],
  [40, 47],
  [41, 46],
  ...across(48, 54),
  ...across(55, 59),
  ...across(60, 64),
  ...across(65, 67),
];

/**
 * WFLW 98: jaw 0–32 left to right; each brow clockwise from its left end (33–37 upper edge and
 * 38–41 lower edge of the image-left brow, 42–46 and 47–50 of the other); nose bridge 51–54,
 * nostrils 55–59 left to right; each eye clockwise from its left corner (60–67 the image-left eye,
 * 60 its outer corner; 68–75 the other, 72 its outer corner); outer lip 76–87 and inner lip 88–95
 * clockwise from the left corner; pupils 96 (image-left) and 97.
 */
const WFLW_98: Pair[] = [
  ...across(0, 32),
  [33, 46],
  [34, 45],
  [35, 44],
  [36, 43],
  [37, 42],
  [38, 50],
  [39, 49],
  [40, 48],
  [41, 47],
  ...across(55, 59),
  [60, 72],
  [61, 71],
  [62, 70],
  [63, 69],
  [64, 68],
  [65, 75],
  [66, 74],
  [67, 73],
  ...across(76, 82),
  ...across(83, 87),
  ...across(88, 92),
  ...across(93, 95),
  [96, 97],
];

/**
 * AFLW-19 (AFLW's 21 points without the two ears, in HRNet's order): brows 0–2 and 3–5, eyes 6–8
 * and 9–11, each left corner, centre, right corner; nose 12–14 left, tip, right; mouth 15–17 left
 * corner, centre, right corner; chin 18. HRNet-Facial-Landmark-Detection, lib/utils/transforms.py,
 * MATCHED_PARTS['AFLW'] (1-based there): [1,6] [2,5] [3,4] [7,12] [8,11] [9,10] [13,15] [16,18].
 */
const AFLW_19: Pair[] = [...across(0, 5), ...across(6, 11), [12, 14], [15, 17]];

export const SCHEMES: Record<LandmarkScheme, SchemeInfo> = {
  '300w-68': {
    title: '300W (iBUG 68 points)',
    points: 68,
    flip: flipMap(68, IBUG_68),
    normaliser: 'inter-ocular',
    eyeCorners: [36, 45],
  },
  'wflw-98': {
    title: 'WFLW (98 points)',
    points: 98,
    flip: flipMap(98, WFLW_98),
    normaliser: 'inter-ocular',
    eyeCorners: [60, 72],
  },
  'aflw-19': {
    title: 'AFLW-19 (19 points)',
    points: 19,
    flip: flipMap(19, AFLW_19),
    normaliser: 'box-size',
  },
};

/**
 * The points of an image of `width` pixels mirrored left to right: x → width − 1 − x (0-based pixel
 * centres, so that the mirror of a pixel's centre is the centre of the pixel it lands on; HRNet
 * writes width − x for its 1-based coordinates) and each point moved to the index it becomes.
 */
export function flipLandmarks(points: ArrayLike<number>, scheme: LandmarkScheme, width: number): Float32Array {
  const { flip, points: k } = SCHEMES[scheme];
  if (points.length !== 2 * k)
    throw new RangeError(`${scheme}: expected ${k} points (${2 * k} numbers), got ${points.length} numbers`);
  const out = new Float32Array(2 * k);
  for (let i = 0; i < k; i++) {
    const j = flip[i]!;
    out[2 * j] = width - 1 - points[2 * i]!;
    out[2 * j + 1] = points[2 * i + 1]!;
  }
  return out;
}
