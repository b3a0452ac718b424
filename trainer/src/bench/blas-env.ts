/**
 * Both sides of the PyTorch comparison run Debian's OpenBLAS, and its kernels must be chosen the
 * same way for both. Some machines set OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) in every shell: one
 * VM here sets Haswell on an AVX-512 CPU, where OpenBLAS alone picks Cooperlake and its 512³
 * matMul runs about twice as fast. The Python step processes have always had these set aside
 * (PyTorch at its best); the bench now sets them aside for its own process too, before OpenBLAS
 * loads, so each side runs OpenBLAS's own choice (ours raised by backends/native.ts only where
 * that choice is older than Haswell). `--keep-openblas-env` keeps them for both sides instead.
 */

/** The OpenBLAS settings that pick or tune its kernels. */
export const KERNEL_CHOICE_VARS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

/** Removes the kernel-choice settings from `env` unless `keep`; returns what was removed ("NAME=value"). */
export function setAsideKernelChoice(env: NodeJS.ProcessEnv, keep: boolean): string[] {
  if (keep) return [];
  const removed: string[] = [];
  for (const name of KERNEL_CHOICE_VARS) {
    const v = env[name];
    if (v === undefined) continue;
    removed.push(`${name}=${v}`);
    delete env[name];
  }
  return removed;
}
