// Crop + resize as torchvision's resized_crop on a PIL image (trainer/src/data/resample.ts), against
// Pillow's own bytes. The reference was computed offline with Debian's python3-pil (Pillow 9.4.0):
//
//   from PIL import Image; import hashlib
//   W, H = 23, 17
//   px = bytes(((x*37 + y*91 + c*53 + ((x*y) % 17)*7) % 256) for y in range(H) for x in range(W) for c in range(3))
//   im = Image.frombytes('RGB', (W, H), px)
//   r = im.crop((j, i, j + w, i + h)).resize((S, S), Image.BICUBIC)
//   sum(r.tobytes()), hashlib.sha1(r.tobytes()).hexdigest(), list(r.tobytes()[:12])
//
// Enlargements (view-1 crops are mostly enlargements), reductions (antialiased support), both at
// once and an unchanged size: byte for byte.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { resizedCrop } from '../../trainer/src/data/resample.js';

const W = 23;
const H = 17;
const data = new Uint8Array(W * H * 3);
for (let y = 0; y < H; y++)
  for (let x = 0; x < W; x++)
    for (let c = 0; c < 3; c++) data[(y * W + x) * 3 + c] = (x * 37 + y * 91 + c * 53 + ((x * y) % 17) * 7) % 256;
const img = { width: W, height: H, data };

/** [crop (i, j, h, w), S, byte sum, sha1 of the bytes, first 12 bytes] from Pillow 9.4.0. */
const PIL: [[number, number, number, number], number, number, string, number[]][] = [
  [
    [2, 3, 5, 6],
    16,
    96617,
    '6ed87bc3b007cc79227d72982e055a7130d51f72',
    [62, 113, 196, 69, 123, 202, 83, 149, 231, 105, 183, 255],
  ],
  [
    [0, 1, 16, 20],
    7,
    18830,
    '4ca578a11c80157d1fc7a986e805f23536aa7301',
    [119, 132, 147, 127, 134, 137, 105, 115, 137, 107, 140, 130],
  ],
  [
    [1, 2, 15, 10],
    16,
    100273,
    'abb7927c0bd2a309f6179d7a11e74155e93d73d9',
    [178, 250, 24, 209, 147, 42, 218, 14, 74, 66, 40, 101],
  ],
  [
    [4, 4, 9, 9],
    9,
    31591,
    '9aacbd1bd60c2870e6c28b105ada024405c98ad9',
    [112, 165, 218, 58, 111, 164, 123, 176, 229, 188, 241, 38],
  ],
  [
    [0, 0, 17, 23],
    12,
    55072,
    '6cb756817ae2c3ec56371fcb6a2da14088fe4908',
    [43, 106, 158, 123, 142, 158, 129, 160, 153, 127, 102, 119],
  ],
  [
    [3, 5, 7, 3],
    5,
    9229,
    '763dfc6b1dd728bea6229c32e1c0f1bccf71af4b',
    [33, 100, 168, 112, 92, 158, 217, 88, 141, 140, 131, 126],
  ],
];

describe('resizedCrop equals Pillow', () => {
  it.each(PIL)('crop %j to %i×%i', (crop, S, sum, sha1, first) => {
    const [i, j, h, w] = crop;
    const out = resizedCrop(img, { i, j, h, w }, S);
    expect(out.length).toBe(S * S * 3);
    expect(Array.from(out.subarray(0, 12))).toEqual(first);
    expect(out.reduce((a, b) => a + b, 0)).toBe(sum);
    expect(createHash('sha1').update(out).digest('hex')).toBe(sha1);
  });

  it('the decode cache resizes as torchvision Resize(side) on PIL: shorter side → side, longer ⌊side·long/short⌋', async () => {
    // Pillow 9.4: im.resize((13, 10), BICUBIC) and im.resize((40, 30), BICUBIC) of the same image
    const { resizeShorterSide } = await import('../../trainer/src/data/image-io.js');
    for (const [side, w, h, sum, sha1] of [
      [10, 13, 10, 49726, '119bcbc7d4dd639d37901123c7a37f4832e874c0'],
      [30, 40, 30, 458589, '38026cf7c54506966ba2ef33d3b4c4f7bc0540c2'],
    ] as const) {
      const r = await resizeShorterSide(img, side);
      expect([r.width, r.height]).toEqual([w, h]);
      expect(r.data.reduce((a, b) => a + b, 0)).toBe(sum);
      expect(createHash('sha1').update(r.data).digest('hex')).toBe(sha1);
    }
  });

  it('refuses a crop outside the image', () => {
    expect(() => resizedCrop(img, { i: 10, j: 0, h: 10, w: 5 }, 4)).toThrow(/not inside the 23×17 image/);
    expect(() => resizedCrop(img, { i: 0, j: 0.5, h: 3, w: 3 }, 4)).toThrow(/not inside/);
  });
});
