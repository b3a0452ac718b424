/**
 * A landmark sample's pixels and points as the model sees them. Each sample is cut out once
 * (`canonical`): the face, centred on its points' box, at a fixed resolution with room around it
 * for rotation; every training view is then warped from that cut-out with a random rotation, scale,
 * shift and mirror (points moved with the pixels, and renumbered by the scheme's left/right map
 * when mirrored), and the evaluation view without them.
 *
 * Coordinates: dataset points are pixel positions (0-based, pixel i's centre at i); the warp of
 * faces/align.ts takes pixel i to cover [i, i + 1), so points go in with +0.5 and come out with −0.5.
 */
import type { RgbImage } from '../data/rgb-image.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../finetune/transforms.js';
import { type Alignment, type Point, toCrop, warpAligned } from '../faces/align.js';
import type { Rng } from '../util/rng.js';
import type { LandmarkScheme } from '../geometry/landmark-schemes.js';

/** The face's side in the view as a multiple of its points' box (hair and chin inside, as FaRL's crops). */
export const FACE_FRAME = 1.4;
/** The cut-out's side over the view's face frame: room for rotation and zoom-out without a border. */
const CANONICAL_ROOM = 1.5;

export interface Canonical {
  img: RgbImage;
  /** K×2, cut-out pixels (continuous: 0 is the left edge of pixel 0). */
  points: Float32Array;
  /** The normalising box (x, y, w, h) in cut-out pixels, when the dataset gives one. */
  box: [number, number, number, number] | null;
}

export interface ViewAug {
  /** Largest rotation, degrees (drawn uniformly in ±rotate). */
  rotate: number;
  /** Zoom drawn uniformly in [1 − scale, 1 + scale]. */
  scale: number;
  /** Largest shift, as a fraction of the view's side. */
  shift: number;
  /** Mirror with probability ½ (with the scheme's index map). */
  flip: boolean;
}

export const DEFAULT_VIEW_AUG: ViewAug = { rotate: 15, scale: 0.1, shift: 0.05, flip: true };

/** A similarity warp to an S×S view: centre c and side L in source pixels, rotation θ (radians). */
export function frame(c: Point, L: number, theta: number, S: number): Alignment {
  const scale = L / S;
  const ax: Point = [Math.cos(theta) * scale, Math.sin(theta) * scale];
  const ay: Point = [-Math.sin(theta) * scale, Math.cos(theta) * scale];
  const h = S / 2;
  return {
    origin: [c[0] - h * ax[0] - h * ay[0], c[1] - h * ax[1] - h * ay[1]],
    ax,
    ay,
    size: S,
    scale,
    rollDeg: (theta * 180) / Math.PI,
  };
}

/** The face frame of a sample: its points' box centre and FACE_FRAME × its longer side. */
function faceFrame(points: Float32Array): { c: Point; L: number } {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (let i = 0; i < points.length; i += 2) {
    x0 = Math.min(x0, points[i]!);
    x1 = Math.max(x1, points[i]!);
    y0 = Math.min(y0, points[i + 1]!);
    y1 = Math.max(y1, points[i + 1]!);
  }
  return { c: [(x0 + x1) / 2 + 0.5, (y0 + y1) / 2 + 0.5], L: Math.max(x1 - x0, y1 - y0, 1) * FACE_FRAME };
}

/** The sample cut out at `side` pixels (side = view size × CANONICAL_ROOM, rounded). */
export function canonical(
  img: RgbImage,
  points: Float32Array,
  box: [number, number, number, number] | null,
  S: number,
): Canonical {
  const side = Math.round(S * CANONICAL_ROOM);
  const { c, L } = faceFrame(points);
  const a = frame(c, L * CANONICAL_ROOM, 0, side);
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i += 2) {
    const q = toCrop(a, [points[i]! + 0.5, points[i + 1]! + 0.5]);
    out[i] = q[0];
    out[i + 1] = q[1];
  }
  let b: Canonical['box'] = null;
  if (box) {
    const p = toCrop(a, [box[0], box[1]]);
    b = [p[0], p[1], box[2] / a.scale, box[3] / a.scale];
  }
  return { img: warpAligned(img, a), points: out, box: b };
}

export interface View {
  /** S×S×3, normalised as the encoder was trained (ImageNet mean and std). */
  x: Float32Array;
  /** K×2, fractions of the side. */
  y: Float32Array;
  /** The normalising box's size in view pixels (sqrt(w·h)) when the sample has one. */
  boxSize: number | null;
}

