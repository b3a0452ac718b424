// The head's axes the image view draws for a head-pose run: right, down and out of the face for a
// frontal head, and turned the way 300W-LP's angles say (the nose to the image's left for a positive
// yaw, up for a positive pitch; the head's x axis tipped down on the right for a positive roll).
import { describe, expect, it } from 'vitest';
import { poseAxes } from '../../renderer/src/pose-axes.js';

describe('poseAxes', () => {
  it('a frontal head: x to the right, y down, z a point (towards the viewer)', () => {
    const a = poseAxes({ yaw: 0, pitch: 0, roll: 0 }, [100, 100], 50);
    expect(a.x[0]).toBeCloseTo(150, 9);
    expect(a.x[1]).toBeCloseTo(100, 9);
    expect(a.y[0]).toBeCloseTo(100, 9);
    expect(a.y[1]).toBeCloseTo(150, 9);
    expect(a.z[0]).toBeCloseTo(100, 9);
    expect(a.z[1]).toBeCloseTo(100, 9);
  });
  it('yaw 30°: the nose (z) to the image’s left; pitch 30°: up; roll 30°: x tipped down on the right', () => {
    expect(poseAxes({ yaw: 30, pitch: 0, roll: 0 }, [0, 0], 1).z[0]).toBeCloseTo(-0.5, 9);
    expect(poseAxes({ yaw: 0, pitch: 30, roll: 0 }, [0, 0], 1).z[1]).toBeCloseTo(-0.5, 9);
    const x = poseAxes({ yaw: 0, pitch: 0, roll: 30 }, [0, 0], 1).x;
    expect(x[0]).toBeCloseTo(Math.cos(Math.PI / 6), 9);
    expect(x[1]).toBeCloseTo(0.5, 9);
  });
});
