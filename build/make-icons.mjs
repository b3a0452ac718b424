#!/usr/bin/env node
// The app's icons from build/icon.svg (sharp): build/icon.png at 1024 px, from which
// electron-builder makes the macOS .icns and the Windows .ico, and build/icons/<n>x<n>.png for Linux.
import sharp from 'sharp';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const svg = join(here, 'icon.svg');
await sharp(svg, { density: 288 }).resize(1024, 1024).png().toFile(join(here, 'icon.png'));
mkdirSync(join(here, 'icons'), { recursive: true });
for (const n of [16, 32, 48, 64, 128, 256, 512])
  await sharp(svg, { density: 288 })
    .resize(n, n)
    .png()
    .toFile(join(here, 'icons', `${n}x${n}.png`));
console.log(`icons written under ${here}`);
