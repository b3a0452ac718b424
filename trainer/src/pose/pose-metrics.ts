/**
 * The head-pose metrics of the literature's tables (Hopenet, FSA-Net, 6DRepNet, TokenHPE): the mean
 * absolute error of yaw, pitch and roll in degrees — each angle of the predicted matrix's Euler
 * angles against the true ones, scored as 6DRepNet's test.py scores them (rotation.ts
 * `angleError`) — and MAE, their mean; beside them the mean geodesic error (the angle of the
 * rotation between prediction and truth, degrees), which does not depend on the Euler convention.
 */
import { angleError, degreesFromRotation, geodesicDegrees, type PoseAngles } from './rotation.js';

/** One face's errors, degrees. */
export interface PoseError {
  yaw: number;
  pitch: number;
  roll: number;
  geodesic: number;
}

export interface PoseSummary {
  count: number;
  yaw: number;
  pitch: number;
  roll: number;
  /** (yaw + pitch + roll) / 3. */
  mae: number;
  geodesic: number;
}

/** The errors of a predicted rotation against the true rotation and angles (degrees). */
export function poseError(pred: ArrayLike<number>, truthR: ArrayLike<number>, truth: PoseAngles): PoseError {
  const p = degreesFromRotation(pred);
  return {
    yaw: angleError(p.yaw, truth.yaw),
    pitch: angleError(p.pitch, truth.pitch),
    roll: angleError(p.roll, truth.roll),
    geodesic: geodesicDegrees(pred, truthR),
  };
}

export function summarisePose(errors: readonly PoseError[]): PoseSummary {
  const n = errors.length;
  const mean = (k: keyof PoseError) => (n ? errors.reduce((a, e) => a + e[k], 0) / n : Number.NaN);
  const yaw = mean('yaw'),
    pitch = mean('pitch'),
    roll = mean('roll');
  return { count: n, yaw, pitch, roll, mae: (yaw + pitch + roll) / 3, geodesic: mean('geodesic') };
}
