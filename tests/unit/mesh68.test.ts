// The FaceMesh → 68-point (iBUG/300W) mapping, checked on the mesh's own frontal layout: the UV map
// that ships with the face models' sources (@vladmandic/human src/face/facemeshcoords.ts, UV468),
// where u runs left → right and v top → bottom in the image of a frontal face.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MESH_POINTS, MESH_TO_68, meshTo68 } from '../../trainer/src/geometry/mesh68.js';
import { facePackageDir } from '../../trainer/src/faces/model-files.js';

/** UV468 read from the package's source text (it is not exported by the built package). */
function meshUv(): [number, number][] {
  const src = readFileSync(join(facePackageDir(), 'src', 'face', 'facemeshcoords.ts'), 'utf8');
  const start = src.indexOf('export const UV468');
  const end = src.indexOf('export const', start + 1);
  if (start < 0 || end < 0) throw new Error('facemeshcoords.ts: no UV468 table');
  const uv = [...src.slice(start, end).matchAll(/\[\s*([\d.e-]+)\s*,\s*([\d.e-]+)\s*\]/g)].map(
    (m): [number, number] => [Number(m[1]), Number(m[2])],
  );
  if (uv.length !== MESH_POINTS) throw new Error(`UV468 has ${uv.length} entries`);
  return uv;
}

const uv = meshUv();
const at68 = meshTo68(uv);
const x = (k: number) => at68[k]![0];
const y = (k: number) => at68[k]![1];

/** The mesh point whose UV is nearest the mirror image of point i's (the face's left ↔ right). */
function mirrorOf(i: number): number {
  const [u, v] = uv[i]!;
  let best = -1,
    bestD = Infinity;
  uv.forEach(([a, b], j) => {
    const d = Math.hypot(a - (1 - u), b - v);
    if (d < bestD) [best, bestD] = [j, d];
  });
  return best;
}

/** 300W's left/right pairs (0-based): jaw, brows, nostrils, eyes, lips. */
const MIRRORED: [number, number][] = [
  ...Array.from({ length: 8 }, (_, k): [number, number] => [k, 16 - k]),
  ...Array.from({ length: 5 }, (_, k): [number, number] => [17 + k, 26 - k]),
  [31, 35],
  [32, 34],
  [36, 45],
  [37, 44],
  [38, 43],
  [39, 42],
  [40, 47],
  [41, 46],
  [48, 54],
  [49, 53],
  [50, 52],
  [55, 59],
  [56, 58],
  [60, 64],
  [61, 63],
  [65, 67],
];
const MIDLINE = [8, 27, 28, 29, 30, 33, 51, 57, 62, 66];

const sorted = (a: readonly number[]) => [...a].sort((p, q) => p - q);

describe('FaceMesh → 68 points', () => {
  it('has 68 entries of one or two mesh indices in 0..477, no two the same', () => {
    expect(MESH_TO_68).toHaveLength(68);
    for (const e of MESH_TO_68) {
      expect([1, 2]).toContain(e.length);
      for (const i of e) {
        expect(Number.isInteger(i)).toBe(true);
        expect(i).toBeGreaterThanOrEqual(0);
        expect(i).toBeLessThanOrEqual(477);
      }
      if (e.length === 2) expect(e[0]).not.toBe(e[1]);
    }
    expect(new Set(MESH_TO_68.map((e) => sorted(e).join('+'))).size).toBe(68);
  });

  it("is its own mirror image: each left point reads the mirrors of its right partner's mesh points", () => {
    for (const [a, b] of MIRRORED)
      expect(sorted(MESH_TO_68[a]!.map(mirrorOf)), `68-points ${a} ↔ ${b}`).toEqual(sorted(MESH_TO_68[b]!));
    for (const k of MIDLINE)
      expect(sorted(MESH_TO_68[k]!.map(mirrorOf)), `68-point ${k}`).toEqual(sorted(MESH_TO_68[k]!));
  });

  it("follows the 300W order on the mesh's frontal layout", () => {
    // eye corners: 36 (outer) < 39 (inner) < 42 (inner) < 45 (outer), left to right
    expect(x(36)).toBeLessThan(x(39));
    expect(x(39)).toBeLessThan(x(42));
    expect(x(42)).toBeLessThan(x(45));
    // upper lids (37, 38 / 43, 44) above lower lids (41, 40 / 47, 46)
    for (const [up, down] of [
      [37, 41],
      [38, 40],
      [43, 47],
      [44, 46],
    ] as const)
      expect(y(up)).toBeLessThan(y(down));
    // the jaw runs left to right with the chin lowest; the brows sit above the eyes. (The UV map
    // unrolls the sides of the head, so its ear-level points 0, 1 and 15, 16 lie about level in u.)
    for (let k = 3; k <= 14; k++) expect(x(k)).toBeGreaterThan(x(k - 1));
    expect(Math.max(x(0), x(1))).toBeLessThan(x(2));
    expect(Math.min(x(15), x(16))).toBeGreaterThan(x(14));
    for (let k = 0; k <= 16; k++) if (k !== 8) expect(y(k)).toBeLessThan(y(8));
    for (let k = 17; k <= 26; k++) expect(y(k)).toBeLessThan(Math.min(y(37), y(38), y(43), y(44)));
    // the bridge runs down to the tip, the tip above the nostrils' base, that above the mouth
    for (let k = 28; k <= 30; k++) expect(y(k)).toBeGreaterThan(y(k - 1));
    expect(y(30)).toBeLessThan(y(33));
    for (let k = 48; k < 68; k++) expect(y(k)).toBeGreaterThan(y(33));
    // mouth corners 48 (left) and 54 (right) outside the inner corners 60 and 64
    expect(x(48)).toBeLessThanOrEqual(x(60));
    expect(x(54)).toBeGreaterThanOrEqual(x(64));
    // the outer lip's top centre (51) above the inner lip's (62, 66), which are above its bottom centre (57)
    expect(y(51)).toBeLessThan(y(62));
    expect(y(62)).toBeLessThanOrEqual(y(66));
    expect(y(66)).toBeLessThan(y(57));
  });

  it('reads one mesh point as it is and two as their mean; takes a 478-point mesh (iris included)', () => {
    const mesh = Array.from({ length: 478 }, (_, i): [number, number, number] => [i, 2 * i + 1, -i]);
    const out = meshTo68(mesh);
    expect(out).toHaveLength(68);
    MESH_TO_68.forEach((e, k) => {
      const mx = e.reduce((s, i) => s + i, 0) / e.length;
      expect(out[k]).toEqual([mx, 2 * mx + 1]);
    });
  });

  it('refuses a mesh that is too short, or a non-finite point it reads, naming what is wrong', () => {
    expect(() => meshTo68(uv.slice(0, 467))).toThrow(/468 points .* got 467/);
    const bad = uv.map((p): [number, number] => [...p]);
    bad[MESH_TO_68[30]![0]] = [Number.NaN, 0.5];
    expect(() => meshTo68(bad)).toThrow(new RegExp(`mesh point ${MESH_TO_68[30]![0]} \\(for 68-point 30\\)`));
  });
});
