/** The faces of a derived dataset in the store (schema 5): rows, drops, the derived dataset's link. */
import type Database from 'better-sqlite3';
import type { FivePoints } from './align.js';

export type FaceStatus = 'kept' | 'small' | 'low-score' | 'repeat' | 'near-duplicate' | 'dropped';

export interface FaceRecord {
  sourceImageId: number;
  faceIndex: number;
  sourceSha256: string;
  score: number;
  box: [number, number, number, number];
  landmarks: FivePoints;
  pose: { roll: number; yaw: number; pitch: number };
  status: FaceStatus;
  cropPath: string | null;
  outside: number | null;
  dhash: string | null;
  suggestions: unknown;
}

export interface FaceRow {
  id: number;
  dataset_id: number;
  source_image_id: number;
  face_index: number;
  source_sha256: string;
  score: number;
  box: string;
  landmarks: string;
  pose: string;
  status: FaceStatus;
  crop_path: string | null;
  outside: number | null;
  dhash: string | null;
  suggestions: string | null;
}

export function linkDerived(db: Database.Database, derivedId: number, sourceId: number, derive: unknown): void {
  db.prepare('UPDATE datasets SET source_dataset_id = ?, derive = ? WHERE id = ?').run(
    sourceId,
    JSON.stringify(derive),
    derivedId,
  );
}

/** Replaces the face rows of a derived dataset with this scan's (one transaction). */
export function replaceFaces(db: Database.Database, datasetId: number, faces: readonly FaceRecord[]): void {
  const del = db.prepare('DELETE FROM faces WHERE dataset_id = ?');
  const ins =
    db.prepare(`INSERT INTO faces (dataset_id, source_image_id, face_index, source_sha256, score, box, landmarks, pose, status, crop_path, outside, dhash, suggestions)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  db.transaction(() => {
    del.run(datasetId);
    for (const f of faces)
      ins.run(
        datasetId,
        f.sourceImageId,
        f.faceIndex,
        f.sourceSha256,
        f.score,
        JSON.stringify(f.box),
        JSON.stringify(f.landmarks),
        JSON.stringify(f.pose),
        f.status,
        f.cropPath,
        f.outside,
        f.dhash,
        f.suggestions === null ? null : JSON.stringify(f.suggestions),
      );
  })();
}

export function facesOf(db: Database.Database, datasetId: number): FaceRow[] {
  return db
    .prepare('SELECT * FROM faces WHERE dataset_id = ? ORDER BY source_image_id, face_index')
    .all(datasetId) as FaceRow[];
}

/** Every face found in one source photo, across the derived datasets made from it. */
export function facesOfSourceImage(db: Database.Database, sourceImageId: number): FaceRow[] {
  return db
    .prepare('SELECT * FROM faces WHERE source_image_id = ? ORDER BY dataset_id, face_index')
    .all(sourceImageId) as FaceRow[];
}

/** The face a crop of a derived dataset shows (by the crop image's id), or undefined. */
export function faceOfCrop(db: Database.Database, cropImageId: number): FaceRow | undefined {
  return db
    .prepare(
      'SELECT f.* FROM faces f JOIN images i ON i.dataset_id = f.dataset_id AND i.rel_path = f.crop_path WHERE i.id = ?',
    )
    .get(cropImageId) as FaceRow | undefined;
}

export function faceById(db: Database.Database, id: number): FaceRow | undefined {
  return db.prepare('SELECT * FROM faces WHERE id = ?').get(id) as FaceRow | undefined;
}

/** Content keys of the faces a person dropped in a derived dataset. */
export function droppedKeys(db: Database.Database, datasetId: number): Set<string> {
  const rows = db.prepare('SELECT source_sha256, face_index FROM face_drops WHERE dataset_id = ?').all(datasetId) as {
    source_sha256: string;
    face_index: number;
  }[];
  return new Set(rows.map((r) => `${r.source_sha256}#${r.face_index}`));
}

export function recordDrop(
  db: Database.Database,
  datasetId: number,
  sha256: string,
  faceIndex: number,
  undo = false,
): void {
  if (undo)
    db.prepare('DELETE FROM face_drops WHERE dataset_id = ? AND source_sha256 = ? AND face_index = ?').run(
      datasetId,
      sha256,
      faceIndex,
    );
  else
    db.prepare(
      'INSERT INTO face_drops (dataset_id, source_sha256, face_index, dropped_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ).run(datasetId, sha256, faceIndex, new Date().toISOString());
}
