import type { Limits } from '../services/api/limits.ts';
import { type ApiDeps, createApi } from '../services/api/server.ts';
import { silentLogger } from './services.ts';

/**
 * Tests check answers, not the production time limits (tests of those pass their own): a freshly
 * started Neo4j on a loaded 2-core CI machine took over 3 s to plan a new question shape.
 */
export const CORRECTNESS_LIMITS: Partial<Limits> = {
  readTimeoutMs: 60_000,
  searchTimeoutMs: 60_000,
  requestTimeoutMs: 180_000,
};

/**
 * The API handler as tests ask it: silent, version "test", CORRECTNESS_LIMITS under `limits`, and
 * no cost budget (a test file asks one handler many questions; admission.test.ts sets its own)
 * and no rest between expensive requests (it would only add 2× each one's time to the file's).
 */
export function createTestApi(deps: Omit<ApiDeps, 'log' | 'version'> & Partial<Pick<ApiDeps, 'log'>>) {
  return createApi({
    log: silentLogger(),
    version: 'test',
    ...deps,
    admission: { costBudget: 0, expensiveRest: 0, ...deps.admission },
    limits: { ...CORRECTNESS_LIMITS, ...deps.limits },
  });
}
