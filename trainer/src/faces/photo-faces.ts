/**
 * One photo's detections made into faces: each face's status (a repeat, a low score, too small,
 * dropped by a person, or kept), its record, and for a kept face its aligned crop, named after
 * the photo (`sub/photo.face0.png`) — reused from the previous scan when nothing that makes it
 * has changed, else made and written when new or changed.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../data/image-io.js';
import type { ImageRow } from '../store/store.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { alignmentFor, outsideFraction, warpAligned, type FivePoints } from './align.js';
import type { CachedDetections } from './detection-cache.js';
import type { DetectedFace } from './detector.js';
import { dhash } from './dhash.js';
import type { FaceRecord } from './face-store.js';
import { untouched, type PreviousCrop } from './previous-crops.js';
import { repeatedDetections } from './repeats.js';
import { whyNoKeptFace, widen, type Fate, type NotKept } from './unkept.js';

/** Two decimals: how scores, boxes, landmarks and times are kept. */
export const round = (v: number) => Math.round(v * 100) / 100;

/** Face size in photo pixels: max(2·eye distance, 1.8·eye-to-mouth), as the alignment measures it. */
export function faceSize(p: FivePoints): number {
  const e = Math.hypot(p.leftEye[0] - p.rightEye[0], p.leftEye[1] - p.rightEye[1]);
  const em = [
    (p.leftMouth[0] + p.rightMouth[0] - p.leftEye[0] - p.rightEye[0]) / 2,
    (p.leftMouth[1] + p.rightMouth[1] - p.leftEye[1] - p.rightEye[1]) / 2,
  ] as const;
  return Math.max(2 * e, 1.8 * Math.hypot(em[0], em[1]));
}

export function cropName(relPath: string, faceIndex: number): string {
  const ext = extname(relPath);
  return `${ext ? relPath.slice(0, -ext.length) : relPath}.face${faceIndex}.png`;
}

function roundPoints(p: FivePoints): FivePoints {
  const r = (q: [number, number]): [number, number] => [round(q[0]), round(q[1])];
  return {
    rightEye: r(p.rightEye),
    leftEye: r(p.leftEye),
    nose: r(p.nose),
    rightMouth: r(p.rightMouth),
    leftMouth: r(p.leftMouth),
  };
}

export interface FaceCounts {
  found: number;
  kept: number;
  small: number;
  lowScore: number;
  repeats: number;
  nearDuplicates: number;
  collapsed: number;
  dropped: number;
}

/** What a pass over the photos has found so far. */
export interface FacePass {
  records: FaceRecord[];
  /** Kept faces' records by crop name. */
  crops: Map<string, FaceRecord>;
  /**
   * Kept faces in photo order (near-duplicates are collapsed after the pass), whether each crop was
   * made or reused, and the face's description (who it is, for the near-duplicate check).
   */
  kept: { rec: FaceRecord; name: string; crop: 'made' | 'reused'; embedding: number[] | null; eyeLineShift: number }[];
  withFaces: number;
  withoutFace: string[];
  /** Photos none of whose faces is kept (near-duplicates aside: one of them always stays), with why. */
  withoutKeptFace: { path: string; reason: string }[];
  /** Photos in which the detector found nothing. */
  noFaceFound: number;
  notKept: NotKept;
  counts: FaceCounts;
  cropCounts: { made: number; reused: number };
}

export function newPass(): FacePass {
  return {
    records: [],
    crops: new Map(),
    kept: [],
    withFaces: 0,
    withoutFace: [],
    withoutKeptFace: [],
    noFaceFound: 0,
    notKept: { small: null, lowScore: null },
    counts: { found: 0, kept: 0, small: 0, lowScore: 0, repeats: 0, nearDuplicates: 0, collapsed: 0, dropped: 0 },
    cropCounts: { made: 0, reused: 0 },
  };
}

/** What decides each face's fate in this scan, and where its crop goes. */
export interface FaceRules {
  s: { minScore: number; minFace: number; size: number; margin: number };
  /** A person's drops, `sha256#faceIndex`. */
  drops: Set<string>;
  reusable: Map<string, PreviousCrop>;
  derivedRoot: string;
  /** The models that made the age, gender and emotion suggestions. */
  suggestions: string;
}

