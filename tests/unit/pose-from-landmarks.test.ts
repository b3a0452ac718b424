// The head pose fitted to 68 points (annotation/pose-from-landmarks.ts): the template seen with
// known angles gives them back, the camera agrees with the axes the app draws (pose-axes.ts), and
// bad input is refused in words.
import { describe, expect, it } from 'vitest';
import {
  anglesOfHead,
  headRotation,
  poseFromLandmarks,
  projectTemplate,
} from '../../trainer/src/annotation/pose-from-landmarks.js';
import { FACE_TEMPLATE_68 } from '../../trainer/src/annotation/face-template68.js';
import { poseAxes } from '../../renderer/src/pose-axes.js';

const CASES = [
  { yaw: 0, pitch: 0, roll: 0 },
  { yaw: 35, pitch: -12, roll: 8 },
  { yaw: -60, pitch: 20, roll: -25 },
  { yaw: 10, pitch: 40, roll: 90 },
  { yaw: -80, pitch: -30, roll: 150 },
];

describe('head pose from landmarks', () => {
  it('recovers the angles, scale and place of the template projected with known angles (within 0.05°)', () => {
    for (const a of CASES) {
      const pts = projectTemplate(a, 137.5, [300, 210]);
      const fit = poseFromLandmarks(pts);
      expect(Math.abs(fit.yaw - a.yaw)).toBeLessThan(0.05);
      expect(Math.abs(fit.pitch - a.pitch)).toBeLessThan(0.05);
      expect(Math.abs(fit.roll - a.roll)).toBeLessThan(0.05);
      expect(fit.scale).toBeCloseTo(137.5, 6);
      expect(fit.rms).toBeLessThan(1e-6);
    }
  });

  it('stays within 1° when each point is moved up to ±1.5 px at a face of 120 px between the eye corners', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    for (const a of CASES.slice(0, 3)) {
      const pts = projectTemplate(a, 120, [200, 200]).map(([x, y]): [number, number] => [
        x + 1.5 * rnd(),
        y + 1.5 * rnd(),
      ]);
      const fit = poseFromLandmarks(pts);
      for (const k of ['yaw', 'pitch', 'roll'] as const) expect(Math.abs(fit[k] - a[k])).toBeLessThan(1);
    }
  });

  it("sees the head as the app draws it: the template's axes land where pose-axes.ts draws them", () => {
    const a = { yaw: 25, pitch: 15, roll: -10 };
    const axes = poseAxes(a, [0, 0], 1);
    const A = headRotation(a);
    // the image of the head's unit x, y, z axes: the columns of A's first two rows
    expect(A[0]).toBeCloseTo(axes.x[0], 9);
    expect(A[3]).toBeCloseTo(axes.x[1], 9);
    expect(A[1]).toBeCloseTo(axes.y[0], 9);
    expect(A[4]).toBeCloseTo(axes.y[1], 9);
    expect(A[2]).toBeCloseTo(axes.z[0], 9);
    expect(A[5]).toBeCloseTo(axes.z[1], 9);
    const back = anglesOfHead(A);
    expect(back.yaw).toBeCloseTo(25, 9);
    expect(back.pitch).toBeCloseTo(15, 9);
    expect(back.roll).toBeCloseTo(-10, 9);
  });

  it("puts the nose where 300W-LP's signs say: positive yaw moves it to the image's left, positive pitch raises it", () => {
    const nose = (a: { yaw: number; pitch: number; roll: number }) => projectTemplate(a, 100, [0, 0])[30]!;
    expect(nose({ yaw: 20, pitch: 0, roll: 0 })[0]).toBeLessThan(nose({ yaw: 0, pitch: 0, roll: 0 })[0] - 5);
    expect(nose({ yaw: 0, pitch: 20, roll: 0 })[1]).toBeLessThan(nose({ yaw: 0, pitch: 0, roll: 0 })[1] - 5);
    // the template: symmetric, the nose tip towards the viewer, the eye corners 1 apart
    expect(FACE_TEMPLATE_68[30]![0]).toBe(0);
    expect(FACE_TEMPLATE_68[30]![2]).toBeGreaterThan(FACE_TEMPLATE_68[0]![2]);
    expect(FACE_TEMPLATE_68[45]![0] - FACE_TEMPLATE_68[36]![0]).toBeCloseTo(1, 3);
  });

  it('refuses a wrong count, a non-finite point and points that span no area, in words', () => {
    expect(() => poseFromLandmarks([[1, 2]])).toThrow(/68 points of 300W; got 1/);
    const bad = projectTemplate(CASES[1]!, 100, [0, 0]);
    bad[5] = [Number.NaN, 1];
    expect(() => poseFromLandmarks(bad)).toThrow(/point 6 is not a finite/);
    expect(() => poseFromLandmarks(Array.from({ length: 68 }, (_, i): [number, number] => [i, 2 * i]))).toThrow(
      /span no area/,
    );
  });
});
