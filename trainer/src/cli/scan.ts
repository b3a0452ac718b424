/** `camd scan DIR`: the dataset index report (counts, and every unreadable or skipped file with its reason). */
import { resolve } from 'node:path';
import { scan, scanFaces } from '../api/index.js';
import { UserError } from '../util/errors.js';
import { CliConsole, PHASE_LABEL } from './console.js';
import { stopOnSignals } from './signals.js';
import { parseNumber } from './parse.js';
import { FACES_DEFAULTS } from '../protocol/defaults.js';
import { EYE_LINE_UNSURE } from '../faces/eye-line.js';
import {
  countsLine,
  facesOutcomeLines,
  noFaceKeptMessage,
  noImageMessage,
  skippedLines,
  unreadableLines,
} from './scan-report.js';

export interface ScanCliOptions {
  db?: string;
  json?: boolean;
  maxPixels?: string;
  faces?: boolean;
  facesOut?: string;
  minScore?: string;
  minFace?: string;
  margin?: string;
  faceSize?: string;
  dedupe?: string;
  tiles?: string;
}

const FACE_FLAGS = ['facesOut', 'minScore', 'minFace', 'margin', 'faceSize', 'dedupe', 'tiles'] as const;
const FLAG_NAME: Record<(typeof FACE_FLAGS)[number], string> = {
  facesOut: '--faces-out',
  minScore: '--min-score',
  minFace: '--min-face',
  margin: '--margin',
  faceSize: '--face-size',
  dedupe: '--dedupe',
  tiles: '--tiles',
};

