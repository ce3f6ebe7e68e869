import { encodeAddress } from '@polkadot/util-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../graph/driver.ts';
import { DENSE_DEGREE } from '../../graph/wallets/index.ts';
import { createTestApi } from '../../test/api.ts';
import { newSs58 } from '../../test/fixtures.ts';
import { openTestGraph, silentLogger } from '../../test/services.ts';
import { EXAMPLE_TYPES } from './example.ts';
import { internalFetch } from './server.ts';
import { sampleWallets, warmUntilAnswered, warmUp } from './warmup.ts';

// The warm-up asks each common question shape through the real handler against the real Neo4j;
// whether that makes the first answers faster is measured by `npm run bench:cold-start`.

let graph: Graph;
let run: string;
const addresses = new Map<string, string>();
/**
 * Valid ss58 addresses for the dense wallet's counterparties: the warm-up samples only addresses the
 * API accepts (as every stored one is in production), so made-up strings would leave it no sample.
 */
const randomSs58s = (n: number) =>
  Array.from({ length: n }, () => encodeAddress(crypto.getRandomValues(new Uint8Array(32)), 42));

/** A wallet of this run by name: a valid ss58 address, as the API accepts. */
const w = (k: string) => {
  if (!addresses.has(k)) addresses.set(k, newSs58());
  return addresses.get(k)!;
};

beforeAll(async () => {
  graph = await openTestGraph();
  run = crypto.randomUUID().slice(0, 8);
  // A dense wallet (its groups are read by queries of their own), and a chain a → b → c.
  await graph.write((tx) =>
    tx.run(
      `CREATE (d:Wallet {chain: 'bittensor', address: $d})
       WITH d UNWIND range(0, size($others) - 1) AS i
       CREATE (d)-[:TRANSFER {id: 'bittensor:TRANSFER:' + $run + ':d:' + i, amount: '1', amountValue: 1.0, blockNumber: i}]->
              (:Wallet {chain: 'bittensor', address: $others[i]})
       WITH DISTINCT d
       CREATE (a:Wallet {chain: 'bittensor', address: $a})-[:TRANSFER {id: 'bittensor:TRANSFER:' + $run + ':ab', amount: '5', amountValue: 5.0, blockNumber: 1}]->
              (b:Wallet {chain: 'bittensor', address: $b})-[:TRANSFER {id: 'bittensor:TRANSFER:' + $run + ':bc', amount: '4', amountValue: 4.0, blockNumber: 2}]->
              (:Wallet {chain: 'bittensor', address: $c})`,
      {
        d: w('dense'),
        a: w('a'),
        b: w('b'),
        c: w('c'),
        run: `wu${run}`,
        others: randomSs58s(DENSE_DEGREE + 100),
      },
    ),
  );
}, 120_000);
afterAll(() => graph.close());

