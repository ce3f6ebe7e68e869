import { randomBytes } from 'node:crypto';
import neo4j from 'neo4j-driver';
import type { Graph } from '../../graph/driver.ts';
import type { Chain, RelationshipType } from '../../graph/model.ts';
import { newSs58 } from '../../test/fixtures.ts';

/**
 * Hand-built graphs for the investigation tests: wallets named by letter get fresh addresses,
 * relationships get fresh ids, so tests never meet in the shared test database.
 */
export interface TestEdge {
  type?: RelationshipType;
  from: string;
  to: string;
  block: number;
  amount?: string;
  alphaAmount?: string;
  netuid?: number;
  proportion?: string;
  /** ms */
  timestamp?: number;
}

export async function buildGraph(
  graph: Graph,
  names: string[],
  edges: TestEdge[],
  chain: Chain = 'bittensor',
): Promise<Record<string, string>> {
  const run = crypto.randomUUID().slice(0, 8);
  // Valid addresses (the API refuses others): fresh ss58 keys, or random 20-byte hex accounts.
  const fresh = () => (chain === 'ethereum' ? `0x${randomBytes(20).toString('hex')}` : newSs58());
  const addr: Record<string, string> = Object.fromEntries(names.map((n) => [n, fresh()]));
  await graph.write((tx) =>
    tx.run('UNWIND $rows AS a CREATE (:Wallet {chain: $chain, address: a})', {
      chain,
      rows: Object.values(addr),
    }),
  );
  const byType = new Map<RelationshipType, TestEdge[]>();
  for (const e of edges) {
    const t = e.type ?? 'TRANSFER';
    byType.set(t, [...(byType.get(t) ?? []), e]);
  }
  for (const [type, list] of byType) {
    const rows = list.map((e, i) => {
      const props: Record<string, unknown> = {
        id: `${chain}:${type}:test:${run}:${i}`,
        blockNumber: neo4j.int(e.block),
      };
      if (e.amount !== undefined) Object.assign(props, { amount: e.amount, amountValue: Number(e.amount) });
      if (e.alphaAmount !== undefined) props.alphaAmount = e.alphaAmount;
      if (e.netuid !== undefined) props.netuid = neo4j.int(e.netuid);
      if (e.proportion !== undefined) props.proportion = e.proportion;
      if (e.timestamp !== undefined) props.timestamp = neo4j.int(e.timestamp);
      return { from: addr[e.from], to: addr[e.to], props };
    });
    await graph.write((tx) =>
      tx.run(
        `UNWIND $rows AS e
         MATCH (a:Wallet {chain: $chain, address: e.from}), (b:Wallet {chain: $chain, address: e.to})
         CREATE (a)-[r:${type}]->(b) SET r = e.props`,
        { chain, rows },
      ),
    );
  }
  return addr;
}

/**
 * `base` with each auto-commit query (`graph.query`) recorded, its answer optionally delayed: to
 * count a read's round trips, or to make a search's hops slow without a slow database.
 */
export function recordingGraph(base: Graph, delayMs = 0) {
  const queries: { cypher: string; params: Record<string, unknown> }[] = [];
  const g: Graph = {
    ...base,
    query: async (cypher, params, o) => {
      queries.push({ cypher, params });
      const res = await base.query(cypher, params, o);
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      return res;
    },
  };
  return { g, queries };
}
