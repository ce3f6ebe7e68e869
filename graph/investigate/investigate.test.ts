import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGraph, recordingGraph } from '../../dev/testkit/investigate.ts';
import type { Limits } from '../../services/api/limits.ts';
import { createTestApi } from '../../test/api.ts';
import { newSs58, sampleSubgraph } from '../../test/fixtures.ts';
import { openTestGraph } from '../../test/services.ts';
import type { Graph } from '../driver.ts';
import { writeSubgraph } from '../ingest.ts';

let graph: Graph;
beforeAll(async () => {
  graph = await openTestGraph();
});
afterAll(() => graph.close());

const WRITE_KEY = 'w'.repeat(24);
const READ_KEY = 'r'.repeat(24);

type GqlResult = { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
async function gql(
  query: string,
  variables: Record<string, unknown> = {},
  o: { key?: string; limits?: Partial<Limits>; graph?: Graph } = {},
) {
  const yoga = createTestApi({
    graph: o.graph ?? graph,
    ...(process.env.DEBUG_API
      ? { log: (await import('../../common/logger.ts')).createLogger({ level: 'error', name: 't' }) }
      : {}),
    keys: [
      { role: 'write', key: WRITE_KEY },
      { role: 'read', key: READ_KEY },
    ],
    limits: o.limits,
  });
  const res = await yoga.fetch('http://vigil.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(o.key ? { 'x-api-key': o.key } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GqlResult;
}
const ok = (r: GqlResult) => {
  expect(r.errors).toBeUndefined();
  return r.data;
};
const code = (r: GqlResult) => r.errors?.[0]?.extensions?.code;

describe('wallet summary', () => {
  it('answers degree, exact totals, ownership, parents and children, first and last seen', async () => {
    const job = sampleSubgraph();
    const [target, b, , hotkey, child, owner] = job.nodes.map((n) => n.address);
    const block = job.edges[0]!.evidence.blockNumber;
    // Two huge transfers in: their sum needs more than 64 bits.
    job.edges.push(
      {
        type: 'TRANSFER',
        from: b!,
        to: target!,
        evidence: {
          blockNumber: block + 5,
          eventIndex: 7,
          amount: '123456789012345678901234567890',
          timestamp: 1_700_000_000_000,
        },
      },
      {
        type: 'TRANSFER',
        from: b!,
        to: target!,
        evidence: {
          blockNumber: block + 6,
          eventIndex: 8,
          amount: '900000000000000000000000000001',
          timestamp: 1_700_000_600_000,
        },
      },
      {
        type: 'PARENT_OF',
        from: owner!,
        to: hotkey!,
        evidence: { blockNumber: block + 7, eventIndex: 2, netuid: 3, proportion: '42' },
      },
    );
    await writeSubgraph(graph, job, { batchSize: 100 });

    const q = `query ($a: String!) { wallet(chain: BITTENSOR, address: $a) {
      firstSeenBlock lastSeenBlock firstSeenAt lastSeenAt degreeTotal
      degree { type direction count }
      totals { type direction asset netuid count amount alphaAmount }
      owner { address } hotkeys { wallet { address } } parents { wallet { address } netuid proportion } children { wallet { address } }
      tags { label } } }`;
    const t = ok(await gql(q, { a: target })).wallet;
    expect(t.firstSeenAt).toBe('2023-11-14T22:13:20.000Z');
    expect(t.lastSeenAt).toBe('2023-11-14T22:23:20.000Z');
    expect(t.degreeTotal).toBe(4);
    expect(t.degree).toEqual([
      { type: 'TRANSFER', direction: 'OUT', count: 1 },
      { type: 'TRANSFER', direction: 'IN', count: 2 },
      { type: 'STAKE_ADD', direction: 'OUT', count: 1 },
    ]);
    expect(t.totals).toEqual([
      {
        type: 'STAKE_ADD',
        direction: 'OUT',
        asset: 'TAO',
        netuid: 1,
        count: 1,
        amount: '700',
        alphaAmount: '650',
      },
      {
        type: 'TRANSFER',
        direction: 'IN',
        asset: 'TAO',
        netuid: null,
        count: 2,
        amount: '1023456789012345678901234567891',
        alphaAmount: null,
      },
      {
        type: 'TRANSFER',
        direction: 'OUT',
        asset: 'TAO',
        netuid: null,
        count: 1,
        amount: '1500000000',
        alphaAmount: null,
      },
    ]);
    expect(t.owner).toBeNull();
    expect(t.tags).toEqual([]);

    const h = ok(await gql(q, { a: hotkey })).wallet;
    expect(h.owner).toEqual({ address: owner });
    expect(h.children).toEqual([{ wallet: { address: child } }]);
    expect(h.parents).toEqual([{ wallet: { address: owner }, netuid: 3, proportion: '42' }]);
    expect(h.firstSeenAt).toBeNull();
    const o = ok(await gql(q, { a: owner })).wallet;
    expect(o.hotkeys).toEqual([{ wallet: { address: hotkey } }]);
  });
});

describe('neighbors', () => {
  it('filters by direction, type, amount range, block and time window, and pages', async () => {
    const T0 = Date.parse('2024-01-01T00:00:00Z');
    const g = await buildGraph(
      graph,
      ['hub', 'a', 'b', 'c', 'd', 'e'],
      [
        { from: 'a', to: 'hub', block: 10, amount: '1', timestamp: T0 },
        { from: 'b', to: 'hub', block: 11, amount: '20', timestamp: T0 + 1000 },
        { from: 'c', to: 'hub', block: 12, amount: '300', timestamp: T0 + 2000 },
        { from: 'hub', to: 'd', block: 13, amount: '4000', timestamp: T0 + 3000 },
        { type: 'STAKE_ADD', from: 'hub', to: 'e', block: 14, amount: '50000' },
      ],
    );
    const q = `query ($a: String!, $dir: Direction, $types: [RelationshipType!], $min: String, $max: String, $w: Window, $first: Int, $after: String) {
      wallet(chain: BITTENSOR, address: $a) { neighbors(direction: $dir, types: $types, minAmount: $min, maxAmount: $max, window: $w, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { address } relationship { type direction amount blockNumber timestamp } } } } }`;
    const n = async (v: Record<string, unknown>) => ok(await gql(q, { a: g.hub, ...v })).wallet.neighbors;
    const amounts = (c: any) => c.edges.map((e: any) => e.relationship.amount).sort();

    expect((await n({})).totalCount).toBe(5);
    expect(amounts(await n({ dir: 'IN' }))).toEqual(['1', '20', '300']);
    expect(amounts(await n({ dir: 'OUT', types: ['TRANSFER'] }))).toEqual(['4000']);
    const ranged = await n({ min: '20', max: '4000' });
    expect(ranged.totalCount).toBe(3);
    expect(amounts(ranged)).toEqual(['20', '300', '4000']);
    // Leading zeros mean the same number (the exact comparison is on normalised strings).
    expect(amounts(await n({ min: '0020', max: '04000' }))).toEqual(['20', '300', '4000']);
    expect(amounts(await n({ w: { fromBlock: 12, toBlock: 14 } }))).toEqual(['300', '4000', '50000']);
    const timed = await n({ w: { fromTime: '2024-01-01T00:00:01Z', toTime: '2024-01-01T00:00:02Z' } });
    expect(timed.edges.map((e: any) => e.relationship.timestamp).sort()).toEqual([
      '2024-01-01T00:00:01.000Z',
      '2024-01-01T00:00:02.000Z',
    ]);

    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await n({ first: 2, after });
      seen.push(...page.edges.map((e: any) => e.relationship.amount));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual(['1', '20', '300', '4000', '50000']);

    const bad = await gql(q, { a: g.hub, min: '-3' });
    expect(bad.errors?.[0]?.message).toBe(
      'minAmount must be a non-negative integer in a decimal string, got "-3"',
    );
    expect(code(bad)).toBe('BAD_USER_INPUT');
    expect(code(await gql(q, { a: g.hub, w: { fromBlock: 5, toBlock: 4 } }))).toBe('BAD_USER_INPUT');
  });
});

describe('a wallet asked with its neighbors', () => {
  /** The test graph, recording each auto-commit query. */
  const counted = () => recordingGraph(graph);

  it('is read with its first page in one query, and the page matches the one read on its own', async () => {
    const g = await buildGraph(
      graph,
      ['hub', 'a', 'b', 'c'],
      [
        { from: 'a', to: 'hub', block: 1, amount: '1' },
        { from: 'hub', to: 'b', block: 2, amount: '2' },
        { from: 'c', to: 'hub', block: 3, amount: '3' },
      ],
    );
    const page =
      'neighbors(first: $n, direction: $d) { pageInfo { hasNextPage } edges { node { address } relationship { amount } } }';
    const together = counted();
    const r1 = ok(
      await gql(
        `query ($a: String!, $n: Int, $d: Direction) { wallet(chain: BITTENSOR, address: $a) { address ${page} } }`,
        { a: g.hub, n: 2, d: 'BOTH' },
        { graph: together.g },
      ),
    );
    expect(together.queries).toHaveLength(1);
    expect(r1.wallet.address).toBe(g.hub);
    expect(r1.wallet.neighbors.edges.map((e: any) => e.relationship.amount)).toHaveLength(2);
    expect(r1.wallet.neighbors.pageInfo.hasNextPage).toBe(true);

    // Under a fragment the look-ahead stands aside: two queries, the same answer.
    const apart = counted();
    const r2 = ok(
      await gql(
        `query ($a: String!, $n: Int, $d: Direction) { wallet(chain: BITTENSOR, address: $a) { address ... on Wallet { ${page} } } }`,
        { a: g.hub, n: 2, d: 'BOTH' },
        { graph: apart.g },
      ),
    );
    expect(apart.queries).toHaveLength(2);
    expect(r2).toEqual(r1);

    // Asked twice with different arguments: each page is its own, and right.
    const twice = ok(
      await gql(
        'query ($a: String!) { wallet(chain: BITTENSOR, address: $a) { out: neighbors(direction: OUT) { edges { relationship { amount } } } in: neighbors(direction: IN) { edges { relationship { amount } } } } }',
        { a: g.hub },
      ),
    );
    expect(twice.wallet.out.edges.map((e: any) => e.relationship.amount)).toEqual(['2']);
    expect(twice.wallet.in.edges.map((e: any) => e.relationship.amount).sort()).toEqual(['1', '3']);

    // Defaults and literals read ahead as GraphQL applies them: still one query.
    const literal = counted();
    const r3 = ok(
      await gql(
        `query ($a: String!) { wallet(chain: BITTENSOR, address: $a) { neighbors(types: [TRANSFER], minAmount: "2") { edges { relationship { amount } } } } }`,
        { a: g.hub },
        { graph: literal.g },
      ),
    );
    expect(literal.queries).toHaveLength(1);
    expect(r3.wallet.neighbors.edges.map((e: any) => e.relationship.amount).sort()).toEqual(['2', '3']);

    // No such wallet: null, from the same single query.
    const none = counted();
    expect(
      ok(
        await gql(
          `query { wallet(chain: BITTENSOR, address: "${newSs58()}") { ${page.replace('$n', '2').replace('$d', 'BOTH')} } }`,
          {},
          { graph: none.g },
        ),
      ).wallet,
    ).toBeNull();
    expect(none.queries).toHaveLength(1);
  });

  it('answers the wallet when its neighbors fail, and the error stays on the neighbors field', async () => {
    const g = await buildGraph(graph, ['hub', 'a'], [{ from: 'a', to: 'hub', block: 1, amount: '1' }]);
    const bad = await gql(
      'query ($a: String!) { wallet(chain: BITTENSOR, address: $a) { address neighbors(minAmount: "-3") { edges { cursor } } } }',
      { a: g.hub },
    );
    expect(bad.errors).toHaveLength(1);
    expect(bad.errors![0]!.message).toBe(
      'minAmount must be a non-negative integer in a decimal string, got "-3"',
    );
    expect((bad.errors![0] as any).path).toEqual(['wallet', 'neighbors']);
    expect(bad.data.wallet).toBeNull(); // neighbors is non-null: the error nulls its parent, as GraphQL says
  });
});

const PATHS = `query ($from: String!, $to: String!, $maxDepth: Int, $limit: Int, $directed: Boolean, $min: String, $w: Window, $types: [RelationshipType!]) {
  paths(chain: BITTENSOR, from: $from, to: $to, maxDepth: $maxDepth, limit: $limit, directed: $directed, minAmount: $min, window: $w, types: $types) {
    shortestLength truncated explored { hopsFromSource hopsFromTarget }
    paths { length wallets hops { from to count amount relationships { type amount blockNumber } } } } }`;

describe('paths', () => {
  async function pathGraph() {
    // a→e→d (2 hops, small amounts), a→b→c→d and a→f→g→d (3 hops), d→a back, x unreachable.
    return buildGraph(
      graph,
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'x'],
      [
        { from: 'a', to: 'b', block: 1, amount: '100' },
        { from: 'b', to: 'c', block: 2, amount: '50' },
        { from: 'c', to: 'd', block: 3, amount: '10' },
        { from: 'a', to: 'e', block: 4, amount: '5' },
        { from: 'a', to: 'e', block: 5, amount: '6' },
        { from: 'e', to: 'd', block: 6, amount: '7' },
        { from: 'a', to: 'f', block: 7, amount: '70' },
        { from: 'f', to: 'g', block: 8, amount: '70' },
        { from: 'g', to: 'd', block: 9, amount: '70' },
        { from: 'd', to: 'a', block: 10, amount: '1' },
        { type: 'OWNS_HOTKEY', from: 'x', to: 'a', block: 1 },
      ],
    );
  }
  const names = (g: Record<string, string>, ws: string[]) =>
    ws.map((w) => Object.keys(g).find((k) => g[k] === w));

  it('finds the shortest path first, then the next shortest, with every hop counted and summed', async () => {
    const g = await pathGraph();
    const r = ok(await gql(PATHS, { from: g.a, to: g.d, limit: 3 })).paths;
    expect(r.shortestLength).toBe(2);
    expect(r.truncated).toBe(false);
    expect(r.paths.map((p: any) => names(g, p.wallets).join(''))).toEqual([
      'aed',
      expect.stringMatching(/^a(bc|fg)d$/),
      expect.stringMatching(/^a(bc|fg)d$/),
    ]);
    expect(new Set(r.paths.map((p: any) => p.wallets.join()))).toHaveProperty('size', 3);
    const first = r.paths[0];
    expect(first.length).toBe(2);
    expect(first.hops[0]).toEqual({
      from: g.a,
      to: g.e,
      count: 2,
      amount: '11',
      relationships: [
        { type: 'TRANSFER', amount: '6', blockNumber: 5 },
        { type: 'TRANSFER', amount: '5', blockNumber: 4 },
      ],
    });
    expect(first.hops[1]).toMatchObject({ from: g.e, to: g.d, count: 1, amount: '7' });
  });

  it('applies amount, window, type, depth and direction', async () => {
    const g = await pathGraph();
    const wallets = async (v: Record<string, unknown>) =>
      ok(await gql(PATHS, { from: g.a, to: g.d, limit: 5, ...v })).paths.paths.map((p: any) =>
        names(g, p.wallets).join(''),
      );
    // a→e (5, 6) and e→d (7) fall below 8: only the 3-hop paths remain.
    expect((await wallets({ min: '8' })).sort()).toEqual(['abcd', 'afgd']);
    expect(await wallets({ min: '60' })).toEqual(['afgd']);
    expect(await wallets({ w: { fromBlock: 4, toBlock: 9 } })).toEqual(['aed', 'afgd']);
    expect(await wallets({ maxDepth: 2 })).toEqual(['aed']);
    expect(await wallets({ types: ['STAKE_ADD'] })).toEqual([]);
    // d→a exists only backwards from a to d's point of view.
    expect(
      ok(await gql(PATHS, { from: g.d, to: g.a, maxDepth: 1 })).paths.paths.map((p: any) => p.length),
    ).toEqual([1]);
    expect(ok(await gql(PATHS, { from: g.a, to: g.d, maxDepth: 1 })).paths.paths).toEqual([]);
    expect(
      ok(await gql(PATHS, { from: g.a, to: g.d, maxDepth: 1, directed: false })).paths.paths.map(
        (p: any) => p.length,
      ),
    ).toEqual([1]);
    // Ownership is not a value type: x cannot reach anything by default.
    expect(ok(await gql(PATHS, { from: g.x, to: g.d })).paths).toMatchObject({
      paths: [],
      shortestLength: null,
    });
  });

  it('refuses a depth or a number of paths beyond the limits, with codes', async () => {
    const g = await pathGraph();
    const deep = await gql(PATHS, { from: g.a, to: g.d, maxDepth: 7 });
    expect(deep.errors?.[0]?.message).toBe('maxDepth must be between 1 and 6, got 7');
    expect(code(deep)).toBe('ARGUMENT_LIMIT');
    expect(code(await gql(PATHS, { from: g.a, to: g.d, limit: 26 }))).toBe('PAGE_SIZE_LIMIT');
  });
});

const FLOW = `query ($from: String!, $dir: FlowDirection, $depth: Int, $min: String, $w: Window) {
  flow(chain: BITTENSOR, from: $from, direction: $dir, depth: $depth, minAmount: $min, window: $w) {
    source direction truncated hops { hop count walletCount amount wallets { address amount count firstBlock lastBlock } } } }`;

describe('flow', () => {
  async function flowGraph() {
    return buildGraph(
      graph,
      ['s', 'x', 'y', 'z', 'w'],
      [
        { from: 's', to: 'x', block: 100, amount: '10' },
        { from: 's', to: 'z', block: 105, amount: '1' },
        { from: 'x', to: 'y', block: 90, amount: '1000' }, // before x received: not this money
        { from: 'x', to: 'z', block: 110, amount: '4' },
        { from: 'z', to: 'w', block: 120, amount: '3' },
        { from: 'w', to: 'y', block: 119, amount: '2' }, // before w received
      ],
    );
  }

  it('follows value forward in time, hop by hop, with exact sums', async () => {
    const g = await flowGraph();
    const f = ok(await gql(FLOW, { from: g.s, depth: 3 })).flow;
    expect(f).toMatchObject({ source: g.s, direction: 'OUT', truncated: false });
    expect(f.hops).toEqual([
      {
        hop: 1,
        count: 2,
        walletCount: 2,
        amount: '11',
        wallets: [
          { address: g.x, amount: '10', count: 1, firstBlock: 100, lastBlock: 100 },
          { address: g.z, amount: '1', count: 1, firstBlock: 105, lastBlock: 105 },
        ],
      },
      {
        hop: 2,
        count: 2,
        walletCount: 2,
        amount: '7',
        wallets: [
          { address: g.z, amount: '4', count: 1, firstBlock: 110, lastBlock: 110 },
          { address: g.w, amount: '3', count: 1, firstBlock: 120, lastBlock: 120 },
        ],
      },
    ]);
  });

  it('follows value backward in time, and applies amount and window filters', async () => {
    const g = await flowGraph();
    const back = ok(await gql(FLOW, { from: g.w, dir: 'IN', depth: 3 })).flow;
    expect(back.hops.map((h: any) => [h.hop, h.amount, h.wallets.map((w: any) => w.address)])).toEqual([
      [1, '3', [g.z]],
      [2, '5', [g.x, g.s]],
      [3, '10', [g.s]],
    ]);
    const big = ok(await gql(FLOW, { from: g.s, depth: 3, min: '4' })).flow;
    expect(big.hops.map((h: any) => h.amount)).toEqual(['10', '4']);
    const late = ok(await gql(FLOW, { from: g.s, depth: 3, w: { fromBlock: 101 } })).flow;
    expect(late.hops.map((h: any) => h.wallets.map((w: any) => w.address))).toEqual([[g.z], [g.w]]);
    expect(code(await gql(FLOW, { from: g.s, depth: 0 }))).toBe('ARGUMENT_LIMIT');
  });

  it('answers QUERY_TIMEOUT when its hops together outlast the search time-out', async () => {
    const g = await flowGraph();
    // Every hop's answer comes 200 ms late: one hop fits in the 300 ms time-out, three do not.
    const late = recordingGraph(graph, 200).g;
    const r = await gql(FLOW, { from: g.s, depth: 3 }, { graph: late, limits: { searchTimeoutMs: 300 } });
    expect(code(r)).toBe('QUERY_TIMEOUT');
    expect(r.errors?.[0]?.message).toMatch(/^the flow took longer than 300 ms/);
  });
});

describe('tags', () => {
  it('adds and removes labels with the write key only, without touching ingested data', async () => {
    const g = await buildGraph(graph, ['a', 'b'], [{ from: 'a', to: 'b', block: 1, amount: '5' }]);
    const add =
      'mutation ($a: String!, $l: String!, $s: String!) { addTag(chain: BITTENSOR, address: $a, label: $l, source: $s) { label source createdAt } }';
    const del =
      'mutation ($a: String!, $l: String!, $s: String!) { removeTag(chain: BITTENSOR, address: $a, label: $l, source: $s) }';
    const read =
      'query ($a: String!) { wallet(chain: BITTENSOR, address: $a) { tags { label source } degreeTotal } }';

    const anon = await gql(add, { a: g.a, l: 'exchange', s: 'taostats' });
    expect(anon.errors?.[0]?.message).toBe('this operation needs an API key with the write role');
    expect(code(anon)).toBe('UNAUTHENTICATED');
    expect(code(await gql(add, { a: g.a, l: 'exchange', s: 'taostats' }, { key: READ_KEY }))).toBe(
      'FORBIDDEN',
    );

    const t = ok(await gql(add, { a: g.a, l: 'exchange', s: 'taostats' }, { key: WRITE_KEY })).addTag;
    expect(t).toMatchObject({ label: 'exchange', source: 'taostats' });
    expect(Number.isNaN(Date.parse(t.createdAt))).toBe(false);
    ok(await gql(add, { a: g.a, l: 'exchange', s: 'taostats' }, { key: WRITE_KEY })); // again: no change
    ok(await gql(add, { a: g.a, l: 'scam', s: 'case-42' }, { key: WRITE_KEY }));
    expect(ok(await gql(read, { a: g.a })).wallet).toEqual({
      tags: [
        { label: 'exchange', source: 'taostats' },
        { label: 'scam', source: 'case-42' },
      ],
      degreeTotal: 1,
    });
    expect(ok(await gql(del, { a: g.a, l: 'scam', s: 'case-42' }, { key: WRITE_KEY })).removeTag).toBe(true);
    expect(ok(await gql(del, { a: g.a, l: 'scam', s: 'case-42' }, { key: WRITE_KEY })).removeTag).toBe(false);
    expect(ok(await gql(read, { a: g.a })).wallet.tags).toEqual([{ label: 'exchange', source: 'taostats' }]);

    const nobody = newSs58();
    const missing = await gql(add, { a: nobody, l: 'x', s: 'y' }, { key: WRITE_KEY });
    expect(missing.errors?.[0]?.message).toBe(`no bittensor wallet ${nobody} in Vigil's graph`);
    expect(code(missing)).toBe('NOT_FOUND');
    expect(code(await gql(add, { a: g.a, l: '  ', s: 'y' }, { key: WRITE_KEY }))).toBe('BAD_USER_INPUT');
  });
});

describe('export', () => {
  const EXPORT = `query ($f: ExportFormat!, $n: NeighborsExport, $p: PathsExport, $fl: FlowExport) {
    export(format: $f, neighbors: $n, paths: $p, flow: $fl) { format contentType filename rowCount truncated body } }`;

  it('exports a neighborhood, a path search and a flow as CSV and JSON', async () => {
    const g = await buildGraph(
      graph,
      ['a', 'b', 'c'],
      [
        { from: 'a', to: 'b', block: 1, amount: '5', timestamp: 1_000 },
        { from: 'b', to: 'c', block: 2, amount: '4' },
        { from: 'c', to: 'a', block: 3, amount: '3' },
      ],
    );
    const csv = ok(await gql(EXPORT, { f: 'CSV', n: { chain: 'BITTENSOR', address: g.a } })).export;
    expect(csv).toMatchObject({
      format: 'CSV',
      contentType: 'text/csv; charset=utf-8',
      rowCount: 2,
      truncated: false,
    });
    expect(csv.filename).toMatch(/^vigil-neighbors-.*\.csv$/);
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'chain,path,hop,id,type,from,to,amount,alphaAmount,blockNumber,timestamp,netuid,token,tokenSymbol,tokenDecimals',
    );
    // Bittensor amounts are rao: every value-moving row names TAO with 9 decimals.
    expect(lines.slice(1).map((l: string) => l.split(',').slice(12).join(','))).toEqual([
      'TAO,TAO,9',
      'TAO,TAO,9',
    ]);
    expect(
      lines
        .slice(1)
        .map((l: string) => l.split(',').slice(4, 11).join(','))
        .sort(),
    ).toEqual([`TRANSFER,${g.a},${g.b},5,,1,1000`, `TRANSFER,${g.c},${g.a},3,,3,`]);

    const paths = ok(await gql(EXPORT, { f: 'JSON', p: { chain: 'BITTENSOR', from: g.a, to: g.c } })).export;
    const doc = JSON.parse(paths.body);
    expect(doc).toMatchObject({ kind: 'paths', chain: 'bittensor', query: { from: g.a, to: g.c } });
    expect(doc.nodes.map((n: any) => n.address).sort()).toEqual([g.a, g.b, g.c].sort());
    expect(doc.relationships.map((r: any) => [r.path, r.hop, r.from, r.to, r.amount])).toEqual([
      [0, 1, g.a, g.b, '5'],
      [0, 2, g.b, g.c, '4'],
    ]);

    const flow = ok(await gql(EXPORT, { f: 'CSV', fl: { chain: 'BITTENSOR', from: g.a, depth: 2 } })).export;
    expect(flow.rowCount).toBe(2);
    expect(flow.body).toContain('bittensor,,1,');

    expect(code(await gql(EXPORT, { f: 'CSV' }))).toBe('BAD_USER_INPUT');
  });

  it('exports every relationship of a path hop, not only the five the query lists', async () => {
    const many = Array.from({ length: 7 }, (_, i) => ({
      from: 'a',
      to: 'b',
      block: 10 + i,
      amount: String(i + 1),
    }));
    const g = await buildGraph(
      graph,
      ['a', 'b', 'c'],
      [...many, { from: 'b', to: 'c', block: 20, amount: '9' }],
    );
    const listed = ok(
      await gql(
        `query ($a: String!, $c: String!) { paths(chain: BITTENSOR, from: $a, to: $c) {
           paths { hops { count relationships { amount } } } } }`,
        { a: g.a, c: g.c },
      ),
    ).paths.paths[0].hops[0];
    expect(listed.count).toBe(7);
    expect(listed.relationships.map((r: any) => r.amount)).toEqual(['7', '6', '5', '4', '3']);
    const doc = ok(await gql(EXPORT, { f: 'CSV', p: { chain: 'BITTENSOR', from: g.a, to: g.c } })).export;
    expect(doc).toMatchObject({ rowCount: 8, truncated: false });
    const hop1 = doc.body
      .trimEnd()
      .split('\r\n')
      .slice(1)
      .map((l: string) => l.split(','))
      .filter((f: string[]) => f[2] === '1');
    expect(hop1.map((f: string[]) => f[7]).sort()).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  });
});