/** A view of a cut-out: augmented when `rng` is given, else the plain evaluation view. */
export function viewOf(s: Canonical, S: number, flipMap: readonly number[], aug: ViewAug, rng: Rng | null): View {
  const side = s.img.width;
  const u = (a: number) => (rng ? (rng.next() * 2 - 1) * a : 0);
  const theta = (u(aug.rotate) * Math.PI) / 180;
  const zoom = 1 + u(aug.scale);
  const L = (side / CANONICAL_ROOM) * zoom;
  const c: Point = [side / 2 + u(aug.shift) * L, side / 2 + u(aug.shift) * L];
  const a = frame(c, L, theta, S);
  const px = warpAligned(s.img, a).data;
  const K = s.points.length / 2;
  const pts = new Float32Array(K * 2);
  for (let k = 0; k < K; k++) {
    const q = toCrop(a, [s.points[2 * k]!, s.points[2 * k + 1]!]);
    pts[2 * k] = q[0];
    pts[2 * k + 1] = q[1];
  }
  const flip = rng !== null && aug.flip && rng.next() < 0.5;
  const x = new Float32Array(S * S * 3);
  for (let yy = 0; yy < S; yy++)
    for (let xx = 0; xx < S; xx++) {
      const from = (yy * S + (flip ? S - 1 - xx : xx)) * 3;
      const to = (yy * S + xx) * 3;
      for (let ch = 0; ch < 3; ch++) x[to + ch] = (px[from + ch]! / 255 - IMAGENET_MEAN[ch]!) / IMAGENET_STD[ch]!;
    }
  const y = new Float32Array(K * 2);
  for (let k = 0; k < K; k++) {
    const src = flip ? flipMap[k]! : k;
    y[2 * k] = (flip ? S - pts[2 * src]! : pts[2 * src]!) / S;
    y[2 * k + 1] = pts[2 * src + 1]! / S;
  }
  const boxSize = s.box ? Math.sqrt(s.box[2] * s.box[3]) / a.scale : null;
  return { x, y, boxSize };
}

/**
 * The evaluation view of a face straight from its photo, framed as training frames a sample (its
 * points' box, FACE_FRAME × the longer side, upright): `points` are any points of the face in photo
 * pixels (the face model's 68, or a first prediction). Returns the normalised S×S×3 view and how
 * its fractions of the side map back to photo pixels.
 */
export function predictionView(
  img: RgbImage,
  points: Float32Array,
  S: number,
): { x: Float32Array; toPhoto: (fx: number, fy: number) => Point } {
  const { c, L } = faceFrame(points);
  const a = frame(c, L, 0, S);
  const px = warpAligned(img, a).data;
  const x = new Float32Array(S * S * 3);
  for (let i = 0; i < S * S; i++)
    for (let ch = 0; ch < 3; ch++) x[i * 3 + ch] = (px[i * 3 + ch]! / 255 - IMAGENET_MEAN[ch]!) / IMAGENET_STD[ch]!;
  // a view pixel q (continuous) is the photo's origin + ax·qx + ay·qy; photo points are 0-based centres (−0.5)
  const toPhoto = (fx: number, fy: number): Point => {
    const qx = fx * S;
    const qy = fy * S;
    return [a.origin[0] + a.ax[0] * qx + a.ay[0] * qy - 0.5, a.origin[1] + a.ax[1] * qx + a.ay[1] * qy - 0.5];
  };
  return { x, toPhoto };
}

/**
 * The face model's 68 points (300W order) as the points a scheme's training frames were drawn from:
 * 300W's own 68; WFLW's 98 span the same face (jaw, brows, eyes, nose, mouth), so the 68 frame it
 * alike; AFLW-19 has no jaw line, so its 19 are picked from the 68 (brows' ends and middles, eye
 * corners and centres, nose, mouth corners and centre, chin) and its smaller frame follows from them.
 */
export function framePointsOf(scheme: LandmarkScheme, p68: Float32Array): Float32Array {
  if (scheme !== 'aflw-19') return p68;
  const at = (i: number): [number, number] => [p68[2 * i]!, p68[2 * i + 1]!];
  const mid = (a: number, b: number): [number, number] => [
    (p68[2 * a]! + p68[2 * b]!) / 2,
    (p68[2 * a + 1]! + p68[2 * b + 1]!) / 2,
  ];
  const nineteen = [
    at(17),
    at(19),
    at(21),
    at(22),
    at(24),
    at(26),
    at(36),
    mid(37, 40),
    at(39),
    at(42),
    mid(43, 46),
    at(45),
    at(31),
    at(33),
    at(35),
    at(48),
    mid(51, 57),
    at(54),
    at(8),
  ];
  return new Float32Array(nineteen.flat());
}
