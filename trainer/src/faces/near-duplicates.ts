/** Near-duplicates among kept faces, by the dHash of their crops: always reported, collapsed only when asked. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FACES_DEFAULTS } from '../protocol/defaults.js';
import { hamming } from './dhash.js';
import type { FacePass } from './photo-faces.js';

/** `similarity`: cosine similarity of the two faces' descriptions (null when one has none). */
export type NearDuplicatePair = {
  a: string;
  b: string;
  distance: number;
  similarity: number | null;
  samePerson: boolean;
};

/** Cosine similarity of two face descriptions, two decimals; null when either is missing. */
export function faceSimilarity(a: number[] | null, b: number[] | null): number | null {
  if (!a || !b || a.length !== b.length) return null;
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa > 0 && bb > 0 ? Math.round((ab / Math.sqrt(aa * bb)) * 100) / 100 : null;
}

/**
 * Each kept face against the earlier faces that stay: a pair within `reportNearDuplicates` bits is
 * reported; within `dedupe` bits (when not null) the later face is collapsed and its crop removed,
 * unless the faces' descriptions say two people (similarity below `samePerson`): close difference
 * hashes of aligned faces are common between different people.
 * The faces that stay get their crop path; the pass's counts are updated, the crops made and reused
 * to those of the faces that stay (the crops the dataset holds).
 */
export function collapseNearDuplicates(
  pass: FacePass,
  dedupe: number | null,
  derivedRoot: string,
): NearDuplicatePair[] {
  const { counts } = pass;
  const pairs: NearDuplicatePair[] = [];
  const survivors: FacePass['kept'] = [];
  for (const k of pass.kept) {
    let closest: { name: string; d: number; embedding: number[] | null } | null = null;
    for (const o of survivors) {
      const d = hamming(k.rec.dhash!, o.rec.dhash!);
      if (!closest || d < closest.d) closest = { name: o.name, d, embedding: o.embedding };
    }
    const similarity = closest ? faceSimilarity(closest.embedding, k.embedding) : null;
    const samePerson = similarity === null || similarity >= FACES_DEFAULTS.samePerson;
    if (closest && closest.d <= FACES_DEFAULTS.reportNearDuplicates)
      pairs.push({ a: closest.name, b: k.name, distance: closest.d, similarity, samePerson });
    if (closest && dedupe !== null && closest.d <= dedupe && samePerson) {
      k.rec.status = 'near-duplicate';
      counts.collapsed++;
      pass.cropCounts[k.crop]--; // its crop is not one of the dataset's: counted neither made nor reused
      pass.crops.delete(k.name);
      rmSync(join(derivedRoot, k.name), { force: true });
    } else survivors.push(k);
  }
  counts.nearDuplicates = pairs.length;
  for (const k of survivors) k.rec.cropPath = k.name;
  counts.kept = survivors.length;
  return pairs;
}
