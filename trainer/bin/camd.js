#!/usr/bin/env node
// Thin launcher for the compiled CLI (built by `npm run build`, part of `npm run setup`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, '..', 'dist', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write('camd: the trainer is not built; run `npm run setup` (or `npm run build`) first\n');
  process.exit(2);
}
await import(entry);