/** The handler, with each question's operation and variables recorded. */
function recordedApi(deps: Partial<Parameters<typeof createTestApi>[0]> = {}) {
  const yoga = createTestApi({ graph, ...deps });
  const asked: { field: string; query: string; variables: Record<string, unknown>; errors: unknown }[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    const res = await internalFetch(yoga)(url, init);
    const { query, variables } = JSON.parse(String(init.body));
    const body = await res.clone().json();
    const field = /\{\s*(\w+)/.exec(query)![1]!;
    asked.push({ field, query, variables, errors: body.errors ?? null });
    return res;
  };
  return { fetch, asked };
}

describe('query plan warm-up', () => {
  it('asks every common question shape, a dense wallet next pages included, without errors', async () => {
    const { fetch, asked } = recordedApi();
    const sample = { chain: 'bittensor', ordinary: [w('a'), w('c')], dense: w('dense') };
    const report = await warmUp({ graph, fetch, log: silentLogger(), sample });

    expect(asked.filter((q) => q.errors)).toEqual([]);
    expect(report).toMatchObject({ questions: asked.length, failed: 0 });
    const neighbors = asked.filter((q) => q.field === 'wallet').map((q) => q.variables);
    for (const dir of ['BOTH', 'OUT', 'IN']) {
      expect(neighbors).toContainEqual({ chain: 'BITTENSOR', a: w('a'), dir });
      expect(neighbors).toContainEqual({ chain: 'BITTENSOR', a: w('dense'), dir });
    }
    // The dense wallet has more than a page in BOTH and OUT (not IN): its next pages are asked.
    const next = neighbors.filter((v) => v.after).map((v) => [v.a, v.dir]);
    expect(next).toEqual([
      [w('dense'), 'BOTH'],
      [w('dense'), 'OUT'],
    ]);
    expect(asked.filter((q) => q.field === 'paths').map((q) => q.variables)).toEqual([
      { chain: 'BITTENSOR', a: w('a'), b: w('c') },
    ]);
    expect(asked.filter((q) => q.field === 'flow').map((q) => q.variables.dir)).toEqual(['OUT', 'IN']);
    expect(asked.filter((q) => q.field === 'alerts')).toHaveLength(1);
    // The README's example (a relationship-type filter is a query shape of its own).
    const example = asked.filter((q) => q.query.includes(`types: [${EXAMPLE_TYPES.join(', ')}]`));
    expect(example.map((q) => q.query)).toEqual([expect.stringContaining(`address: "${w('a')}"`)]);
  }, 180_000); // a cold Neo4j plans each new shape: seconds apiece on a loaded machine

  it('keeps asking until a whole round answers, and says it is warm', async () => {
    const { fetch, asked } = recordedApi();
    let failures = 3; // the first answers time out, as on a cold Neo4j
    const flaky = async (url: string, init: RequestInit) => {
      if (failures-- > 0) throw new Error('QUERY_TIMEOUT');
      return fetch(url, init);
    };
    const sample = { chain: 'bittensor', ordinary: [w('a')], dense: null };
    const report = await warmUntilAnswered({
      graph,
      fetch: flaky,
      log: silentLogger(),
      sample,
      boundMs: 60_000,
    });
    expect(report).toMatchObject({ rounds: 2, failed: 0, warm: true });
    expect(asked.filter((q) => q.errors)).toEqual([]);
  }, 180_000);

  it('gives up after its bound and says the questions still fail', async () => {
    const down = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:4000');
    };
    const sample = { chain: 'bittensor', ordinary: [w('a')], dense: null };
    const report = await warmUntilAnswered({
      graph,
      fetch: down,
      log: silentLogger(),
      sample,
      boundMs: 1500,
    });
    expect(report.warm).toBe(false);
    expect(report.failed).toBe(report.questions);
    expect(report.rounds).toBeGreaterThanOrEqual(2);
  });

  it('asks with an internal reader when reads need a key, which HTTP callers cannot use', async () => {
    const keys = [{ role: 'read' as const, key: 'r'.repeat(20) }];
    const { fetch, asked } = recordedApi({ readsNeedKey: true, keys });
    const sample = { chain: 'bittensor', ordinary: [w('a'), w('c')], dense: w('dense') };
    const report = await warmUp({ graph, fetch, log: silentLogger(), sample });
    expect(report.questions).toBeGreaterThan(5);
    expect(report).toMatchObject({ questions: asked.length, failed: 0 });
    // The same handler still refuses an anonymous request, and a key holder still reads.
    const yoga = createTestApi({ graph, readsNeedKey: true, keys });
    const ask = (headers: Record<string, string>) =>
      yoga.fetch('http://vigil.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: '{ health { ok } }' }),
      });
    const anonymous = await ask({});
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await ask({ 'x-api-key': 'r'.repeat(20) })).status).toBe(200);
  });

  it('plans on a valid absent wallet when the graph has none to sample', async () => {
    const { fetch, asked } = recordedApi();
    const sample = { chain: 'bittensor', ordinary: [], dense: null };
    const report = await warmUp({ graph, fetch, log: silentLogger(), sample });
    expect(report).toMatchObject({ questions: asked.length, failed: 0 });
  });

  it('answers every question when the sampled wallets are Ethereum ones', async () => {
    const { fetch, asked } = recordedApi();
    const sample = { chain: 'ethereum', ordinary: [`0x${'ab'.repeat(20)}`], dense: null };
    const report = await warmUp({ graph, fetch, log: silentLogger(), sample });
    expect(report).toMatchObject({ questions: asked.length, failed: 0 });
  });

  it('samples wallets that exist, a dense one only if its degree is dense', async () => {
    const s = await sampleWallets(graph);
    expect(s.ordinary.length).toBeGreaterThan(0);
    const exists = await graph.query(
      `UNWIND $addresses AS address
       MATCH (x:Wallet {chain: $chain, address: address})
       RETURN address, COUNT { (x)--() } AS degree`,
      { chain: s.chain, addresses: [...s.ordinary, ...(s.dense ? [s.dense] : [])] },
    );
    const degree = new Map(exists.records.map((r) => [r.get('address') as string, Number(r.get('degree'))]));
    for (const a of s.ordinary) expect(degree.get(a)).toBeLessThan(DENSE_DEGREE);
    if (s.dense) expect(degree.get(s.dense)).toBeGreaterThanOrEqual(DENSE_DEGREE);
  });

  it('stops before its next question once aborted', async () => {
    const { fetch, asked } = recordedApi();
    const stop = new AbortController();
    const stopping = async (url: string, init: RequestInit) => {
      const res = await fetch(url, init);
      stop.abort();
      return res;
    };
    const sample = { chain: 'bittensor', ordinary: [w('a')], dense: null };
    const report = await warmUp({ graph, fetch: stopping, log: silentLogger(), sample, signal: stop.signal });
    expect(report.questions).toBe(1);
    expect(asked).toHaveLength(1);
  });

  it('counts an API that cannot answer as failed questions, and never throws', async () => {
    const down = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:4000');
    };
    const sample = { chain: 'bittensor', ordinary: [w('a')], dense: null };
    const report = await warmUp({ graph, fetch: down, log: silentLogger(), sample });
    expect(report.questions).toBeGreaterThan(5);
    expect(report.failed).toBe(report.questions);
  });
});
