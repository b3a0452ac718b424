/**
 * The class maps of the face-parsing datasets: each class's index in the label maps, its name, and
 * the left/right pairs a mirrored view swaps.
 *
 *   LaPa (JDAI-CV/lapa-dataset README): 11 classes, 0 background … 10 hair. "Left" and "right" are
 *   read as the image's left and right (facer names LaPa's class 2 'rb', the person's right brow).
 *   CelebAMask-HQ (its g_mask.py, also face-parsing.PyTorch): 19 classes, background then the 18
 *   parts in the order of g_mask.py's `label_list`; a pixel in several part masks takes the part
 *   listed last.
 */

export type ParsingScheme = 'lapa-11' | 'celebamask-19';

export interface ClassMap {
  names: readonly string[];
  /** flip[c] is the class that c becomes in a mirrored image (itself when it has no side). */
  flip: readonly number[];
}

/** The mirror map of `n` classes with the given pairs swapped. */
function swapping(n: number, pairs: readonly [number, number][]): number[] {
  const m = Array.from({ length: n }, (_, i) => i);
  for (const [a, b] of pairs) [m[a], m[b]] = [b, a];
  return m;
}

export const LAPA_NAMES = [
  'background',
  'skin',
  'left eyebrow',
  'right eyebrow',
  'left eye',
  'right eye',
  'nose',
  'upper lip',
  'inner mouth',
  'lower lip',
  'hair',
] as const;

/** CelebAMask-HQ's 18 parts in g_mask.py's order: part i is class i + 1, and a later part wins an overlap. */
export const CELEBAMASK_PARTS = [
  'skin',
  'nose',
  'eye_g',
  'l_eye',
  'r_eye',
  'l_brow',
  'r_brow',
  'l_ear',
  'r_ear',
  'mouth',
  'u_lip',
  'l_lip',
  'hair',
  'hat',
  'ear_r',
  'neck_l',
  'neck',
  'cloth',
] as const;

export const CLASS_MAPS: Record<ParsingScheme, ClassMap> = {
  'lapa-11': {
    names: LAPA_NAMES,
    flip: swapping(11, [
      [2, 3],
      [4, 5],
    ]),
  },
  'celebamask-19': {
    names: ['background', ...CELEBAMASK_PARTS],
    flip: swapping(19, [
      [4, 5], // l_eye, r_eye
      [6, 7], // l_brow, r_brow
      [8, 9], // l_ear, r_ear
    ]),
  },
};
