import { VigilError } from '../common/errors.ts';

/**
 * Runs a bench's main and exits: with its exit code when it ends, with 1 and a readable reason when
 * it fails. A Vigil error (Neo4j or the node not answering, bad config) is said in its own words
 * with its hint; anything else with its stack, since that is a bug.
 */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (err: unknown) => {
      const reason = err instanceof VigilError ? err.message : ((err as Error)?.stack ?? String(err));
      console.error(`[bench] failed: ${reason}`);
      process.exit(1);
    },
  );
}
