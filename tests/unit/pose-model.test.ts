// The head-pose model's parts: Gram–Schmidt from 6 numbers (against the formula computed by hand in
// plain numbers), the geodesic loss (against rotation.ts's distance and its finite gradient at zero
// distance), views that mirror the rotation with the pixels, and a training step that leaves no tensor behind.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { geodesic, geodesicLoss, PoseModel, rotationFrom6d } from '../../trainer/src/pose/pose-model.js';
import { canonicalPose, poseViewOf, viewSquare } from '../../trainer/src/pose/pose-views.js';
import { poseOptimiser, poseStep } from '../../trainer/src/pose/pose-train.js';
import {
  geodesicDegrees,
  mirrorRotation,
  rotationFromDegrees,
  rotationFromEuler,
} from '../../trainer/src/pose/rotation.js';
import { presetConfig } from '../../trainer/src/model/config.js';
import { Rng } from '../../trainer/src/util/rng.js';

/** Gram–Schmidt in plain numbers: x = a/|a|, z = x×b/|x×b|, y = z×x, columns x y z (row-major out). */
function gramSchmidt(v: number[]): number[] {
  const n = (u: number[]) => u.map((c) => c / Math.hypot(...u));
  const cr = (a: number[], b: number[]) => [
    a[1]! * b[2]! - a[2]! * b[1]!,
    a[2]! * b[0]! - a[0]! * b[2]!,
    a[0]! * b[1]! - a[1]! * b[0]!,
  ];
  const x = n(v.slice(0, 3));
  const z = n(cr(x, v.slice(3)));
  const y = cr(z, x);
  return [0, 1, 2].flatMap((r) => [x[r]!, y[r]!, z[r]!]);
}

describe('6-D representation and geodesic loss', () => {
  it('Gram–Schmidt gives the rotation of the hand computation, orthonormal with determinant 1', async () => {
    const six = [
      [1, 0, 0, 0, 1, 0],
      [0.3, -2, 0.5, 1.5, 0.2, -0.7],
      [-1, 1, 1, 2, 0, 1],
    ];
    const R = rotationFrom6d(tf.tensor2d(six));
    const got = Array.from(await R.data());
    R.dispose();
    six.forEach((v, i) => {
      const want = gramSchmidt(v);
      for (let k = 0; k < 9; k++) expect(got[i * 9 + k]).toBeCloseTo(want[k]!, 5);
      const m = got.slice(i * 9, i * 9 + 9);
      const det =
        m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) -
        m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) +
        m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
      expect(det).toBeCloseTo(1, 5);
    });
    // the first two columns of a rotation give it back
    const T = rotationFromDegrees({ yaw: 30, pitch: -20, roll: 10 });
    const back = rotationFrom6d(tf.tensor2d([[T[0]!, T[3]!, T[6]!, T[1]!, T[4]!, T[7]!]]));
    const b = await back.data();
    back.dispose();
    for (let k = 0; k < 9; k++) expect(b[k]).toBeCloseTo(T[k]!, 5);
  });

  it('geodesic distance and loss: as rotation.ts computes it; a finite gradient where prediction = truth', async () => {
    const A = [
      rotationFromDegrees({ yaw: 10, pitch: 5, roll: -3 }),
      rotationFromDegrees({ yaw: -60, pitch: 20, roll: 15 }),
    ];
    const B = [
      rotationFromDegrees({ yaw: 40, pitch: 0, roll: 0 }),
      rotationFromDegrees({ yaw: -60, pitch: 20, roll: 15 }),
    ];
    const a = tf.tensor3d(
      A.flatMap((m) => Array.from(m)),
      [2, 3, 3],
    );
    const b = tf.tensor3d(
      B.flatMap((m) => Array.from(m)),
      [2, 3, 3],
    );
    const d = await geodesic(a, b).data();
    expect((d[0]! * 180) / Math.PI).toBeCloseTo(geodesicDegrees(A[0]!, B[0]!), 2);
    expect(d[1]!).toBeLessThan(1e-3); // the clamp: acos(1 − ε) ≈ √(2ε)
    const loss = await geodesicLoss(a, b).data();
    expect(loss[0]).toBeCloseTo((d[0]! + d[1]!) / 2, 6);
    const g = tf.grad((x: tf.Tensor) => geodesicLoss(x as tf.Tensor3D, b))(a);
    const gv = await g.data();
    expect(Array.from(gv).every(Number.isFinite)).toBe(true);
    tf.dispose([a, b, g]);
  });
});

