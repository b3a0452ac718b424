/**
 * Head pose as numbers: Euler angles ↔ rotation matrix, the per-angle error and the geodesic
 * distance, exactly as the head-pose literature computes them so that our numbers compare with its
 * tables (6DRepNet's sixdrepnet/utils.py, which TokenHPE reuses).
 *
 * The convention is 300W-LP's and AFLW2000's (3DDFA's `Pose_Para` = pitch, yaw, roll in radians):
 *   R = Rz(roll) · Ry(yaw) · Rx(pitch)                                   (6DRepNet `get_R`)
 * and back (6DRepNet `compute_euler_angles_from_rotation_matrices`), with sy = √(R00² + R10²):
 *   pitch = atan2(R21, R22), yaw = atan2(−R20, sy), roll = atan2(R10, R00)
 *   (when sy < 1e-6: pitch = atan2(−R12, R11), roll = 0).
 * Seen in the image (6DRepNet's `draw_axis`): positive yaw turns the nose to the image's left,
 * positive pitch raises the face, positive roll tips the top of the head to the image's right (the
 * eye on the image's right lower). A horizontal mirror negates yaw and roll and keeps pitch:
 * F·R·F with F = diag(−1, 1, 1).
 *
 * Matrices are 9 numbers, row-major.
 */

export type Mat3 = Float64Array;

/** Angles in degrees, the order the literature reports them in. */
export interface PoseAngles {
  yaw: number;
  pitch: number;
  roll: number;
}

const DEG = 180 / Math.PI;

/** R = Rz(roll)·Ry(yaw)·Rx(pitch), angles in radians (6DRepNet `get_R(x=pitch, y=yaw, z=roll)`). */
export function rotationFromEuler(pitch: number, yaw: number, roll: number): Mat3 {
  const cx = Math.cos(pitch),
    sx = Math.sin(pitch);
  const cy = Math.cos(yaw),
    sy = Math.sin(yaw);
  const cz = Math.cos(roll),
    sz = Math.sin(roll);
  return Float64Array.of(
    cz * cy,
    cz * sy * sx - sz * cx,
    cz * sy * cx + sz * sx,
    sz * cy,
    sz * sy * sx + cz * cx,
    sz * sy * cx - cz * sx,
    -sy,
    cy * sx,
    cy * cx,
  );
}

/** The rotation of angles in degrees. */
export function rotationFromDegrees(a: PoseAngles): Mat3 {
  return rotationFromEuler(a.pitch / DEG, a.yaw / DEG, a.roll / DEG);
}

/** Pitch, yaw, roll in radians of R (6DRepNet `compute_euler_angles_from_rotation_matrices`). */
export function eulerFromRotation(R: ArrayLike<number>): { pitch: number; yaw: number; roll: number } {
  const sy = Math.sqrt(R[0]! * R[0]! + R[3]! * R[3]!);
  if (sy < 1e-6) return { pitch: Math.atan2(-R[5]!, R[4]!), yaw: Math.atan2(-R[6]!, sy), roll: 0 };
  return { pitch: Math.atan2(R[7]!, R[8]!), yaw: Math.atan2(-R[6]!, sy), roll: Math.atan2(R[3]!, R[0]!) };
}

/** Yaw, pitch, roll in degrees of R. */
export function degreesFromRotation(R: ArrayLike<number>): PoseAngles {
  const e = eulerFromRotation(R);
  return { yaw: e.yaw * DEG, pitch: e.pitch * DEG, roll: e.roll * DEG };
}

/** R mirrored left to right: F·R·F, F = diag(−1, 1, 1) (yaw and roll negated, pitch kept). */
export function mirrorRotation(R: ArrayLike<number>): Mat3 {
  const s = [1, -1, -1, -1, 1, 1, -1, 1, 1];
  return Float64Array.from(s, (v, i) => v * R[i]!);
}

/**
 * One angle's absolute error in degrees as 6DRepNet's test.py scores it: the least of |p − t|,
 * |p ± 360 − t| and |p ± 180 − t| (an angle off by a half or whole turn is not counted as such).
 */
export function angleError(pred: number, truth: number): number {
  return Math.min(
    Math.abs(truth - pred),
    Math.abs(pred + 360 - truth),
    Math.abs(pred - 360 - truth),
    Math.abs(pred + 180 - truth),
    Math.abs(pred - 180 - truth),
  );
}

/** The angle of the rotation between A and B, degrees: acos((trace(AᵀB) − 1) / 2), the cosine clamped to [−1, 1]. */
export function geodesicDegrees(A: ArrayLike<number>, B: ArrayLike<number>): number {
  let tr = 0;
  for (let i = 0; i < 9; i++) tr += A[i]! * B[i]!;
  return Math.acos(Math.min(1, Math.max(-1, (tr - 1) / 2))) * DEG;
}

/**
 * The pose of a BIWI `frame_XXXXX_pose.txt` rotation (its three rows as written) in the 300W-LP
 * convention, as Hopenet's and FSA-Net's BIWI loaders read it: M = the file's matrix transposed,
 * roll = −atan2(M10, M00), yaw = −atan2(−M20, √(M21² + M22²)), pitch = atan2(M21, M22).
 */
export function biwiPose(fileRows: ArrayLike<number>): PoseAngles {
  const M = (r: number, c: number) => fileRows[c * 3 + r]!; // transposed
  return {
    roll: -Math.atan2(M(1, 0), M(0, 0)) * DEG,
    yaw: -Math.atan2(-M(2, 0), Math.sqrt(M(2, 1) ** 2 + M(2, 2) ** 2)) * DEG,
    pitch: Math.atan2(M(2, 1), M(2, 2)) * DEG,
  };
}
