// Head-pose conversions against independent computations: scipy.spatial.transform (extrinsic x-y-z
// Euler angles = 6DRepNet's R = Rz·Ry·Rx) and 6DRepNet's own numpy formulas, run in Python on the
// same angles; hand-derived cases with the reasoning; the mirror rule; the per-angle error.
import { describe, expect, it } from 'vitest';
import { runScipy, scipyMissing } from '../support/scipy.js';
import {
  angleError,
  biwiPose,
  degreesFromRotation,
  eulerFromRotation,
  geodesicDegrees,
  mirrorRotation,
  rotationFromDegrees,
  rotationFromEuler,
} from '../../trainer/src/pose/rotation.js';
import { Rng } from '../../trainer/src/util/rng.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-9) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    expect(Math.abs(a[i]! - b[i]!), `element ${i}: ${a[i]} vs ${b[i]}`).toBeLessThan(eps);
};

/** 50 poses in the range of 300W-LP (yaw ±99°, pitch and roll ±60°), radians, pitch-yaw-roll. */
function poses(): [number, number, number][] {
  const rng = new Rng(7);
  const u = (a: number) => ((rng.next() * 2 - 1) * a * Math.PI) / 180;
  return Array.from({ length: 50 }, () => [u(60), u(99), u(60)]);
}

describe('Euler ↔ rotation matrix (300W-LP convention)', () => {
  it('hand-derived cases', () => {
    // identity
    close(rotationFromEuler(0, 0, 0), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    // yaw 90° alone: Ry(90°) = [[cos, 0, sin], [0, 1, 0], [−sin, 0, cos]] = [[0,0,1],[0,1,0],[−1,0,0]]
    close(rotationFromEuler(0, Math.PI / 2, 0), [0, 0, 1, 0, 1, 0, -1, 0, 0], 1e-12);
    // pitch 30° alone: Rx = [[1,0,0],[0,cos,−sin],[0,sin,cos]]
    const c = Math.cos(Math.PI / 6),
      s = Math.sin(Math.PI / 6);
    close(rotationFromEuler(Math.PI / 6, 0, 0), [1, 0, 0, 0, c, -s, 0, s, c]);
    // roll then yaw: Rz(90°)·Ry(90°) = [[0,−1,0],[1,0,0],[0,0,1]]·[[0,0,1],[0,1,0],[−1,0,0]] = [[0,−1,0],[0,0,1],[−1,0,0]]
    close(rotationFromEuler(0, Math.PI / 2, Math.PI / 2), [0, -1, 0, 0, 0, 1, -1, 0, 0], 1e-12);
    // degrees in, degrees out
    const d = degreesFromRotation(rotationFromDegrees({ yaw: -40, pitch: 12.5, roll: 7 }));
    close([d.yaw, d.pitch, d.roll], [-40, 12.5, 7], 1e-9);
  });

  it('round trip over the range of 300W-LP (|yaw| < 90° keeps the Euler angles unique)', () => {
    for (const [p, y, r] of poses()) {
      if (Math.abs(y) >= Math.PI / 2) continue;
      const e = eulerFromRotation(rotationFromEuler(p, y, r));
      close([e.pitch, e.yaw, e.roll], [p, y, r], 1e-9);
    }
    // the singular branch (yaw ±90°): the matrix is still reproduced, roll folded into pitch
    const R = rotationFromEuler(0.3, Math.PI / 2, 0.1);
    const e = eulerFromRotation(R);
    expect(e.roll).toBe(0);
    close(rotationFromEuler(e.pitch, e.yaw, e.roll), R, 1e-6);
  });

  it('the mirror F·R·F negates yaw and roll and keeps pitch', () => {
    for (const [p, y, r] of poses())
      close(mirrorRotation(rotationFromEuler(p, y, r)), rotationFromEuler(p, -y, -r), 1e-12);
  });

  it('per-angle error: as 6DRepNet scores it (half and whole turns not counted)', () => {
    expect(angleError(10, -5)).toBe(15);
    expect(angleError(179, -179)).toBe(2); // 179 − 360 = −181, |−181 − (−179)| = 2
    expect(angleError(90, -90)).toBe(0); // the ±180 terms: 90 − 180 = −90
    expect(angleError(-30, 30)).toBe(60);
  });

  it('geodesic distance: a rotation about one axis by θ is θ away', () => {
    const I = rotationFromEuler(0, 0, 0);
    expect(geodesicDegrees(I, rotationFromDegrees({ yaw: 25, pitch: 0, roll: 0 }))).toBeCloseTo(25, 9);
    expect(geodesicDegrees(I, rotationFromDegrees({ yaw: 0, pitch: 0, roll: -170 }))).toBeCloseTo(170, 9);
    expect(geodesicDegrees(I, I)).toBe(0);
  });
});

describe.skipIf(scipyMissing !== null)('against scipy.spatial.transform and 6DRepNet’s numpy code', () => {
  it('matrices, angles back, geodesic distances and the BIWI reading agree to 1e-9', () => {
    const ps = poses();
    const py = runScipy<{ scipy: number[][]; sixd: number[][]; euler: number[][]; geo: number[]; biwi: number[][] }>(
      `
from scipy.spatial.transform import Rotation
def get_R(x, y, z):  # 6DRepNet sixdrepnet/utils.py
    Rx = np.array([[1, 0, 0], [0, np.cos(x), -np.sin(x)], [0, np.sin(x), np.cos(x)]])
    Ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    Rz = np.array([[np.cos(z), -np.sin(z), 0], [np.sin(z), np.cos(z), 0], [0, 0, 1]])
    return Rz.dot(Ry.dot(Rx))
def biwi(M):  # Hopenet / FSA-Net BIWI loaders: the file's rows, transposed
    R = np.transpose(M)
    roll = -np.arctan2(R[1][0], R[0][0]) * 180 / np.pi
    yaw = -np.arctan2(-R[2][0], np.sqrt(R[2][1] ** 2 + R[2][2] ** 2)) * 180 / np.pi
    pitch = np.arctan2(R[2][1], R[2][2]) * 180 / np.pi
    return [yaw, pitch, roll]
P = np.array(data)
rots = Rotation.from_euler('xyz', P)  # extrinsic x, then y, then z: Rz·Ry·Rx
out = {
  'scipy': rots.as_matrix().reshape(-1, 9).tolist(),
  'sixd': [get_R(*p).reshape(9).tolist() for p in P],
  'euler': rots.as_euler('xyz').tolist(),
  'geo': [float(np.degrees((rots[i].inv() * rots[(i + 1) % len(P)]).magnitude())) for i in range(len(P))],
  'biwi': [biwi(rots[i].as_matrix()) for i in range(len(P))],
}
print(json.dumps(out))
`,
      ps,
    );
    ps.forEach(([p, y, r], i) => {
      const R = rotationFromEuler(p, y, r);
      close(R, py.scipy[i]!);
      close(R, py.sixd[i]!);
      if (Math.abs(y) < Math.PI / 2) {
        const e = eulerFromRotation(R);
        close([e.pitch, e.yaw, e.roll], py.euler[i]!);
      }
      const next = ps[(i + 1) % ps.length]!;
      expect(Math.abs(geodesicDegrees(R, rotationFromEuler(...next)) - py.geo[i]!)).toBeLessThan(1e-6);
      const b = biwiPose(R);
      close([b.yaw, b.pitch, b.roll], py.biwi[i]!);
    });
  });
});
