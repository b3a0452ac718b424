/** Where the bundled face models live and what they are called (no TensorFlow.js here: the app's process reads this). */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const require = createRequire(import.meta.url);

export const FACE_PACKAGE = '@vladmandic/human';

export function facePackageDir(): string {
  return resolve(dirname(require.resolve(FACE_PACKAGE)), '..');
}

export function facePackageVersion(): string {
  return (JSON.parse(readFileSync(join(facePackageDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** What made a detection: recorded with every cached result, so a different model is a different key. */
export function detectorId(tiles = 1): string {
  return `${FACE_PACKAGE}@${facePackageVersion()} blazeface+facemesh+iris+faceres v5${tiles > 1 ? ` tiles ${tiles}×${tiles}` : ''}`;
}

/** Where the age/gender/expression suggestions come from, recorded with each. */
export function suggestionSource(): string {
  return `${FACE_PACKAGE}@${facePackageVersion()} faceres (age, gender) + emotion`;
}
