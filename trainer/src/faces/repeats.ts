/** Repeated detections of one face (the detector's, or overlapping tiles'): pure, shared by detector and ingest. */
import type { FivePoints } from './align.js';

/** What telling repeats apart needs of a detection (the detector's DetectedFace has it). */
interface Eyed {
  score: number;
  points: Pick<FivePoints, 'leftEye' | 'rightEye'>;
}

/** Indices of detections that repeat an earlier one (eyes' midpoints closer than the larger eye distance). */
export function repeatedDetections(faces: readonly Eyed[]): Set<number> {
  const mid = (f: Eyed) => [
    (f.points.leftEye[0] + f.points.rightEye[0]) / 2,
    (f.points.leftEye[1] + f.points.rightEye[1]) / 2,
  ];
  const iod = (f: Eyed) =>
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
