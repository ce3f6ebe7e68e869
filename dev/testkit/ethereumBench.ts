import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../common/config.ts';
import { silentLogger } from '../../common/logger.ts';
import { createGraph } from '../../graph/driver.ts';
import { applyMigrations } from '../../graph/migrations.ts';
import { setupFixture } from './engine.ts';

/** Stops pushed as a bench starts its parts; runCleanup runs them last first. */
export type Cleanup = (() => Promise<unknown> | unknown)[];

/**
 * What the Ethereum benches (bench:defense, bench:trail) stand on: anvil on `chainId` with the
 * vault contracts (solc output cached across runs), and the configured Neo4j with Vigil's schema.
 * Each part's stop is pushed onto `cleanup` as soon as it runs.
 */
export async function startEthereumBench(opts: {
  neo4j: Config['neo4j'];
  chainId: number;
  cleanup: Cleanup;
  say: (line: string) => void;
}) {
  opts.say(`bench: anvil (chain ${opts.chainId}) + contracts`);
  const fx = await setupFixture({
    log: silentLogger,
    cacheDir: join(tmpdir(), 'vigil-solc-cache'),
    chainId: opts.chainId,
  });
  opts.cleanup.push(() => fx.stop());
  const graph = createGraph({ ...opts.neo4j, maxTransactionRetryTimeMs: 5000 });
  opts.cleanup.push(() => graph.close());
  await graph.verify();
  await applyMigrations(graph);
  return { fx, graph };
}

/** Runs the stops last first; one that fails does not keep the rest from running. */
export async function runCleanup(cleanup: Cleanup): Promise<void> {
  for (const stop of cleanup.reverse())
    await Promise.resolve()
      .then(stop)
      .catch(() => {});
}
