// RandAugment's geometric ops (trainer/src/finetune/transforms.ts) against Pillow's Image.rotate /
// Image.transform(AFFINE) with resample=BICUBIC and timm's fill colour (124, 116, 104), as timm's
// RandAugment runs them with the fine-tuning interpolation. Reference computed offline with Debian's
// python3-pil (Pillow 9.4.0) on a 12×12 image:
//
//   px = bytes(((x*37 + y*91 + c*53 + ((x*y) % 17)*7) % 256) for y in range(12) for x in range(12) for c in range(3))
//   im = Image.frombytes('RGB', (12, 12), px); fill = (124, 116, 104)
//   im.rotate(20, resample=Image.BICUBIC, fillcolor=fill)            # and -13: counter-clockwise for positive
//   im.transform(im.size, Image.AFFINE, (1, 0.21, 0, 0, 1, 0), resample=Image.BICUBIC, fillcolor=fill)   # ShearX
//   … (1, 0, 0, -0.17, 1, 0) ShearY, (1, 0, 3.3, 0, 1, 0) and (1, 0, 0, 0, 1, -2.7) translations
//   sum(out.tobytes()), hashlib.sha1(out.tobytes()).hexdigest()
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { applyRandOp, type RandOp } from '../../trainer/src/finetune/transforms.js';

const S = 12;
const base = new Float32Array(S * S * 3);
for (let y = 0; y < S; y++)
  for (let x = 0; x < S; x++)
    for (let c = 0; c < 3; c++) base[(y * S + x) * 3 + c] = (x * 37 + y * 91 + c * 53 + ((x * y) % 17) * 7) % 256;

/** [case, op, magnitude (0–10), sign, byte sum, sha1] — magnitudes chosen so that the op's parameter is the reference's. */
const PIL: [string, RandOp, number, number, number, string][] = [
  ['rotate+20', 'Rotate', 20 / 3, 1, 54113, '6fa96766b7832199c915d71cd6d0d8f00100575e'],
  ['rotate-13', 'Rotate', 13 / 3, -1, 54993, 'ebe9fa6d06c3e09f076cdcff83803e488d432da3'],
  ['shearx0.21', 'ShearX', 7, 1, 54853, '3a0fa1674a7946efda940b8ec37fb9514a2c6103'],
  ['sheary-0.17', 'ShearY', 17 / 3, -1, 54243, 'c86710e9429118ee39660ce6e3b43b6dae1fe1b0'],
  ['translatex3.3', 'TranslateXRel', (3.3 / 0.45 / 12) * 10, 1, 53850, '3e1245891c9a159317dc1597d9f2b8e25e7238df'],
  ['translatey-2.7', 'TranslateYRel', 5, -1, 53508, '5baadecc6234ca56b21f537e749a91c4acf969b9'],
];

describe('RandAugment geometric ops equal Pillow (bicubic, timm fill)', () => {
  it.each(PIL)('%s', (_, op, magnitude, sign, sum, sha1) => {
    const x = base.slice();
    applyRandOp(x, S, { op, apply: true, magnitude, sign });
    const bytes = Uint8Array.from(x);
    expect(bytes.reduce((a, b) => a + b, 0)).toBe(sum);
    expect(createHash('sha1').update(bytes).digest('hex')).toBe(sha1);
  });
});
