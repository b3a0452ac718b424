/**
 * Head pose from a face's 68 points (300W order): the yaw, pitch and roll (degrees, 300W-LP's
 * convention, pose/rotation.ts) of a rigid 3-D template of the 68 points (face-template68.ts) seen
 * under a scaled orthographic camera, fitted to the points — so that a person who moves the
 * landmarks sees the pose follow, and the pose saved with them is the one they imply.
 *
 * The camera: point i of the template, X_i (head frame: x to the face's image right, y down, z
 * towards the viewer), lands at s · A[0:2] · X_i + t, where A = D·Rᵀ·D, D = diag(1, −1, 1), R the
 * 300W-LP rotation of the angles. The rows of A are the image directions of the head's axes that
 * 6DRepNet's `draw_axis` draws (renderer/src/pose-axes.ts): positive yaw moves the nose to the
 * image's left, positive pitch raises the face, positive roll lowers the eye on the image's right.
 *
 * The fit (weak perspective): the least-squares 2×3 affine map of the centred template onto the
 * centred points, then the nearest pair of orthonormal rows (the polar factor, (M·Mᵀ)^−½·M), the
 * third row their cross product, and the angles of R = D·Aᵀ·D (rotation.ts `degreesFromRotation`).
 */
import { degreesFromRotation, type Mat3, type PoseAngles, rotationFromDegrees } from '../pose/rotation.js';
import { CamdError } from '../util/errors.js';
import { FACE_TEMPLATE_68 } from './face-template68.js';

const SIGN = [1, -1, 1];

/** A = D·Rᵀ·D (row-major): the head's axes in the image (x right, y down, z towards the viewer). */
export function headRotation(angles: PoseAngles): Mat3 {
  const R = rotationFromDegrees(angles);
  const A = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) A[3 * i + j] = SIGN[i]! * SIGN[j]! * R[3 * j + i]!;
  return A;
}

/** The angles of a head rotation A (the inverse of `headRotation`). */
export function anglesOfHead(A: ArrayLike<number>): PoseAngles {
  const R = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) R[3 * i + j] = SIGN[i]! * SIGN[j]! * A[3 * j + i]!;
  return degreesFromRotation(R);
}

/** The template seen with these angles: s · A[0:2] · X + t for each of its points (image pixels). */
export function projectTemplate(
  angles: PoseAngles,
  scale: number,
  at: [number, number],
  template: readonly (readonly [number, number, number])[] = FACE_TEMPLATE_68,
): [number, number][] {
  const A = headRotation(angles);
  return template.map(([x, y, z]) => [
    at[0] + scale * (A[0]! * x + A[1]! * y + A[2]! * z),
    at[1] + scale * (A[3]! * x + A[4]! * y + A[5]! * z),
  ]);
}

/** The inverse of a symmetric 3×3 matrix (row-major), or null when it is singular. */
function inverse3(m: readonly number[]): number[] | null {
  const [a, b, c, d, e, f, g, h, i] = m as [number, number, number, number, number, number, number, number, number];
  const A = e * i - f * h,
    B = -(d * i - f * g),
    C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (Math.abs(det) < 1e-12) return null;
  return [
    A / det,
    -(b * i - c * h) / det,
    (b * f - c * e) / det,
    B / det,
    (a * i - c * g) / det,
    -(a * f - c * d) / det,
    C / det,
    -(a * h - b * g) / det,
    (a * e - b * d) / det,
  ];
}

export interface FittedPose extends PoseAngles {
  /** Pixels per template unit (the template's outer eye corners are 1 apart). */
  scale: number;
  /** Root-mean-square distance of the fitted template's points from the given ones, pixels. */
  rms: number;
}

/**
 * The head pose of 68 points (photo pixels, 300W order) by the weak-perspective fit above. Refuses
 * in words a wrong count, a non-finite point, or points that span no area.
 */
