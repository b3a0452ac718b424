#!/usr/bin/env node
// After an e2e run: the screenshots of tests/e2e/out/ made small (1000 px wide, 256-colour PNG)
// into resources/screenshots/ for the README. `node tests/e2e/publish-screenshots.mjs`
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const here = new URL('.', import.meta.url).pathname;
const from = join(here, 'out');
const to = join(here, '..', '..', 'resources', 'screenshots');
mkdirSync(to, { recursive: true });
const keep = [
  'datasets',
  'dataset',
  'pretrain',
  'run',
  'runs',
  'compare',
  'finetune',
  'finetune-run',
  'system',
  'label-schema',
  'label-one',
  'label-grid',
  'label-progress',
  'label-uncertainty',
  'faces-in-photo',
  'datasets-with-faces',
  'run-probe',
  'run-torchrun',
  'pretrain-carry-on',
  'run-see',
  'run-cluster-pack',
  'pretrain-duration',
  'landmarks-run',
  'pose-axes',
  'parsing-run',
  'parsing-overlay',
  'parsing-brush',
];
for (const f of readdirSync(from).filter((f) => keep.includes(f.replace(/\.png$/, '')))) {
  const out = join(to, f);
  await sharp(join(from, f))
    .resize({ width: 1000 })
    .png({ palette: true, quality: 90, compressionLevel: 9 })
    .toFile(out);
  console.log(out);
}
