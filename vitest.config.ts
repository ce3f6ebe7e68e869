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
  },
});
