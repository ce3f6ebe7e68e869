import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivityReader } from '../../../chains/ethereum/activity.ts';
import { type JsonRpcClient, createHttpRpc } from '../../../chains/ethereum/rpc.ts';
import { createTokenMetadata } from '../../../chains/ethereum/tokens.ts';
import { type PatrolScenario, startPatrolScenario } from '../../../dev/ethereum/patrolScenario.ts';
import type { Graph } from '../../../graph/driver.ts';
import { type Answer, type Challenge, type Subgraph, signAnswer } from '../../../protocol/patrol.ts';
import { patrolRig } from '../../../test/patrol.ts';
import { openTestGraph, silentLogger } from '../../../test/services.ts';
import type { ChainView } from '../chainView.ts';
import { createPatrolMiner } from '../miner.ts';
import { DEFAULT_SCORING } from '../scoring.ts';
import { type MinerResult, createPatrolValidator } from '../validator.ts';
import { buildEthereumSubgraph } from './miner.ts';
import { ethereumVerifier } from './patrol.ts';

/**
 * Patrol on Ethereum through the real services: miners on their Redis streams, the validator's
 * round (services/patrol/round.ts with the Ethereum target source and verifier), the ingest queue
 * and worker into Neo4j. An honest miner and three cheats answer the same challenge in one round.
 */

let s: PatrolScenario;
let graph: Graph;
const rpcs: JsonRpcClient[] = [];
const rpc = () => {
  const r = createHttpRpc({ url: s.node.rpcUrl });
  rpcs.push(r);
  return r;
};
const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });

beforeAll(async () => {
  s = await startPatrolScenario({ log: silentLogger(), cacheDir: join(tmpdir(), 'vigil-solc-cache') });
  graph = await openTestGraph();
}, 180_000);
afterAll(async () => {
  for (const r of rpcs) r.close();
  await graph?.close();
  await s?.stop();
});

/** Re-signs a changed subgraph: a cheat signs what it sends, so only the content can betray it. */
const resign = (a: Answer, key: KeyringPair, change: (sub: Subgraph) => void): Answer => {
  const sub = structuredClone(a.subgraph);
  change(sub);
  return signAnswer(key, a.challengeId, sub);
};

const CHEATS: Record<string, (sub: Subgraph) => void> = {
  // One real edge with an inflated amount, everything else honest.
  forger: (sub) => {
    const e = sub.edges.find((x) => x.evidence.token !== undefined)!;
    e.evidence.amount = (BigInt(e.evidence.amount!) * 10n).toString();
  },
  // Volume for sale: a transfer that never happened, in a real block, between real nodes.
  inventor: (sub) => {
    const real = sub.edges.find((x) => x.evidence.callPath === '')!;
    sub.edges.push({
      ...real,
      evidence: { ...real.evidence, txHash: `0x${'77'.repeat(32)}`, amount: '999' },
    });
  },
  // Only the edges into the target: every one real, most of the neighbourhood left out.
  lazy: (sub) => {
    const target = s.who.target;
    sub.edges = sub.edges.filter((e) => e.to === target);
    const kept = new Set(sub.edges.flatMap((e) => [e.from, e.to]));
    sub.nodes = sub.nodes.filter((n) => kept.has(n.address));
  },
};

