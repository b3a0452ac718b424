/** Near-duplicates among kept faces, by the dHash of their crops: always reported, collapsed only when asked. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FACES_DEFAULTS } from '../protocol/defaults.js';
import { hamming } from './dhash.js';
import type { FacePass } from './photo-faces.js';

export type NearDuplicatePair = { a: string; b: string; distance: number };

/**
 * Each kept face against the earlier faces that stay: a pair within `reportNearDuplicates` bits is
 * reported; within `dedupe` bits (when not null) the later face is collapsed and its crop removed.
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
    let closest: { name: string; d: number } | null = null;
    for (const o of survivors) {
      const d = hamming(k.rec.dhash!, o.rec.dhash!);
      if (!closest || d < closest.d) closest = { name: o.name, d };
    }
    if (closest && closest.d <= FACES_DEFAULTS.reportNearDuplicates)
      pairs.push({ a: closest.name, b: k.name, distance: closest.d });
    if (closest && dedupe !== null && closest.d <= dedupe) {
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
