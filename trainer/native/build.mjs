#!/usr/bin/env node
// Builds the optional native addons (trainer/native): camd_ops (fused element-wise kernels, needs
// only a C compiler) and camd_blas (GEMM over OpenBLAS, when OpenBLAS's C headers exist).
// Never fails the install: without them, the wasm backend runs its own kernels and XNNPACK.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const headers = ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h', '/usr/include/openblas/cblas.h'];
if (process.env.CAMD_NATIVE === '0') {
  console.log('[native] skipped: CAMD_NATIVE=0');
  process.exit(0);
}
const withBlas = process.env.CAMD_NATIVE_BLAS !== '0' && headers.some(existsSync);
if (!withBlas) {
  console.log(
    process.env.CAMD_NATIVE_BLAS === '0'
      ? '[native] OpenBLAS addon skipped: CAMD_NATIVE_BLAS=0'
      : '[native] OpenBLAS headers not found (Debian/Ubuntu: apt-get install libopenblas-dev); the wasm backend will use XNNPACK for matMul',
  );
}
try {
  const gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  execFileSync(process.execPath, [gyp, 'rebuild', '--release', `--with_blas=${withBlas ? 1 : 0}`], { cwd: here, stdio: ['ignore', 'ignore', 'pipe'] });
  for (const name of withBlas ? ['camd_ops', 'camd_blas'] : ['camd_ops']) console.log(`[native] built ${join(here, 'build', 'Release', `${name}.node`)}`);
} catch (e) {
  rmSync(join(here, 'build'), { recursive: true, force: true });
  console.log(`[native] build failed, using the wasm kernels and XNNPACK: ${String(e.stderr ?? e.message).split('\n').filter(Boolean).slice(-3).join(' | ')}`);
}