describe('an Ethereum Patrol round', () => {
  it('pays the honest miner, stores its subgraph with the chain ethereum, and pays each cheat ≤ 1 % of it', async () => {
    const rig = patrolRig(graph, { worker: true });
    const names = ['honest', ...Object.keys(CHEATS)];
    const keys = names.map((n) => keyring.addFromUri(`//eth-round-${n}-${rig.prefix}`));
    const validatorKey = keyring.addFromUri(`//eth-round-validator-${rig.prefix}`);
    const miners = keys.map((k, uid) => ({ hotkey: k.address, uid }));
    const asked: Challenge[] = [];
    const running = keys.map((key, i) => {
      const reader = createActivityReader(rpc());
      const cheat = CHEATS[names[i]!];
      return createPatrolMiner({
        hotkey: key,
        connection: rig.conn,
        prefix: rig.prefix,
        log: silentLogger(),
        ethereum: (c) => buildEthereumSubgraph(reader, c),
        // The honest answer arrives last: a cheat that passed would take the novelty first.
        tamper: async (a, c) => {
          asked.push(c);
          if (cheat) return resign(a, key, cheat);
          await new Promise((r) => setTimeout(r, 500));
          return a;
        },
      });
    });
    const metrics = new Registry();
    const reader = createActivityReader(rpc());
    const validator = createPatrolValidator({
      hotkey: validatorKey,
      connection: rig.conn,
      prefix: rig.prefix,
      log: silentLogger(),
      graph,
      ingest: rig.ingest,
      // This validator runs Ethereum rounds only: the subtensor view is never read.
      chain: undefined as unknown as ChainView,
      head: async () => s.lastBlock,
      miners: async () => miners,
      metrics,
      params: { window: s.lastBlock, depth: 2, timeoutMs: 20_000, probes: 8, scoring: DEFAULT_SCORING },
      ethereum: {
        head: async () => s.lastBlock,
        // Everyone on the scenario's target, so the answers can be compared in one round.
        targets: async (ms) => ms.map(() => ({ address: s.who.target, block: s.lastBlock })),
        verify: ethereumVerifier(reader, createTokenMetadata(rpc()), { scoring: DEFAULT_SCORING }),
      },
    });
    try {
      const report = await validator.runEthereumRound!(1);
      await rig.ingested(report.ingestedJobs);
      // Each miner was asked in Ethereum's own terms: the window either side of the target's block.
      expect(
        asked.map((c) => [c.chain, 'fromBlock' in c && c.fromBlock, 'toBlock' in c && c.toBlock]),
      ).toEqual(keys.map(() => ['ethereum', 0, s.lastBlock]));
      const by = Object.fromEntries(report.results.map((r) => [names[r.miner.uid]!, r])) as Record<
        string,
        MinerResult
      >;
      expect(by.honest).toMatchObject({ accepted: true, score: { completeness: 1 } });
      expect(by.honest!.score.total).toBeGreaterThan(0);
      expect(by.forger).toMatchObject({ accepted: false, reason: expect.stringContaining('wrong amount') });
      expect(by.inventor).toMatchObject({ accepted: false, reason: expect.stringContaining('invented') });
      expect(by.lazy).toMatchObject({ accepted: false, reason: expect.stringMatching(/^incomplete: /) });
      const weights = await validator.weights(miners);
      for (const name of Object.keys(CHEATS)) {
        expect(by[name]!.score.total, name).toBeLessThanOrEqual(0.01 * by.honest!.score.total);
        expect(weights.get(keys[names.indexOf(name)]!.address)!, name).toBeLessThanOrEqual(
          0.01 * weights.get(keys[0]!.address)!,
        );
      }
      const rejected = (await metrics.getSingleMetric('vigil_patrol_answers_rejected_total')!.get()).values;
      expect(
        rejected
          .map((v) => `${names[miners.findIndex((m) => m.hotkey === v.labels.miner)]}:${v.labels.reason}`)
          .sort(),
      ).toEqual(['forger:unverified', 'inventor:unverified', 'lazy:incomplete']);

      // Stored through the ingest queue: the honest submission only, as chain ethereum.
      const stored = await graph.read((tx) =>
        tx.run(
          `MATCH (sub:Submission)-[:TARGETS]->(t:Wallet {chain: 'ethereum', address: $target})
           WHERE sub.id STARTS WITH $round
           RETURN sub.miner AS miner, sub.chain AS chain, sub.edgeCount AS edges`,
          { target: s.who.target, round: report.results[0]!.challengeId.split('-')[0] },
        ),
      );
      expect(stored.records.map((r) => r.toObject())).toEqual([
        { miner: keys[0]!.address, chain: 'ethereum', edges: expect.anything() },
      ]);
      const splitter = await graph.read((tx) =>
        tx.run(
          `MATCH (w:Wallet {chain: 'ethereum', address: $a}) RETURN w:Contract AS contract,
           COUNT { (:Wallet {chain: 'ethereum'})-[:DEPLOYED]->(w) } AS deployers`,
          { a: s.contracts.splitter },
        ),
      );
      expect(splitter.records[0]?.toObject()).toEqual({ contract: true, deployers: expect.anything() });
      expect(Number(splitter.records[0]!.get('deployers'))).toBe(1);
    } finally {
      await rig.close(validator, ...running);
    }
  }, 120_000);
});
