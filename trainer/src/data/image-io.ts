/**
 * Decoding and resizing images: sharp (libvips, prebuilt binaries inside npm packages) for
 * JPEG, PNG and WebP; bmp-ts for BMP, which sharp's libvips build does not read.
 * Every failure is classified into a reason a user can act on.
 */
import sharp from 'sharp';
import { decode as decodeBmp } from 'bmp-ts';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.bmp'] as const;

/** Default refusal threshold for decompression bombs (pixels); configurable with --max-pixels. */
export { DEFAULT_MAX_PIXELS } from '../protocol/defaults.js';
import { DEFAULT_MAX_PIXELS } from '../protocol/defaults.js';
import { resample } from './resample.js';
import { cmykToRgb } from './cmyk.js';

export type { RgbImage } from './rgb-image.js';
import type { RgbImage } from './rgb-image.js';

export type ProbeResult = { ok: true; width: number; height: number; format: string } | { ok: false; reason: string };

export class ImageError extends Error {}

function isBmp(buf: Buffer): boolean {
  return buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d; // 'BM'
}

function bmpHeaderSize(buf: Buffer): { width: number; height: number } | null {
  if (buf.length < 26) return null;
  const headerSize = buf.readUInt32LE(14);
  if (headerSize === 12) return { width: buf.readUInt16LE(18), height: buf.readUInt16LE(20) }; // OS/2 core header
  return { width: buf.readInt32LE(18), height: Math.abs(buf.readInt32LE(22)) };
}

function tooLarge(w: number, h: number, maxPixels: number): string | null {
  return w * h > maxPixels
    ? `too large: ${w}×${h} = ${(w * h).toLocaleString('en-US')} pixels exceeds the limit of ${maxPixels.toLocaleString('en-US')} (decompression-bomb guard, --max-pixels)`
    : null;
}

/** The pixel count named by a "too large" reason (null for any other reason). */
export function tooLargePixels(reason: string | null): number | null {
  const m = /^too large: (\d+)×(\d+) = /.exec(reason ?? '');
  return m ? Number(m[1]) * Number(m[2]) : null;
}

function classify(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/unsupported image format|Input buffer contains unsupported/i.test(msg))
    return 'not an image (unsupported or unrecognised format)';
  if (
    /premature end|truncated|unexpected end|Premature|short read|not enough data|end of (file|stream)|corrupt/i.test(
      msg,
    )
  )
    return `truncated or corrupt image data (${msg.split('\n')[0]})`;
  if (/pixel limit/i.test(msg)) return 'too large (exceeds the pixel limit)';
  return `cannot decode: ${msg.split('\n')[0]}`;
}

function decodeBmpRgb(buf: Buffer, maxPixels: number): RgbImage {
  const size = bmpHeaderSize(buf);
  if (!size || size.width <= 0 || size.height <= 0) throw new ImageError('not an image (bad BMP header)');
  const big = tooLarge(size.width, size.height, maxPixels);
  if (big) throw new ImageError(big);
  let img;
  try {
    img = decodeBmp(buf, { toRGBA: true });
  } catch (e) {
    throw new ImageError(`truncated or corrupt BMP (${(e as Error).message})`);
  }
  const expected = img.width * img.height * 4;
  if (img.data.length < expected) throw new ImageError('truncated BMP (pixel data shorter than the header says)');
  const rgb = new Uint8Array(img.width * img.height * 3);
  for (let i = 0, j = 0; i < expected; i += 4, j += 3) {
    rgb[j] = img.data[i]!;
    rgb[j + 1] = img.data[i + 1]!;
    rgb[j + 2] = img.data[i + 2]!;
  }
  return { width: img.width, height: img.height, data: rgb };
}

/** Fully decodes an image (so truncation is caught) to RGB, refusing images over maxPixels. */
export async function decodeRgb(buf: Buffer, maxPixels = DEFAULT_MAX_PIXELS): Promise<RgbImage & { format: string }> {
  if (buf.length === 0) throw new ImageError('zero bytes (empty file)');
  if (isBmp(buf)) return { ...decodeBmpRgb(buf, maxPixels), format: 'bmp' };
  let meta;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageError(classify(e));
  }
  if (!meta.width || !meta.height || !meta.format) throw new ImageError('not an image (no dimensions)');
  if (!['jpeg', 'png', 'webp'].includes(meta.format))
    throw new ImageError(`not a supported image (format ${meta.format})`);
  const big = tooLarge(meta.width, meta.height, maxPixels);
  if (big) throw new ImageError(big);
  try {
    const { data, width, height } = await decodePixels(buf, maxPixels, meta.space === 'cmyk');
    return { width, height, data, format: meta.format };
  } catch (e) {
    if (e instanceof ImageError) throw e;
    // the header was readable, the pixel data was not (libvips' message can be generic under concurrency)
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new ImageError(/pixel limit/i.test(msg ?? '') ? classify(e) : `truncated or corrupt image data (${msg})`);
  }
}

/**
 * The pixels as Pillow's `Image.open(f).convert('RGB')` gives them, the reference's loader: an
 * embedded ICC profile is not applied (the stored values are read; libvips would convert through
 * it), and CMYK becomes RGB by Pillow's formula (data/cmyk.ts) rather than through a CMYK profile.
 * Unlike Pillow, the EXIF orientation is honoured.
 */
async function decodePixels(buf: Buffer, maxPixels: number, cmyk: boolean): Promise<RgbImage> {
  const image = sharp(buf, { failOn: 'truncated', limitInputPixels: maxPixels, ignoreIcc: true }).rotate();
  const { data, info } = await (cmyk
    ? image.pipelineColourspace('cmyk').toColourspace('cmyk')
    : image.removeAlpha().toColourspace('srgb')
  )
    .raw()
    .toBuffer({ resolveWithObject: true });
  const pixels = new Uint8Array(data.buffer, data.byteOffset, data.length);
  if (cmyk && info.channels >= 4)
    return { width: info.width, height: info.height, data: cmykToRgb(pixels, info.channels) };
  if (info.channels !== 3) throw new ImageError(`unexpected ${info.channels} channels after decoding`);
  return { width: info.width, height: info.height, data: pixels };
}

/** Images up to this many pixels are resized exactly as PIL (data/resample.ts); larger ones by libvips. */
export const PIL_EXACT_MAX_PIXELS = 2_000_000;

/**
 * Resizes so that the shorter side is `side` and the longer ⌊side·long/short⌋ (torchvision's
 * Resize(side) rule), bicubic. Images whose shorter side is already ≤ `side` are upscaled too, so
 * every cached image has the same shorter side. Up to 2 MP (face datasets: CelebA 178×218, RAF-DB
 * 100×100) the bytes are PIL's, as the reference's evaluation transform makes them; a larger photo
 * goes through libvips, about ten times faster there (its resize is shifted by up to half a pixel).
 */
export async function resizeShorterSide(img: RgbImage, side: number): Promise<RgbImage> {
  const short = Math.min(img.width, img.height);
  const long = Math.max(1, Math.floor((side * Math.max(img.width, img.height)) / short));
  const width = img.width <= img.height ? side : long;
  const height = img.width <= img.height ? long : side;
  if (img.width * img.height <= PIL_EXACT_MAX_PIXELS) {
    return { width, height, data: resample(img, { i: 0, j: 0, h: img.height, w: img.width }, width, height) };
  }
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