export function poseFromLandmarks(
  points: readonly (readonly [number, number])[],
  template: readonly (readonly [number, number, number])[] = FACE_TEMPLATE_68,
): FittedPose {
  const n = template.length;
  if (points.length !== n)
    throw new CamdError('input', `the pose is fitted to the ${n} points of 300W; got ${points.length}`, 'points');
  for (const [i, p] of points.entries())
    if (!Number.isFinite(p[0]) || !Number.isFinite(p[1]))
      throw new CamdError('input', `point ${i + 1} is not a finite x, y`, 'points');
  const mp = [0, 0],
    mx = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 2; k++) mp[k]! += points[i]![k]! / n;
    for (let k = 0; k < 3; k++) mx[k]! += template[i]![k]! / n;
  }
  // normal equations: M = (P Xᵀ)(X Xᵀ)⁻¹ with P, X centred
  const XX = new Array<number>(9).fill(0);
  const PX = new Array<number>(6).fill(0);
  for (let i = 0; i < n; i++) {
    const x = [template[i]![0] - mx[0]!, template[i]![1] - mx[1]!, template[i]![2] - mx[2]!];
    const p = [points[i]![0] - mp[0]!, points[i]![1] - mp[1]!];
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) XX[3 * a + b]! += x[a]! * x[b]!;
      for (let r = 0; r < 2; r++) PX[3 * r + a]! += p[r]! * x[a]!;
    }
  }
  const XXi = inverse3(XX);
  if (!XXi) throw new CamdError('internal', 'the face template is flat');
  const M = [0, 0, 0, 0, 0, 0];
  for (let r = 0; r < 2; r++)
    for (let b = 0; b < 3; b++) for (let a = 0; a < 3; a++) M[3 * r + b]! += PX[3 * r + a]! * XXi[3 * a + b]!;
  // S = M Mᵀ (2×2, symmetric): its inverse square root makes M's rows orthonormal
  const s11 = M[0]! ** 2 + M[1]! ** 2 + M[2]! ** 2;
  const s22 = M[3]! ** 2 + M[4]! ** 2 + M[5]! ** 2;
  const s12 = M[0]! * M[3]! + M[1]! * M[4]! + M[2]! * M[5]!;
  const tr = s11 + s22;
  const det = s11 * s22 - s12 * s12;
  if (!(det > 1e-12 * tr * tr) || !(tr > 0))
    throw new CamdError('input', 'the points span no area: no pose can be fitted to them', 'points');
  // √S = (S + √det·I) / √(tr + 2√det); its inverse by the 2×2 formula
  const sd = Math.sqrt(det);
  const k = Math.sqrt(tr + 2 * sd);
  const r11 = (s11 + sd) / k,
    r22 = (s22 + sd) / k,
    r12 = s12 / k;
  const rdet = r11 * r22 - r12 * r12;
  const i11 = r22 / rdet,
    i22 = r11 / rdet,
    i12 = -r12 / rdet;
  const A = new Float64Array(9);
  for (let j = 0; j < 3; j++) {
    A[j] = i11 * M[j]! + i12 * M[3 + j]!;
    A[3 + j] = i12 * M[j]! + i22 * M[3 + j]!;
  }
  A[6] = A[1]! * A[5]! - A[2]! * A[4]!;
  A[7] = A[2]! * A[3]! - A[0]! * A[5]!;
  A[8] = A[0]! * A[4]! - A[1]! * A[3]!;
  // the scale: the least-squares s for the rotation found
  let num = 0,
    den = 0;
  for (let i = 0; i < n; i++) {
    const x = [template[i]![0] - mx[0]!, template[i]![1] - mx[1]!, template[i]![2] - mx[2]!];
    const u = A[0]! * x[0]! + A[1]! * x[1]! + A[2]! * x[2]!;
    const v = A[3]! * x[0]! + A[4]! * x[1]! + A[5]! * x[2]!;
    num += u * (points[i]![0] - mp[0]!) + v * (points[i]![1] - mp[1]!);
    den += u * u + v * v;
  }
  const scale = num / den;
  let err = 0;
  for (let i = 0; i < n; i++) {
    const x = [template[i]![0] - mx[0]!, template[i]![1] - mx[1]!, template[i]![2] - mx[2]!];
    const u = mp[0]! + scale * (A[0]! * x[0]! + A[1]! * x[1]! + A[2]! * x[2]!);
    const v = mp[1]! + scale * (A[3]! * x[0]! + A[4]! * x[1]! + A[5]! * x[2]!);
    err += (u - points[i]![0]) ** 2 + (v - points[i]![1]) ** 2;
  }
  const a = anglesOfHead(A);
  const round = (v: number) => Math.round(v * 100) / 100 || 0;
  return { yaw: round(a.yaw), pitch: round(a.pitch), roll: round(a.roll), scale, rms: Math.sqrt(err / n) };
}
