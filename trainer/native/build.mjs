#!/usr/bin/env node
// Builds the optional native OpenBLAS addon (trainer/native) when OpenBLAS's C headers exist.
// Never fails the install: without it, the wasm backend multiplies matrices with XNNPACK.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const headers = ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h', '/usr/include/openblas/cblas.h'];
if (process.env.CAMD_NATIVE_BLAS === '0') {
  console.log('[native] skipped: CAMD_NATIVE_BLAS=0');
  process.exit(0);
}
if (!headers.some(existsSync)) {
  console.log('[native] OpenBLAS headers not found (Debian/Ubuntu: apt-get install libopenblas-dev); the wasm backend will use XNNPACK for matMul');
  process.exit(0);
}
try {
  const gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  execFileSync(process.execPath, [gyp, 'rebuild', '--release'], { cwd: here, stdio: ['ignore', 'ignore', 'pipe'] });
  console.log(`[native] built ${join(here, 'build', 'Release', 'camd_blas.node')}`);
} catch (e) {
  rmSync(join(here, 'build'), { recursive: true, force: true });
  console.log(`[native] build failed, using XNNPACK for matMul: ${String(e.stderr ?? e.message).split('\n').filter(Boolean).slice(-3).join(' | ')}`);
}