function statusOf(f: DetectedFace, key: string, repeat: boolean, r: FaceRules): FaceRecord['status'] {
  return repeat
    ? 'repeat'
    : f.score < r.s.minScore
      ? 'low-score'
      : faceSize(f.points) < r.s.minFace
        ? 'small'
        : r.drops.has(key)
          ? 'dropped'
          : 'kept';
}

/** A kept face's crop: the previous scan's (its outside fraction and hash) or made now; sets them on `rec`. */
async function placeCrop(
  rec: FaceRecord,
  f: DetectedFace,
  at: { name: string; key: string; size: { width: number; height: number } },
  decode: () => Promise<RgbImage>,
  r: FaceRules,
): Promise<'made' | 'reused'> {
  const file = join(r.derivedRoot, at.name);
  // the previous scan's crop of this face, when nothing that makes it has changed and its file is as indexed: not made again
  const before = r.reusable.get(at.key);
  if (
    before &&
    before.cropPath === at.name &&
    before.landmarks === JSON.stringify(rec.landmarks) &&
    untouched(file, before)
  ) {
    rec.outside = before.outside;
    rec.dhash = before.dhash;
    return 'reused';
  }
  const a = alignmentFor(f.points, r.s.size, r.s.margin);
  const crop = warpAligned(await decode(), a);
  rec.outside = round(outsideFraction(a, at.size.width, at.size.height));
  rec.dhash = dhash(crop);
  // written when missing or when its photo changed (the name stays, the content follows the photo)
  const png = await sharp(Buffer.from(crop.data.buffer, crop.data.byteOffset, crop.data.byteLength), {
    raw: { width: crop.width, height: crop.height, channels: 3 },
  })
    .png({ compressionLevel: 6 })
    .toBuffer();
  if (!existsSync(file) || !readFileSync(file).equals(png)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, png);
  }
  return 'made';
}

/** The photo's faces into the pass: their records, and the crops of those kept. */
export async function facesOfPhoto(
  photo: ImageRow,
  found: CachedDetections,
  decode: () => Promise<RgbImage>,
  r: FaceRules,
  pass: FacePass,
): Promise<void> {
  const sha = photo.sha256!;
  const { counts } = pass;
  const repeats = repeatedDetections(found.faces);
  let any = false;
  const fates: Fate[] = [];
  for (let k = 0; k < found.faces.length; k++) {
    const f = found.faces[k]!;
    counts.found++;
    const status = statusOf(f, `${sha}#${k}`, repeats.has(k), r);
    if (status !== 'repeat' && status !== 'low-score') any = true;
    fates.push({ status, size: faceSize(f.points), score: f.score });
    const rec: FaceRecord = {
      sourceImageId: photo.id,
      faceIndex: k,
      sourceSha256: sha,
      score: round(f.score),
      box: f.box.map(round) as FaceRecord['box'],
      landmarks: roundPoints(f.points),
      pose: f.pose,
      status,
      cropPath: null,
      outside: null,
      dhash: null,
      suggestions: { source: r.suggestions, ...f.suggestions },
    };
    pass.records.push(rec);
    if (status !== 'kept') {
      if (status === 'small') {
        counts.small++;
        pass.notKept.small = widen(pass.notKept.small, faceSize(f.points));
      } else if (status === 'low-score') {
        counts.lowScore++;
        pass.notKept.lowScore = widen(pass.notKept.lowScore, f.score);
      } else if (status === 'repeat') counts.repeats++;
      else counts.dropped++;
      continue;
    }
    const name = cropName(photo.rel_path, k);
    if (pass.crops.has(name)) throw new Error(`two faces map to one crop name ${name}`);
    pass.crops.set(name, rec);
    const crop = await placeCrop(rec, f, { name, key: `${sha}#${k}`, size: found }, decode, r);
    pass.kept.push({ rec, name, crop, embedding: f.embedding ?? null, eyeLineShift: f.eyeLineShift ?? 0 });
    pass.cropCounts[crop]++;
  }
  if (any) pass.withFaces++;
  else pass.withoutFace.push(photo.rel_path);
  if (!fates.some((f) => f.status === 'kept'))
    pass.withoutKeptFace.push({ path: photo.rel_path, reason: whyNoKeptFace(fates, r.s) });
  if (fates.length === 0) pass.noFaceFound++;
}
