/**
 * Label maps as PNG files: one class index per pixel, read as the stored values (no colour
 * management, no resampling) and written as 8-bit greyscale PNGs, through sharp (the project's
 * image library). A palette PNG is refused: libvips expands it to colours and the indices are lost.
 * A multi-channel PNG gives its first channel, as CelebAMask-HQ's g_mask.py reads its part masks
 * (`cv2.imread(f)[:, :, 0]`).
 */
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { CamdError } from '../util/errors.js';

export interface LabelMap {
  width: number;
  height: number;
  /** Row-major class indices, width·height. */
  data: Uint8Array;
}

/** The label map of a PNG file (its first channel's stored values). */
export async function readLabelPng(file: string): Promise<LabelMap> {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new CamdError('input', `${file}: cannot read the label map (${(e as Error).message})`);
  }
  return labelMapOfPng(buf, file);
}

/** The label map of PNG bytes (its first channel's stored values); `what` names them in errors. */
export async function labelMapOfPng(buf: Uint8Array, what: string): Promise<LabelMap> {
  let meta;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new CamdError('input', `${what}: not a readable label image (${(e as Error).message.split('\n')[0]})`);
  }
  if (meta.format !== 'png')
    throw new CamdError('input', `${what}: a label map must be a PNG (this is ${meta.format})`);
  if (meta.isPalette)
    throw new CamdError(
      'input',
      `${what}: a palette PNG: its class indices are not readable as values (save the label map as 8-bit greyscale)`,
    );
  if (meta.depth !== 'uchar')
    throw new CamdError('input', `${what}: a ${meta.depth} PNG; label maps are read as 8-bit values`);
  const { data, info } = await sharp(buf, { limitInputPixels: false, ignoreIcc: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i * info.channels]!;
  return { width: info.width, height: info.height, data: out };
}

const greyPng = (m: LabelMap) =>
  sharp(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), {
    raw: { width: m.width, height: m.height, channels: 1 },
  })
    .toColourspace('b-w') // one channel: without it libvips writes the map as RGB
    .png();

/** Writes a label map as an 8-bit greyscale PNG. */
export async function writeLabelPng(file: string, m: LabelMap): Promise<void> {
  await greyPng(m).toFile(file);
}

/** A label map as the bytes of an 8-bit greyscale PNG. */
export async function encodeLabelPng(m: LabelMap): Promise<Buffer> {
  return greyPng(m).toBuffer();
}

/** Each class's pixel count in a label map (`classes` entries; a value outside them is refused). */
export function classCounts(m: LabelMap, classes: number, what: string): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < m.data.length; i++) {
    const c = m.data[i]!;
    if (c >= classes)
      throw new CamdError(
        'input',
        `${what}: pixel ${i % m.width},${Math.floor(i / m.width)} has class ${c}; the scheme has ${classes} classes (0–${classes - 1})`,
      );
    counts[c]!++;
  }
  return counts;
}
