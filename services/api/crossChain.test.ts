import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../graph/driver.ts';
import { addTag } from '../../graph/investigate/tags.ts';
import { ethTransfer, newEthAddress, sampleEthereumSubgraph, sampleSubgraph } from '../../test/fixtures.ts';
import { type IngestApi, startIngestApi } from '../../test/ingestApi.ts';

// One holder, two chains: a Bittensor subgraph and an Ethereum one go through the real ingest queue
// and worker; investigators tag a wallet on each chain with the same label; crossChainPaths walks
// from a Bittensor wallet to an Ethereum one through that link.

let env: IngestApi;
let graph: Graph;

beforeAll(async () => {
  env = await startIngestApi();
  ({ graph } = env);
}, 60_000);
afterAll(() => env?.close());
const ingest = (job: Parameters<IngestApi['ingest']>[0]) => env.ingest(job);

const ask = (query: string, variables: Record<string, unknown> = {}) => env.ask(query, variables);

/** x → y → z in ETH on Ethereum. */
const ethereumChain = (x: string, y: string, z: string) =>
  sampleEthereumSubgraph(y, [ethTransfer(x, y, '3000', 100), ethTransfer(y, z, '2000', 101)]);

const QUERY = `query ($from: String!, $to: String!, $label: String, $maxDepth: Int, $links: Int) {
  crossChainPaths(fromChain: BITTENSOR, from: $from, toChain: ETHEREUM, to: $to, label: $label,
                  maxDepth: $maxDepth, links: $links) {
    truncated
    links { label fromChain fromAddress toChain toAddress sources }
    paths { length first { wallets } link { label } second { wallets hops { relationships { amount } } } }
  } }`;

describe('crossChainPaths', () => {
  it('walks from a Bittensor wallet to an Ethereum one through wallets tagged with the same label', async () => {
    const bt = sampleSubgraph(); // its target sends TAO to the wallet b
    const [target, b] = [bt.target, bt.edges[0]!.to];
    const [x, y, z] = [newEthAddress(), newEthAddress(), newEthAddress()];
    await ingest(bt);
    await ingest(ethereumChain(x, y, z));
    // '!' sorts first: other tests' labels cannot take this test's links.
    const [alice, bob] = [`!alice-${crypto.randomUUID()}`, `!bob-${crypto.randomUUID()}`];
    for (const [chain, address, label, source] of [
      ['bittensor', b, alice, 'case-1'],
      ['ethereum', x, alice, 'exchange-kyc'],
      ['bittensor', target, bob, 'case-2'],
      ['ethereum', y, bob, 'case-2'],
    ] as const)
      expect((await addTag(graph, { chain, address, label, source })).kind).toBe('added');

    const both = await ask(QUERY, { from: target, to: z, links: 10 });
    expect(both.errors).toBeUndefined();
    const r = both.data!.crossChainPaths;
    expect(r.truncated).toBe(false);
    // bob's link: target is tagged itself (no Bittensor hop), then y → z: 1 hop. alice's: target → b, x → y → z: 3.
    expect(r.paths).toEqual([
      {
        length: 1,
        first: { wallets: [target] },
        link: { label: bob },
        second: { wallets: [y, z], hops: [{ relationships: [{ amount: '2000' }] }] },
      },
      {
        length: 3,
        first: { wallets: [target, b] },
        link: { label: alice },
        second: {
          wallets: [x, y, z],
          hops: [{ relationships: [{ amount: '3000' }] }, { relationships: [{ amount: '2000' }] }],
        },
      },
    ]);
    expect(r.links.filter((l: any) => l.label === alice)).toEqual([
      {
        label: alice,
        fromChain: 'BITTENSOR',
        fromAddress: b,
        toChain: 'ETHEREUM',
        toAddress: x,
        sources: ['case-1', 'exchange-kyc'],
      },
    ]);

    // The label narrows the links; maxDepth counts the hops on both chains together.
    const onlyAlice = await ask(QUERY, { from: target, to: z, label: alice });
    expect(onlyAlice.data!.crossChainPaths.paths.map((p: any) => p.length)).toEqual([3]);
    const short = await ask(QUERY, { from: target, to: z, label: alice, maxDepth: 2 });
    expect(short.data!.crossChainPaths.paths).toEqual([]);
    // docs/cypher-guide.md's cross-chain query, as written there, finds the same two routes.
    const guide = readFileSync(new URL('../../docs/cypher-guide.md', import.meta.url), 'utf8');
    const cypher = /(\/\/ From a Bittensor wallet, through a holder link[\s\S]*?LIMIT 10;)/.exec(guide)![1]!;
    const rows = await graph.read((tx) => tx.run(cypher, { from: target, to: z }));
    expect(
      rows.records.map((r) => [r.get('a.label'), r.get('bittensorLeg'), r.get('ethereumLeg')]).sort(),
    ).toEqual(
      [
        [alice, [target, b], [x, y, z]],
        [bob, [target], [y, z]],
      ].sort(),
    );
    // One link tried of two: said so.
    const one = await ask(QUERY, { from: target, to: z, links: 1 });
    expect(one.data!.crossChainPaths.links).toHaveLength(1);
    expect(one.data!.crossChainPaths.truncated).toBe(true);
  });

  it('refuses one chain on both ends and a foreign address, naming the argument', async () => {
    const same = await ask(
      `{ crossChainPaths(fromChain: ETHEREUM, from: "${newEthAddress()}", toChain: ETHEREUM, to: "${newEthAddress()}") { truncated } }`,
    );
    expect(same.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'toChain' });
    const foreign = await ask(QUERY, { from: newEthAddress(), to: newEthAddress() });
    expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'from' });
  });
});
