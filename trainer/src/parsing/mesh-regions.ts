/**
 * The face regions of FaceMesh's 468 points as closed polygons, for parsing pseudo-labels. The
 * contours are MediaPipe's published keypoint annotations as @vladmandic/human ships them
 * (src/face/facemeshcoords.ts `meshAnnotations`: silhouette, lips{Upper,Lower}{Outer,Inner},
 * {right,left}Eye{Upper,Lower}0, {right,left}Eyebrow{Upper,Lower}); "right" and "left" are the
 * person's. The mesh has no nose contour: the nose outline below was picked on the canonical face's
 * UV layout (the same file's UV468) — bridge sides from between the eyes down to the nostril wings
 * and the columella — and is ours, not MediaPipe's.
 */

const SILHOUETTE = [
  10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
  172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
];
const LIPS_UPPER_OUTER = [185, 40, 39, 37, 0, 267, 269, 270, 409];
const LIPS_LOWER_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291];
const LIPS_UPPER_INNER = [191, 80, 81, 82, 13, 312, 311, 310, 415];
const LIPS_LOWER_INNER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308];
const RIGHT_EYE_UPPER = [246, 161, 160, 159, 158, 157, 173];
const RIGHT_EYE_LOWER = [33, 7, 163, 144, 145, 153, 154, 155, 133];
const LEFT_EYE_UPPER = [466, 388, 387, 386, 385, 384, 398];
const LEFT_EYE_LOWER = [263, 249, 390, 373, 374, 380, 381, 382, 362];
const RIGHT_BROW_UPPER = [156, 70, 63, 105, 66, 107, 55, 193];
const RIGHT_BROW_LOWER = [35, 124, 46, 53, 52, 65];
const LEFT_BROW_UPPER = [383, 300, 293, 334, 296, 336, 285, 417];
const LEFT_BROW_LOWER = [265, 353, 276, 283, 282, 295];
/** Ours: between the eyes (168), down the person's right side of the bridge to the wing, the columella (2), up the left. */
const NOSE = [168, 122, 196, 174, 198, 49, 129, 64, 98, 97, 2, 326, 327, 294, 358, 279, 420, 399, 419, 351];

const rev = (a: number[]) => [...a].reverse();

export type MeshRegion =
  | 'face'
  | 'nose'
  | 'rightBrow'
  | 'leftBrow'
  | 'rightEye'
  | 'leftEye'
  | 'upperLip'
  | 'lowerLip'
  | 'innerMouth';

/** Each region's polygon, as mesh point indices in order round it. */
export const MESH_REGIONS: Record<MeshRegion, readonly number[]> = {
  face: SILHOUETTE,
  nose: NOSE,
  rightBrow: [...RIGHT_BROW_UPPER, ...rev(RIGHT_BROW_LOWER)],
  leftBrow: [...LEFT_BROW_UPPER, ...rev(LEFT_BROW_LOWER)],
  rightEye: [...RIGHT_EYE_LOWER, ...rev(RIGHT_EYE_UPPER)],
  leftEye: [...LEFT_EYE_LOWER, ...rev(LEFT_EYE_UPPER)],
  // outer corners 61 and 291, inner corners 78 and 308
  upperLip: [61, ...LIPS_UPPER_OUTER, 291, 308, ...rev(LIPS_UPPER_INNER), 78],
  lowerLip: [...LIPS_LOWER_OUTER, ...rev(LIPS_LOWER_INNER)],
  innerMouth: [78, ...LIPS_UPPER_INNER, ...rev(LIPS_LOWER_INNER)],
};
