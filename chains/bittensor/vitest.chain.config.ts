import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The chain tests alone, without the repo's global services (Redis/Neo4j) they do not use. */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['chains/bittensor/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
    minWorkers: 1,
  },
});
