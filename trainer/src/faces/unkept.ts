/**
 * Photos that give no face crop, in words a person can act on: what became of each face found
 * (too small, below the score, dropped), and the range of sizes and scores of the faces not kept —
 * the settings that would keep them.
 */
import type { FaceRecord } from './face-store.js';

/** What became of one detection, with what decided it. */
export interface Fate {
  status: FaceRecord['status'];
  /** Face size in photo pixels (photo-faces.ts faceSize). */
  size: number;
  score: number;
}

export interface Range {
  min: number;
  max: number;
}

/** The faces not kept for their size or score, over every photo: `--min-face` / `--min-score` at `min` keeps them all. */
export interface NotKept {
  small: Range | null;
  lowScore: Range | null;
}

export function widen(r: Range | null, v: number): Range {
  return r ? { min: Math.min(r.min, v), max: Math.max(r.max, v) } : { min: v, max: v };
}

const faces = (n: number) => `${n} face${n === 1 ? '' : 's'}`;

/** `lo–hi` in the given format, or one value when both read the same. */
export function spanText(r: Range, fmt: (v: number) => string): string {
  return fmt(r.min) === fmt(r.max) ? fmt(r.min) : `${fmt(r.min)}–${fmt(r.max)}`;
}

const span = (values: number[], fmt: (v: number) => string) =>
  spanText(values.reduce<Range | null>((r, v) => widen(r, v), null)!, fmt);

/** Size down to the pixel, score down to the hundredth: the values a setting must not exceed to keep them. */
export const floorPx = (v: number) => String(Math.floor(v));
export const floorScore = (v: number) => (Math.floor(v * 100) / 100).toFixed(2).replace(/0$/, '');

/** Why a photo whose faces were all left out gave no crop ("no face found" when there was none to leave). */
export function whyNoKeptFace(fates: readonly Fate[], s: { minScore: number; minFace: number }): string {
  const of = (status: Fate['status']) => fates.filter((f) => f.status === status);
  const small = of('small');
  const low = of('low-score');
  const dropped = of('dropped');
  const parts: string[] = [];
  if (small.length) {
    const sizes = span(
      small.map((f) => f.size),
      floorPx,
    );
    parts.push(`${faces(small.length)} too small (${sizes} px; the minimum is ${s.minFace})`);
  }
  if (low.length) {
    const scores = span(
      low.map((f) => f.score),
      floorScore,
    );
    parts.push(`${faces(low.length)} below score ${s.minScore} (${scores})`);
  }
  if (dropped.length) parts.push(`${faces(dropped.length)} dropped by a person`);
  return parts.length ? parts.join('; ') : 'no face found';
}
