// Rendered cartoon faces whose expression and attributes are known: a learnable signal for the
// fine-tuning tests (librsvg through sharp). Skin, background, position, size and eye gaze vary.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../trainer/src/util/rng.js';
import { tempDir } from './folders.js';

export const EXPRESSIONS = ['smile', 'frown', 'surprise'] as const;
export type Expression = (typeof EXPRESSIONS)[number];

export interface FaceSpec {
  expression: Expression;
  glasses: boolean;
}

export function faceSvg(spec: FaceSpec, rng: Rng, size = 64): string {
  const cx = 32 + rng.uniform(-3, 3);
  const cy = 32 + rng.uniform(-3, 3);
  const r = rng.uniform(22, 27);
  const skin = `hsl(${rng.int(15, 40)}, ${rng.int(30, 60)}%, ${rng.int(45, 80)}%)`;
  const bg = `hsl(${rng.int(0, 359)}, ${rng.int(10, 40)}%, ${rng.int(60, 90)}%)`;
  const ey = cy - r * 0.25;
  const ex = r * 0.38;
  const my = cy + r * 0.42;
  const mw = r * 0.6;
  let mouth: string;
  if (spec.expression === 'smile')
    mouth = `<path d="M ${cx - mw} ${my - 5} Q ${cx} ${my + 14} ${cx + mw} ${my - 5}" stroke="#400" stroke-width="5" fill="none"/>`;
  else if (spec.expression === 'frown')
    mouth = `<path d="M ${cx - mw} ${my + 6} Q ${cx} ${my - 12} ${cx + mw} ${my + 6}" stroke="#400" stroke-width="5" fill="none"/>`;
  else mouth = `<ellipse cx="${cx}" cy="${my}" rx="${mw * 0.45}" ry="${mw * 0.6}" fill="#300"/>`;
  const glasses = spec.glasses
    ? `<circle cx="${cx - ex}" cy="${ey}" r="6" stroke="#111" stroke-width="2.5" fill="none"/><circle cx="${cx + ex}" cy="${ey}" r="6" stroke="#111" stroke-width="2.5" fill="none"/><line x1="${cx - ex + 6}" y1="${ey}" x2="${cx + ex - 6}" y2="${ey}" stroke="#111" stroke-width="2.5"/>`
    : '';
  const gaze = rng.uniform(-1, 1);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 64 64">
<rect width="64" height="64" fill="${bg}"/>
<ellipse cx="${cx}" cy="${cy}" rx="${r * 0.85}" ry="${r}" fill="${skin}"/>
<circle cx="${cx - ex + gaze}" cy="${ey}" r="2.5" fill="#111"/><circle cx="${cx + ex + gaze}" cy="${ey}" r="2.5" fill="#111"/>
${glasses}${mouth}</svg>`;
}

/** n faces per expression in <root>/<expression>/, optionally in train/val/test sub-folders. */
export async function expressionFolders(perClass: number, seed: number): Promise<string> {
  const root = tempDir('rendered');
  const rng = new Rng(seed);
  for (const e of EXPRESSIONS) {
    mkdirSync(join(root, e), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      await sharp(Buffer.from(faceSvg({ expression: e, glasses: rng.bernoulli(0.5) }, rng)))
        .png()
        .toFile(join(root, e, `${i}.png`));
    }
  }
  return root;
}

/** A multi-label CSV dataset (Smiling, Eyeglasses) of rendered faces. */
export async function attributeCsv(n: number, seed: number): Promise<string> {
  const root = tempDir('rendered-far');
  const rng = new Rng(seed);
  const rows = ['path,Smiling,Eyeglasses'];
  for (let i = 0; i < n; i++) {
    const spec: FaceSpec = { expression: rng.bernoulli(0.5) ? 'smile' : 'frown', glasses: rng.bernoulli(0.5) };
    await sharp(Buffer.from(faceSvg(spec, rng)))
      .png()
      .toFile(join(root, `f${i}.png`));
    rows.push(`f${i}.png,${spec.expression === 'smile' ? 1 : -1},${spec.glasses ? 1 : -1}`);
  }
  writeFileSync(join(root, 'labels.csv'), `${rows.join('\n')}\n`);
  return root;
}
