import { defineConfig } from 'vitest/config';

export default defineConfig({
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