describe('views keep the pose consistent with the pixels', () => {
  // an asymmetric test image: a bright block on the left half
  const N = 96;
  const data = new Uint8Array(N * N * 3);
  for (let y = 0; y < N; y++)
    for (let x = 0; x < N; x++) for (let c = 0; c < 3; c++) data[(y * N + x) * 3 + c] = x < N / 2 ? 200 + c : 30;
  const img = { width: N, height: N, data };
  const R = rotationFromDegrees({ yaw: 35, pitch: -12, roll: 20 });

  it('a mirrored view is the plain view mirrored, with yaw and roll negated', () => {
    const S = 32;
    const c = canonicalPose(img, [30, 30, 66, 66], R, S);
    const plain = poseViewOf(c, S, { scale: 0, shift: 0, flip: false }, null);
    expect(Array.from(plain.R)).toEqual(Array.from(Float32Array.from(R)));
    const rng = new Rng(1);
    let seen = 0;
    for (let i = 0; i < 12; i++) {
      const v = poseViewOf(c, S, { scale: 0, shift: 0, flip: true }, rng);
      if (!v.flipped) {
        expect(Array.from(v.R)).toEqual(Array.from(plain.R));
        continue;
      }
      seen++;
      expect(Array.from(v.R)).toEqual(Array.from(Float32Array.from(mirrorRotation(R))));
      const negated = rotationFromDegrees({ yaw: -35, pitch: -12, roll: -20 });
      for (let k = 0; k < 9; k++) expect(v.R[k]).toBeCloseTo(negated[k]!, 6);
      for (let y = 0; y < S; y += 5)
        for (let x = 0; x < S; x += 3)
          for (let ch = 0; ch < 3; ch++)
            expect(v.x[(y * S + x) * 3 + ch]).toBe(plain.x[(y * S + (S - 1 - x)) * 3 + ch]);
    }
    expect(seen).toBeGreaterThan(0);
  });

  it('zoom and shift leave the rotation as it is', () => {
    const c = canonicalPose(img, [30, 30, 66, 66], R, 32);
    const v = poseViewOf(c, 32, { scale: 0.2, shift: 0.1, flip: false }, new Rng(2));
    expect(Array.from(v.R)).toEqual(Array.from(Float32Array.from(R)));
  });

  it('the view square is 6DRepNet’s AFLW2000 test crop: k = 0.2 loose box, centre crop 224/256 of its shorter side', () => {
    // points box 100×100 at (100, 100): x0 = 100 − 40 = 60, y0 = 100 − 40 = 60, x1 = 200 + 0.4·140 = 256, y1 = 200 + 0.12·140 = 216.8
    const s = viewSquare([100, 100, 200, 200]);
    expect(s.cx).toBeCloseTo((60 + 256) / 2, 9);
    expect(s.cy).toBeCloseTo((60 + 216.8) / 2, 9);
    expect(s.side).toBeCloseTo((156.8 * 224) / 256, 9);
  });
});

describe('the pose model', () => {
  it('starts from an encoder: its head (the 6 outputs and the per-patch weights) is new, the rest is loaded', async () => {
    const model = { ...presetConfig('micro').model, imgSize: 32 };
    const a = new PoseModel(model, 0, 1);
    const tensors = new Map((await a.clf.exportTensors()).map((t) => [t.name, t]));
    const b = new PoseModel(model, 0, 2);
    expect(b.clf.loadEncoder(tensors, 'a test encoder')).toBe('as loaded');
    const name = 'blocks.0.attn.qkv.weight';
    expect(Array.from(await b.clf.params.get(name).data())).toEqual(Array.from(tensors.get(name)!.data));
    expect(b.clf.params.names()).toContain('head.pool_weight');
    a.dispose();
    b.dispose();
  });
});

describe('a training step', () => {
  it('lowers the loss on a repeated batch and leaves no tensor behind', async () => {
    const model = new PoseModel({ ...presetConfig('micro').model, imgSize: 32 }, 0.1, 0);
    const { opt, vars } = poseOptimiser(model, 0.05);
    const rng = new Rng(3);
    const views = [0, 1, 2, 3].map((i) => ({
      x: Float32Array.from({ length: 32 * 32 * 3 }, () => rng.next() * 2 - 1),
      R: Float32Array.from(rotationFromEuler(0.2 * i, -0.3 * i, 0.1)),
    }));
    await poseStep(model, opt, vars, views, 32, 1e-3, rng); // the optimiser's moments are made on the first step
    const before = tf.memory().numTensors;
    const first = await poseStep(model, opt, vars, views, 32, 1e-3, rng);
    let last = first;
    for (let i = 0; i < 5; i++) last = await poseStep(model, opt, vars, views, 32, 1e-3, rng);
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first);
    opt.dispose();
    model.dispose();
  });
});
