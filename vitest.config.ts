import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.vigil/**', 'neo4j-server/**'],
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Two cores: files that start chains and databases must not all run at once.
    maxWorkers: 2,
    minWorkers: 1,
    // .ci/run reads the counts from this report (set VIGIL_TEST_REPORT to a path).
    reporters: process.env.VIGIL_TEST_REPORT
      ? ['default', ['json', { outputFile: process.env.VIGIL_TEST_REPORT }]]
      : ['default'],
  },
});
