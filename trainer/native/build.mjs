#!/usr/bin/env node
// Builds the optional native addons (trainer/native): camd_ops (fused element-wise kernels, needs
// only a C compiler) and camd_blas (GEMM over OpenBLAS, when OpenBLAS's C headers exist).
// Never fails the install (without them the wasm backend runs its own kernels and XNNPACK),
// except under CAMD_REQUIRE_NATIVE=1 (CI), where an addon that should build and does not is an error.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const headers = [
  '/usr/include/cblas.h',
  '/usr/include/x86_64-linux-gnu/cblas.h',
  '/usr/include/aarch64-linux-gnu/cblas.h',
  '/usr/include/openblas/cblas.h',
];
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
const strict = process.env.CAMD_REQUIRE_NATIVE === '1'; // CI: an addon that should build and does not is an error
const gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const build = (blas) =>
  execFileSync(process.execPath, [gyp, 'rebuild', '--release', `--with_blas=${blas ? 1 : 0}`], {
    cwd: here,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
// the compiler's own error lines when there are some, else the tail of node-gyp's output
const why = (e) => {
  const lines = String(e.stderr ?? e.message)
    .split('\n')
    .filter(Boolean);
  const errors = lines.filter((l) => /error/i.test(l) && !/gyp (ERR|info)/.test(l));
  return (errors.length ? errors.slice(0, 2) : lines.slice(-3)).join(' | ');
};
const failed = [];
try {
  build(withBlas);
  for (const name of withBlas ? ['camd_ops', 'camd_blas'] : ['camd_ops'])
    console.log(`[native] built ${join(here, 'build', 'Release', `${name}.node`)}`);
} catch (e) {
  // one addon failing must not cost the other: without OpenBLAS, build camd_ops alone
  if (withBlas) {
    console.log(`[native] camd_blas failed to build (the wasm backend will use XNNPACK for matMul): ${why(e)}`);
    failed.push('camd_blas');
    try {
      build(false);
      console.log(`[native] built ${join(here, 'build', 'Release', 'camd_ops.node')}`);
    } catch (e2) {
      failed.push('camd_ops');
      rmSync(join(here, 'build'), { recursive: true, force: true });
      console.log(`[native] camd_ops failed to build, using the wasm kernels: ${why(e2)}`);
    }
  } else {
    failed.push('camd_ops');
    rmSync(join(here, 'build'), { recursive: true, force: true });
    console.log(`[native] camd_ops failed to build, using the wasm kernels: ${why(e)}`);
  }
}
if (strict && (failed.length || (!withBlas && process.env.CAMD_NATIVE_BLAS !== '0'))) {
  console.error(
    `[native] CAMD_REQUIRE_NATIVE=1: ${failed.length ? `${failed.join(' and ')} did not build` : 'OpenBLAS headers are missing, so camd_blas cannot build'}`,
  );
  process.exit(1);
}
