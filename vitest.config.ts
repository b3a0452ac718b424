import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import LongestFirst from './tests/support/sequencer.js';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  plugins: [vue()],
  resolve: {
    // the app's code imports the trainer as a package (built JS at run time); tests run its sources
    alias: [
      { find: /^camd-studio\/trainer\/protocol$/, replacement: src('./trainer/src/api/protocol.ts') },
      {
        find: /^camd-studio\/trainer\/worker-protocol$/,
        replacement: src('./trainer/src/protocol/worker-protocol.ts'),
      },
      { find: /^camd-studio\/trainer$/, replacement: src('./trainer/src/api/index.ts') },
    ],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    // tfjs backends are process-global; each test file gets its own process.
    pool: 'forks',
    // at least two files at a time: most of a file's time is a child process, a browser or a socket
    // (2 cores: 904 s against 1,116 s one at a time, every test passing)
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // two files at a time on two cores: each file's trainer processes get one OpenBLAS thread, not
    // one per core (OpenBLAS's idle threads spin: two concurrent 20-step pre-trainings took 33–34 s
    // with the default, 26–27 s with one thread each, on this 2-core VM)
    env: {
      OPENBLAS_NUM_THREADS: process.env['OPENBLAS_NUM_THREADS'] ?? '1',
      // the native fused kernels' threads (OpenMP), likewise
      OMP_NUM_THREADS: process.env['OMP_NUM_THREADS'] ?? '1',
    },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ['./tests/support/fixtures.ts'],
    // the longest files first (tests/support/sequencer.ts): no long file left to run alone at the end
    sequence: { sequencer: LongestFirst },
    reporters: ['default', './tests/support/summary-reporter.ts'],
  },
});