export async function scanCommand(dir: string, o: ScanCliOptions): Promise<void> {
  if (o.faces) return facesCommand(dir, o);
  const stray = FACE_FLAGS.find((k) => o[k] !== undefined);
  if (stray) throw new UserError(`${FLAG_NAME[stray]} only applies with --faces`);
  const spec = {
    dir: resolve(dir),
    ...(o.db ? { db: resolve(o.db) } : {}),
    ...(o.maxPixels !== undefined ? { maxPixels: parseNumber('--max-pixels', o.maxPixels, 'int') } : {}),
  };
  const con = new CliConsole();
  const stop = stopOnSignals('the files indexed so far are kept');
  let started = false;
  try {
    const r = await scan(
      spec,
      (e) => {
        if (o.json || e.type !== 'progress' || !con.tty) return;
        if (!started) con.bar(e.total, 0, '{phase} [{bar}] {value}/{total}', { phase: PHASE_LABEL.scanning });
        started = true;
        con.update(e.done);
      },
      stop.signal,
    );
    con.stop();
    if (r.images === 0) {
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      throw new UserError(noImageMessage(r, dir));
    }
    if (o.json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    const lines = [
      `${r.root}`,
      countsLine(r, 'image'),
      `  this scan: ${r.added} added, ${r.changed} changed, ${r.removed} removed, ${r.unchanged} unchanged${r.complete ? '' : ' (stopped: the rest on the next scan)'}`,
      ...unreadableLines(r),
      ...skippedLines(r),
      `  index: ${r.db}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    con.stop();
    stop.dispose();
  }
}

async function facesCommand(dir: string, o: ScanCliOptions): Promise<void> {
  const spec = {
    dir: resolve(dir),
    ...(o.db ? { db: resolve(o.db) } : {}),
    ...(o.maxPixels !== undefined ? { maxPixels: parseNumber('--max-pixels', o.maxPixels, 'int') } : {}),
    ...(o.facesOut !== undefined ? { out: resolve(o.facesOut) } : {}),
    ...(o.minScore !== undefined ? { minScore: parseNumber('--min-score', o.minScore, 'float') } : {}),
    ...(o.minFace !== undefined ? { minFace: parseNumber('--min-face', o.minFace, 'float') } : {}),
    ...(o.margin !== undefined ? { margin: parseNumber('--margin', o.margin, 'float') } : {}),
    ...(o.faceSize !== undefined ? { size: parseNumber('--face-size', o.faceSize, 'int') } : {}),
    ...(o.dedupe !== undefined ? { dedupe: parseNumber('--dedupe', o.dedupe, 'int') } : {}),
    ...(o.tiles !== undefined ? { tiles: parseNumber('--tiles', o.tiles, 'int') } : {}),
  };
  const con = new CliConsole();
  const stop = stopOnSignals('the faces found so far are kept');
  let phase = '';
  try {
    const r = await scanFaces(
      spec,
      (e) => {
        if (o.json) {
          if (e.type === 'progress') process.stdout.write(`${JSON.stringify(e)}\n`); // the app's job bar
          return;
        }
        if (e.type !== 'progress' || !con.tty) return;
        if (e.phase !== phase) {
          con.stop();
          con.bar(e.total, 0, '{phase} [{bar}] {value}/{total}', { phase: PHASE_LABEL[e.phase] });
          phase = e.phase;
        }
        con.update(e.done);
      },
      stop.signal,
    );
    con.stop();
    if (o.json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      if (r.derived.images === 0) throw new UserError(noFaceKeptMessage(r, dir));
      return;
    }
    process.stdout.write(`${facesLines(r, o.db).join('\n')}\n`);
    if (r.derived.images === 0) throw new UserError(noFaceKeptMessage(r, dir));
  } finally {
    con.stop();
    stop.dispose();
  }
}

/** The faces report for a person: the photos' index, what became of the faces, the crops, and what next. */
function facesLines(r: Awaited<ReturnType<typeof scanFaces>>, db: string | undefined): string[] {
  const f = r.faces;
  return [
    `${r.source.root}`,
    countsLine(r.source, 'photo'),
    ...unreadableLines(r.source),
    ...skippedLines(r.source),
    `  faces: ${f.found} found in ${r.photos.withFaces} photo(s); ${r.photos.withoutFace} photo(s) without a usable face${r.photos.withoutFace ? ` (e.g. ${r.photos.withoutFaceExamples.slice(0, 3).join(', ')})` : ''}`,
    `  kept ${f.kept}; not kept: ${f.small} too small (< ${r.settings.minFace} px), ${f.lowScore} below score ${r.settings.minScore}, ${f.repeats} repeated detection(s) of one face, ${f.dropped} dropped by a person${r.settings.dedupe !== null ? `, ${f.collapsed} near-duplicate(s) collapsed (dHash ≤ ${r.settings.dedupe})` : ''}`,
    ...(f.nearDuplicates && r.settings.dedupe === null ? [nearDuplicateLine(r.nearDuplicatePairs)] : []),
    ...(r.eyeLineUnsure.length
      ? [
          `  ${r.eyeLineUnsure.length} crop(s) whose eyes may not be level (the landmarks still turned the eye line more than ${EYE_LINE_UNSURE}° on their last reading, often a turned face): ${r.eyeLineUnsure
            .slice(0, 3)
            .map((e) => `${e.crop} (${e.degrees}°)`)
            .join(', ')}${r.eyeLineUnsure.length > 3 ? ', …' : ''}`,
        ]
      : []),
    `  detections: ${r.detections.computed} photo(s) analysed in ${r.detections.seconds.toFixed(1)} s, ${r.detections.cached} from the cache (${r.settings.detector})`,
    `  face crops (${r.settings.size}×${r.settings.size}, margin ${r.settings.margin}): ${r.derived.root}${r.complete ? '' : ' (stopped: the rest on the next scan)'}; ${r.crops.made} made, ${r.crops.reused} unchanged since the last scan`,
    ...facesOutcomeLines(
      r,
      `  pre-train on them: camd pretrain --data ${shellQuote(r.derived.root)}${db ? ` --db ${shellQuote(resolve(db))}` : ''}`,
    ),
    `  index: ${r.db}`,
  ];
}

function shellQuote(s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The near-duplicates found (not collapsed): how many, an example, and which of them are two people. */
function nearDuplicateLine(pairs: { a: string; b: string; samePerson: boolean }[]): string {
  const same = pairs.filter((p) => p.samePerson);
  const two = pairs.length - same.length;
  const eg = same[0] ?? pairs[0]!;
  return `  ${pairs.length} face(s) look like near-duplicates of another (dHash ≤ ${FACES_DEFAULTS.reportNearDuplicates} bits, e.g. ${eg.a} ~ ${eg.b})${two ? `, ${two} of them two different people by their face descriptions (never collapsed)` : ''}; --dedupe ${FACES_DEFAULTS.reportNearDuplicates} collapses ${two ? 'the others' : 'them'}`;
}
