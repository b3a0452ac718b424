/** The crops the previous scan of a derived dataset made, for a scan that can reuse them rather than make them again. */
import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';

export interface PreviousCrop {
  cropPath: string;
  landmarks: string;
  outside: number;
  dhash: string;
  /** The file as the previous scan indexed it: a file written since (a stopped or killed scan with other settings, a person) does not match. */
  bytes: number | null;
  mtimeMs: number | null;
}

/**
 * The crops the previous scan of this derived dataset made, by photo content and face index, when
 * it made them at the same size and margin (what, besides the photo and its landmarks, decides a
 * crop's pixels): their file, landmarks, outside fraction, hash, and the file's size and time as
 * that scan indexed it.
 */
export function previousCrops(
  db: Database.Database,
  derived: { id: number; derive: string | null },
  s: { size: number; margin: number },
): Map<string, PreviousCrop> {
  const out = new Map<string, PreviousCrop>();
  let was: { size?: unknown; margin?: unknown } = {};
  try {
    was = JSON.parse(derived.derive ?? '{}') as typeof was;
  } catch {
    return out;
  }
  if (was.size !== s.size || was.margin !== s.margin) return out;
  const rows = db
    .prepare(
      `SELECT f.source_sha256, f.face_index, f.crop_path, f.landmarks, f.outside, f.dhash, i.bytes, i.mtime_ms FROM faces f
       LEFT JOIN images i ON i.dataset_id = f.dataset_id AND i.rel_path = f.crop_path
       WHERE f.dataset_id = ? AND f.crop_path IS NOT NULL AND f.outside IS NOT NULL AND f.dhash IS NOT NULL`,
    )
    .all(derived.id) as {
    source_sha256: string;
    face_index: number;
    crop_path: string;
    landmarks: string;
    outside: number;
    dhash: string;
    bytes: number | null;
    mtime_ms: number | null;
  }[];
  for (const r of rows)
    out.set(`${r.source_sha256}#${r.face_index}`, {
      cropPath: r.crop_path,
      landmarks: r.landmarks,
      outside: r.outside,
      dhash: r.dhash,
      bytes: r.bytes,
      mtimeMs: r.mtime_ms,
    });
  return out;
}

/** The file is as the previous scan indexed it (size and whole-millisecond time, as the scan compares them). */
export function untouched(file: string, before: PreviousCrop): boolean {
  try {
    const st = statSync(file);
    return st.size === before.bytes && Math.floor(st.mtimeMs) === before.mtimeMs;
  } catch {
    return false;
  }
}
