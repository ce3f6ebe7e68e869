import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { LocalSubtensor } from '../dev/bittensor/localChain.ts';
import type { SeedManifest } from '../dev/bittensor/seeder.ts';
import type { Graph } from '../graph/driver.ts';
import { createRedisConnection } from '../queues/connection.ts';
import { type IngestQueue, createIngestQueue } from '../queues/ingestion.ts';
import { createChainView } from '../services/patrol/chainView.ts';
import { DEFAULT_SCORING } from '../services/patrol/scoring.ts';
import type { PatrolMiner } from '../services/patrol/seam.ts';
import { createPatrolValidator } from '../services/patrol/validator.ts';
import { startSeededChain } from './chain.ts';
import { openTestGraph, redisUrl, silentLogger, startTestIngestWorker, uniquePrefix } from './services.ts';

/** What Patrol's service tests run on: a seeded subtensor runtime and the test graph. */
export interface PatrolWorld {
  chain: LocalSubtensor;
  api: ApiPromise;
  manifest: SeedManifest;
  graph: Graph;
  close(): Promise<void>;
}

/** The seeded chain (24 accounts, 2 subnets, 4 blocks of 8 txs; `seed` per file) and the test graph. */
export async function startPatrolWorld(seed: number): Promise<PatrolWorld> {
  const { chain, api, manifest, close } = await startSeededChain({
    accounts: 24,
    subnets: 2,
    blocks: 4,
    hotkeysPerSubnet: 3,
    txPerBlock: 8,
    seed,
  });
  const graph = await openTestGraph();
  return {
    chain,
    api,
    manifest,
    graph,
    async close() {
      await graph.close();
      await close();
    },
  };
}

/** The wallet with the most transfers, over the most distinct blocks: a target worth checking. */
export function busiestColdkey(manifest: SeedManifest): string {
  const blocks = new Map<string, Set<number>>();
  for (const t of manifest.transfers)
    for (const a of [t.from, t.to]) blocks.set(a, (blocks.get(a) ?? new Set()).add(t.blockNumber));
  return [...blocks].sort((a, b) => b[1].size - a[1].size)[0]![0];
}

/**
 * A real validator that challenges every miner on one `target` over the whole seeded window (so
 * answers to the same target can be compared in one round).
 */
export function fixedTargetValidator(
  world: Pick<PatrolWorld, 'chain' | 'api' | 'manifest' | 'graph'>,
  target: string,
  rig: { conn: Redis; prefix: string; ingest: IngestQueue },
  d: { hotkey: KeyringPair; miners: PatrolMiner[]; depth: number; timeoutMs: number; metrics?: Registry },
) {
  const { manifest } = world;
  return createPatrolValidator({
    hotkey: d.hotkey,
    connection: rig.conn,
    prefix: rig.prefix,
    log: silentLogger(),
    graph: world.graph,
    ingest: rig.ingest,
    chain: createChainView(world.api),
    head: async () => world.chain.head().number,
    miners: async () => d.miners,
    params: {
      window: manifest.lastBlock,
      depth: d.depth,
      timeoutMs: d.timeoutMs,
      probes: 8,
      scoring: DEFAULT_SCORING,
    },
    pickTargets: async (ms) => ms.map(() => ({ address: target, block: manifest.lastBlock })),
    metrics: d.metrics,
  });
}

/**
 * A fresh prefix with its Redis connection and ingest queue (and, with `worker`, a real ingest
 * worker and a wait for jobs); `close(...others)` closes the others in order, then all of it.
 */
export function patrolRig(graph: Graph, { url = redisUrl(), worker = false } = {}) {
  const prefix = uniquePrefix();
  const conn = createRedisConnection(url, 'worker');
  const ingest = createIngestQueue(conn, prefix);
  const running = worker
    ? startTestIngestWorker(conn, prefix, graph, { concurrency: 1, batchSize: 1000 })
    : null;
  const events = worker ? new QueueEvents('ingest', { connection: conn.duplicate(), prefix }) : null;
  return {
    prefix,
    conn,
    ingest,
    /** Waits until every job of `ids` is stored (the worker must be on). */
    async ingested(ids: string[], timeoutMs = 60_000) {
      if (!events) throw new Error('patrolRig: started without a worker');
      for (const id of ids) await (await ingest.getJob(id))!.waitUntilFinished(events, timeoutMs);
    },
    async close(...others: { close(): Promise<unknown> }[]) {
      await events?.close();
      await running?.close();
      for (const o of others) await o.close();
      await ingest.obliterate({ force: true });
      await ingest.close();
      conn.disconnect();
    },
  };
}
