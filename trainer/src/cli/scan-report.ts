/**
 * The lines `camd scan` prints for a person: the index's counts with every unreadable and every
 * skipped entry named, and for `--faces` what became of the faces — with, when no face was kept,
 * the photos named with why and the settings that would keep them instead of a pre-training line.
 */
import type { ScanReport } from '../api/index.js';
import type { FaceReport } from '../faces/ingest.js';
import { floorPx, floorScore, spanText } from '../faces/unkept.js';

/** Entries sharing one reason named one a line up to this many; past it one line names the first few. */
const GROUP_NAMED = 5;
/** Photos without a kept face named in the lines (the JSON report names more). */
const PHOTOS_NAMED = 10;

/** `N readable image(s), N unreadable file(s), N skipped`, the word for the files given. */
export function countsLine(r: ScanReport, what: 'image' | 'photo'): string {
  return `  ${r.images} readable ${what}(s), ${r.bad.length} unreadable file(s)${r.skippedTotal ? `, ${r.skippedTotal} skipped` : ''}`;
}

export function unreadableLines(r: ScanReport): string[] {
  return r.bad.map((b) => `  unreadable: ${b.path}: ${b.reason}`);
}

/** Each skipped entry with its reason; many with one reason (a folder of text files) as one line. */
export function skippedLines(r: ScanReport): string[] {
  const groups = new Map<string, string[]>();
  for (const s of r.skipped) groups.set(s.reason, [...(groups.get(s.reason) ?? []), s.path]);
  const lines: string[] = [];
  for (const [reason, paths] of groups) {
    if (paths.length <= GROUP_NAMED) for (const p of paths) lines.push(`  skipped: ${p}: ${reason}`);
    else
      lines.push(
        `  skipped ${paths.length} file(s): ${reason}: ${paths.slice(0, GROUP_NAMED).join(', ')} and ${paths.length - GROUP_NAMED} more (all in camd scan --json)`,
      );
  }
  const unnamed = r.skippedTotal - r.skipped.length;
  if (unnamed > 0) lines.push(`  … and ${unnamed} more not read, past the ${r.skipped.length} a report names`);
  return lines;
}

/**
 * What keeping a face of `px` photo pixels costs in sharpness: its crop (the face and its margin)
 * is enlarged from that many photo pixels to the crop's side.
 */
function enlargement(r: FaceReport, px: number): string {
  const from = Math.max(1, Math.floor(px) * (1 + 2 * r.settings.margin));
  const times = r.settings.size / from;
  return times > 1
    ? `a crop of the smallest is enlarged ${times.toFixed(1)}× from ${Math.round(from)} photo pixels, and is that much blurrier`
    : 'their crops are not enlarged';
}

/** What to try to keep the faces left out, each as [flag and value, what it does]; `--tiles` only when asked (no face kept at all). */
function settingsToTry(r: FaceReport, tiles: boolean): [string, string][] {
  const tries: [string, string][] = [];
  const { small, lowScore } = r.notKept;
  if (small)
    tries.push([
      `--min-face ${floorPx(small.min)}`,
      `to keep the faces too small (${spanText(small, floorPx)} px; ${enlargement(r, small.min)})`,
    ]);
  if (lowScore)
    tries.push([
      `--min-score ${floorScore(lowScore.min)}`,
      `to keep the faces below the score (${spanText(lowScore, floorScore)}; some may not be faces)`,
    ]);
  if (tiles && r.photos.noFaceFound > 0 && r.settings.tiles === 1)
    tries.push([
      '--tiles 2',
      'to look for small faces in the photos where none was found (about 5 detections a photo)',
    ]);
  return tries;
}

/** Photos without a kept face, named with why (those with no face at all left out when `foundOnly`). */
function photoLines(r: FaceReport, foundOnly: boolean): string[] {
  const photos = r.photos.withoutKeptFaceExamples.filter((p) => !foundOnly || p.reason !== 'no face found');
  const total = r.photos.withoutKeptFace - (foundOnly ? r.photos.noFaceFound : 0);
  const lines = photos.slice(0, PHOTOS_NAMED).map((p) => `    ${p.path}: ${p.reason}`);
  if (total > lines.length) lines.push(`    … and ${total - lines.length} more (camd scan --faces --json names them)`);
  return lines;
}

/**
 * In place of the pre-training line: when no face was kept, that, the photos with why, and what to
 * try; when some photos' faces were all left out, those photos and what to try.
 */
export function facesOutcomeLines(r: FaceReport, pretrainLine: string): string[] {
  const noFace = r.derived.images === 0;
  const tries = settingsToTry(r, noFace).map(([flag, what]) => `  try ${flag} ${what}`);
  if (noFace)
    return [
      `  no face kept: ${r.photos.withoutKeptFace} photo(s) without a usable face`,
      ...photoLines(r, false),
      ...tries,
    ];
  const leftOut = r.photos.withoutKeptFace - r.photos.noFaceFound;
  return [
    ...(leftOut > 0 ? [`  faces found but none kept in ${leftOut} photo(s):`, ...photoLines(r, true), ...tries] : []),
    pretrainLine,
  ];
}

/** The one line of a `--faces` scan that kept no face (exit 2): what to try, for the app's job list too. */
export function noFaceKeptMessage(r: FaceReport, dir: string): string {
  const tries = settingsToTry(r, true).map(([flag]) => flag);
  const next = tries.length
    ? `try ${tries.join(', ')}`
    : r.faces.found === 0
      ? 'the detector found no face in them'
      : `${r.faces.found} face(s) found, none kept (the report says why)`;
  return `no face kept in ${dir}: ${r.photos.withoutKeptFace} photo(s) without a usable face; ${next}`;
}

/** The one line of a plain scan that found no readable image (exit 2): the first unreadable or skipped entry says why. */
export function noImageMessage(r: ScanReport, dir: string): string {
  const bad = r.bad[0];
  const skipped = r.skipped[0];
  return `no readable image in ${dir}${bad ? `; ${r.bad.length} file(s) could not be read, e.g. ${bad.path}: ${bad.reason}` : ''}${skipped ? `; ${r.skippedTotal} skipped, e.g. ${skipped.path}: ${skipped.reason}` : ''}`;
}
