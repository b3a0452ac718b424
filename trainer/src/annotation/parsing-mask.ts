/**
 * The check of a parsing label map a person saves (`saveGeometryLabel`'s checkMask): the PNG is
 * decoded by the project's image library (sharp, through parsing/label-png.ts: 8-bit, not a palette)
 * before the save, since decoding is asynchronous and the save's check is not; the check then holds
 * the decoded map to the stored image's size and the scheme's classes.
 */
import { CamdError } from '../util/errors.js';
import { classCounts, labelMapOfPng } from '../parsing/label-png.js';

export type MaskCheck = (png: Uint8Array, width: number, height: number, classes: number) => void;

/** Decodes `png` and returns the check saveGeometryLabel calls with the image's size and the scheme's class count. */
export async function parsingMaskCheck(png: Uint8Array): Promise<MaskCheck> {
  let m;
  try {
    m = await labelMapOfPng(png, 'the label map');
  } catch (e) {
    throw new CamdError('input', (e as Error).message, 'mask');
  }
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
