/**
 * The check of a parsing label map a person saves (`saveGeometryLabel`'s checkMask): the PNG is
 * decoded by the project's image library (sharp, through parsing/label-png.ts: 8-bit, not a palette)
 * before the save, since decoding is asynchronous and the save's check is not; the check then holds
 * the decoded map to the stored image's size and the scheme's classes. `saveParsingLabel` is the
 * two together: the save of a brush's correction.
 */
import type Database from 'better-sqlite3';
import sharp from 'sharp';
import { CamdError } from '../util/errors.js';
import { classCounts, type LabelMap, labelMapOfPng } from '../parsing/label-png.js';
import { CLASS_MAPS, type ParsingScheme } from '../parsing/parsing-classes.js';
import { type GeometryLabel, saveGeometryLabel } from './geometry-labels.js';

export type MaskCheck = (png: Uint8Array, width: number, height: number, classes: number) => void;

/**
 * A saved map is one channel: a dataset's file may carry its classes in the first of several
 * channels (CelebAMask-HQ's masks are read so), but a map a person saves must say one thing per pixel.
 */
async function decode(png: Uint8Array): Promise<LabelMap> {
  let channels: number | undefined;
  try {
    channels = (await sharp(png, { limitInputPixels: false }).metadata()).channels;
  } catch {
    channels = undefined; // labelMapOfPng says why it cannot be read
  }
  if (channels !== undefined && channels !== 1)
    throw new CamdError(
      'input',
      `the label map has ${channels} channels: save it as an 8-bit greyscale PNG (one class index per pixel)`,
      'mask',
    );
  try {
    return await labelMapOfPng(png, 'the label map');
  } catch (e) {
    throw new CamdError('input', (e as Error).message, 'mask');
  }
}

function checkOf(m: LabelMap, png: Uint8Array): MaskCheck {
  return (bytes, width, height, classes) => {
    if (bytes !== png) throw new CamdError('internal', 'the label map checked is not the one decoded');
    if (m.width !== width || m.height !== height)
      throw new CamdError('input', `the label map is ${m.width}×${m.height}; the image is ${width}×${height}`, 'mask');
    try {
      classCounts(m, classes, 'the label map');
    } catch (e) {
      throw new CamdError('input', (e as Error).message, 'mask');
    }
  };
}

/** Decodes `png` and returns the check saveGeometryLabel calls with the image's size and the scheme's class count. */
export async function parsingMaskCheck(png: Uint8Array): Promise<MaskCheck> {
  return checkOf(await decode(png), png);
}

/**
 * Saves a person's parsing label map of an image (an 8-bit greyscale PNG of the image's size, the
 * scheme's classes), replacing the image's earlier one of the scheme; returns what was stored and
 * each class's pixels.
 */
export async function saveParsingLabel(
  db: Database.Database,
  imageId: number,
  scheme: ParsingScheme,
  png: Uint8Array,
  who: { labeller: string; source: string },
): Promise<{ label: GeometryLabel; counts: number[] }> {
  const m = await decode(png);
  const label = saveGeometryLabel(db, imageId, { task: 'parsing', scheme, mask: png }, who, checkOf(m, png));
  return { label, counts: classCounts(m, CLASS_MAPS[scheme].names.length, 'the label map') };
}