describe('guard rails', () => {
  it('refuses too deep or too costly queries before running them, and caps page sizes', async () => {
    const g = await buildGraph(graph, ['a', 'b'], [{ from: 'a', to: 'b', block: 1, amount: '1' }]);
    const nest = (levels: number, first: number) => {
      let inner = 'address';
      for (let i = 0; i < levels; i++)
        inner = `address neighbors(first: ${first}) { edges { node { ${inner} } } }`;
      return `query ($a: String!) { wallet(chain: BITTENSOR, address: $a) { ${inner} } }`;
    };
    ok(await gql(nest(2, 25), { a: g.a }));
    const deep = await gql(nest(4, 1), { a: g.a });
    expect(deep.errors?.[0]?.message).toBe('query depth 14 exceeds the limit of 10');
    expect(deep.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_DEPTH_LIMIT', depth: 14, max: 10 });
    const costly = await gql(nest(2, 100), { a: g.a });
    expect(code(costly)).toBe('QUERY_COST_LIMIT');
    expect(costly.errors?.[0]?.message).toMatch(/^query cost \d+ exceeds the limit of 5000$/);
    // Cost follows variables too.
    const v =
      'query ($a: String!, $n: Int) { wallet(chain: BITTENSOR, address: $a) { neighbors(first: $n) { edges { node { neighbors(first: $n) { edges { node { address } } } } } } } }';
    ok(await gql(v, { a: g.a, n: 5 }));
    expect(code(await gql(v, { a: g.a, n: 100 }))).toBe('QUERY_COST_LIMIT');
    expect(
      code(
        await gql(
          'query ($a: String!) { wallet(chain: BITTENSOR, address: $a) { hotkeys(first: 500) { netuid } } }',
          { a: g.a },
        ),
      ),
    ).toBe('PAGE_SIZE_LIMIT');
    // Introspection is not counted against depth.
    ok(
      await gql(
        '{ __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }',
      ),
    );
  });
});
