/** Repeated detections of one face (the detector's, or overlapping tiles'): pure, shared by detector and ingest. */
import type { DetectedFace } from './detector.js';

/** Indices of detections that repeat an earlier one (eyes' midpoints closer than the larger eye distance). */
export function repeatedDetections(faces: readonly DetectedFace[]): Set<number> {
  const mid = (f: DetectedFace) => [
    (f.points.leftEye[0] + f.points.rightEye[0]) / 2,
    (f.points.leftEye[1] + f.points.rightEye[1]) / 2,
  ];
  const iod = (f: DetectedFace) =>
    Math.hypot(f.points.leftEye[0] - f.points.rightEye[0], f.points.leftEye[1] - f.points.rightEye[1]);
  const order = faces.map((_, i) => i).sort((a, b) => faces[b]!.score - faces[a]!.score || a - b);
  const kept: number[] = [];
  const repeats = new Set<number>();
  for (const i of order) {
    const [x, y] = mid(faces[i]!);
    const dup = kept.some((k) => {
      const [u, v] = mid(faces[k]!);
      return Math.hypot(x! - u!, y! - v!) < Math.max(iod(faces[i]!), iod(faces[k]!));
    });
    if (dup) repeats.add(i);
    else kept.push(i);
  }
  return repeats;
}
