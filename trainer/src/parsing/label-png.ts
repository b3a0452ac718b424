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
  let meta;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new CamdError('input', `${file}: not a readable label image (${(e as Error).message.split('\n')[0]})`);
  }
  if (meta.format !== 'png')
    throw new CamdError('input', `${file}: a label map must be a PNG (this is ${meta.format})`);
  if (meta.isPalette)
    throw new CamdError(
      'input',
      `${file}: a palette PNG: its class indices are not readable as values (save the label map as 8-bit greyscale)`,
    );
  if (meta.depth !== 'uchar')
    throw new CamdError('input', `${file}: a ${meta.depth} PNG; label maps are read as 8-bit values`);
  const { data, info } = await sharp(buf, { limitInputPixels: false, ignoreIcc: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i * info.channels]!;
  return { width: info.width, height: info.height, data: out };
}

/** Writes a label map as an 8-bit greyscale PNG. */
export async function writeLabelPng(file: string, m: LabelMap): Promise<void> {
  await sharp(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), {
    raw: { width: m.width, height: m.height, channels: 1 },
  })
    .toColourspace('b-w') // one channel: without it libvips writes the map as RGB
    .png()
    .toFile(file);
}
