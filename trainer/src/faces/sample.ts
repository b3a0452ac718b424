/**
 * Sample faces for a first run without a folder of one's own: the photographs that come inside the
 * face-model package the app already installs (`@vladmandic/human`'s `assets/`: its sample collage
 * and three screenshots of its demo, about 150 real faces of about 60 px), copied beside the store and
 * run through face finding with the settings small faces in group photos need. Nothing is
 * downloaded. `camd pretrain --data sample` and the app's *Try it on sample faces* use it.
 */
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FACE_PACKAGE, facePackageDir, facePackageVersion } from './model-files.js';
import { makeFolder } from '../util/system-errors.js';

/** The package's photographs of people (its other assets are icons, fonts and UI screenshots). */
export const SAMPLE_PHOTOS = [
  'samples.jpg',
  'screenshot-facematch.jpg',
  'screenshot-facedetect.jpg',
  'screenshot-faceid.jpg',
] as const;

/** Face finding for them: faces of 40–80 px in collages, so 3×3 tiles and a 24-px smallest face. */
export const SAMPLE_FACE_SETTINGS = { tiles: 3, minFace: 24 } as const;

/** The folder name of the copied photos, beside the store; also the `--data` word that asks for them. */
export const SAMPLE_WORD = 'sample';

/** Where the sample photographs come from, in words. */
export function sampleSource(): string {
  return `the photographs in ${FACE_PACKAGE}@${facePackageVersion()}'s assets (${SAMPLE_PHOTOS.join(', ')})`;
}

/** Copies the sample photographs into `dir` (once; a copy of the same size is kept) and returns it. */
export function copySamplePhotos(dir: string): string {
  const from = join(facePackageDir(), 'assets');
  makeFolder(dir, 'the folder of the sample photographs');
  for (const f of SAMPLE_PHOTOS) {
    const src = join(from, f);
    if (!existsSync(src)) throw new Error(`the sample photograph ${src} is missing: reinstall with npm run setup`);
    const dst = join(dir, f);
    if (!existsSync(dst) || statSync(dst).size !== statSync(src).size) copyFileSync(src, dst);
  }
  return dir;
}
