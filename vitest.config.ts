import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

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
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ['./tests/support/fixtures.ts'],
    reporters: ['default', './tests/support/summary-reporter.ts'],
  },
});
