/**
 * The face-parsing datasets' own files, read into one shape (parsing-sample.ts):
 *
 *   'lapa'           LaPa's train/ and test/ (images/*.jpg, labels/*.png), 11 classes  → read-lapa.ts
 *   'celebamask-hq'  CelebA-HQ-img/ + CelebAMask-HQ-mask-anno/ part masks, 19 classes  → read-celebamask.ts
 *
 * Each module's comment names exactly which files it reads.
 */
import { PARSING_FORMAT_NAMES, type ParsingFormatName } from '../protocol/geometry-specs.js';
import { CamdError } from '../util/errors.js';
import type { ParsingScheme } from './parsing-classes.js';
import { readCelebAMask } from './read-celebamask.js';
import { readLapa } from './read-lapa.js';
import type { ParsingDataset } from './parsing-sample.js';

export type ParsingFormat = ParsingFormatName;
export const PARSING_FORMATS: readonly ParsingFormat[] = PARSING_FORMAT_NAMES;

export const FORMAT_PARSING_SCHEME: Record<ParsingFormat, ParsingScheme> = {
  lapa: 'lapa-11',
  'celebamask-hq': 'celebamask-19',
};

export function readParsingDataset(format: ParsingFormat, root: string): Promise<ParsingDataset> {
  switch (format) {
    case 'lapa':
      return readLapa(root);
    case 'celebamask-hq':
      return readCelebAMask(root);
    default:
      throw new CamdError('usage', `unknown parsing format '${format as string}' (${PARSING_FORMATS.join(', ')})`);
  }
}
