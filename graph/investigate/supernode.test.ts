import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingGraph } from '../../dev/testkit/investigate.ts';
import type { Limits } from '../../services/api/limits.ts';
import { createTestApi } from '../../test/api.ts';
import { openTestGraph } from '../../test/services.ts';
import type { Graph } from '../driver.ts';
import { type NeighborMemory, createNeighborMemory, getNeighbors } from '../wallets/index.ts';
import { typePattern } from './filters.ts';

/**
 * A supernode at test scale: one hub with 20,000 relationships (10,000 in, 10,000 out, amounts
 * 1..10,000). Answers must be exact where the API promises exactness and bounded where it caps.
 */
const N = 10_000;
let graph: Graph;
let hub: string;
let run: string;
// Valid addresses (the API refuses others), unique per run, buildable in Cypher: a 32-byte hex
// key of the run's 8 hex digits, a kind and a number (`in-5` → kind 01, number 5).
const KINDS: Record<string, string> = {
  in: '01',
  out: '02',
  hub: '03',
  x: '04',
  y: '05',
  z: '06',
  late: '07',
  later: '08',
  ca: '09',
  cb: '0a',
  cd: '0b',
};
const ZEROS = '0'.repeat(54);
const w = (k: string) => {
  const [kind, n = '0'] = k.split('-');
  return `0x${run}${KINDS[kind!]}${(ZEROS + n).slice(-54)}`;
};
/** w('<kind>-<i>') in Cypher. */
const wCypher = (kind: string, i: string) =>
  `'0x' + $run8 + '${KINDS[kind]}' + right('${ZEROS}' + toString(${i}), 54)`;

beforeAll(async () => {
  graph = await openTestGraph();
  run = crypto.randomUUID().slice(0, 8);
  hub = w('hub');
  const rows = Array.from({ length: N }, (_, i) => ({ i, amount: String(i + 1) }));
  await graph.write((tx) =>
    tx.run(
      `CREATE (h:Wallet {chain: 'bittensor', address: $hub})
       WITH h UNWIND $rows AS row
       CREATE (s:Wallet {chain: 'bittensor', address: ${wCypher('in', 'row.i')}})
       CREATE (d:Wallet {chain: 'bittensor', address: ${wCypher('out', 'row.i')}})
       CREATE (s)-[:TRANSFER {id: $run + ':in:' + row.i, amount: row.amount, amountValue: toFloat(row.amount), blockNumber: 1000 + row.i}]->(h)
       CREATE (h)-[:TRANSFER {id: $run + ':out:' + row.i, amount: row.amount, amountValue: toFloat(row.amount), blockNumber: 20000 + row.i}]->(d)`,
      { hub, run: `sn${run}`, run8: run, rows: rows.map((r) => ({ ...r, i: neo4j.int(r.i) })) },
    ),
  );
  // A small chain into the hub: x → y → in-5 (→ hub), and x → z.
  await graph.write((tx) =>
    tx.run(
      `CREATE (x:Wallet {chain: 'bittensor', address: $x}), (y:Wallet {chain: 'bittensor', address: $y}), (z:Wallet {chain: 'bittensor', address: $z})
       WITH x, y, z MATCH (s:Wallet {chain: 'bittensor', address: $s})
       CREATE (x)-[:TRANSFER {id: $run + ':xy', amount: '7', amountValue: 7.0, blockNumber: 1}]->(y)
       CREATE (y)-[:TRANSFER {id: $run + ':ys', amount: '8', amountValue: 8.0, blockNumber: 2}]->(s)
       CREATE (x)-[:TRANSFER {id: $run + ':xz', amount: '9', amountValue: 9.0, blockNumber: 3}]->(z)`,
      { x: w('x'), y: w('y'), z: w('z'), s: w('in-5'), run: `sn${run}` },
    ),
  );
}, 120_000);
afterAll(() => graph.close());

async function gql(query: string, variables: Record<string, unknown>, limits?: Partial<Limits>) {
  const yoga = createTestApi({ graph, limits });
  const t0 = performance.now();
  const res = await yoga.fetch('http://vigil.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as {
    data?: any;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  return { ...body, ms: performance.now() - t0 };
}

describe('a wallet with 20,000 relationships', () => {
  it('pages its neighbors with an exact count and amount filters', async () => {
    const q = `query ($a: String!, $after: String, $min: String) { wallet(chain: BITTENSOR, address: $a) {
      degreeTotal neighbors(direction: OUT, first: 100, after: $after, minAmount: $min) { totalCount pageInfo { hasNextPage endCursor } edges { relationship { id amount } } } } }`;
    const first = await gql(q, { a: hub });
    expect(first.errors).toBeUndefined();
    const n = first.data.wallet.neighbors;
    expect(first.data.wallet.degreeTotal).toBe(2 * N + 0);
    expect(n.totalCount).toBe(N);
    expect(n.edges).toHaveLength(100);
    const ids = n.edges.map((e: any) => e.relationship.id);
    expect(ids).toEqual([...ids].sort());
    const second = await gql(q, { a: hub, after: n.pageInfo.endCursor });
    expect(second.data.wallet.neighbors.edges[0].relationship.id > ids.at(-1)).toBe(true);
    // Narrow filters on a supernode: each page walks a bounded stretch of the id index, so a page
    // may come back short; following endCursor gathers exactly the matches.
    const found: string[] = [];
    let after: string | null = null;
    let pages = 0;
    let slowest = 0;
    for (;;) {
      const big: any = await gql(q, { a: hub, min: '9951', after });
      expect(big.errors).toBeUndefined();
      pages++;
      slowest = Math.max(slowest, big.ms);
      const c = big.data.wallet.neighbors;
      expect(c.totalCount).toBe(50);
      found.push(...c.edges.map((e: any) => e.relationship.amount));
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
      expect(pages).toBeLessThan(100);
    }
    expect(found.map(Number).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => 9951 + i));
    console.log(
      `supernode neighbors: ${first.ms.toFixed(0)} ms, next page ${second.ms.toFixed(0)} ms, filtered ${pages} pages, slowest ${slowest.toFixed(0)} ms`,
    );
  });

  it("gives a full first page when the wallet's ids sit beyond the index walk's budget", async () => {
    // 21,000 STAKE_SWAP relationships elsewhere with smaller ids, then a wallet with 2,500 whose ids
    // all sort after them (as a wallet's do when they share its blocks): the walk from the start
    // of the index cannot reach them within its budget.
    const tag = `cl${run}`;
    await graph.write((tx) =>
      tx.run(
        `CREATE (a:Wallet {chain: 'bittensor', address: $ca}), (b:Wallet {chain: 'bittensor', address: $cb})
         CREATE (c:Wallet {chain: 'bittensor', address: $cd})
         WITH a, b, c UNWIND range(0, 20999) AS i
         CREATE (a)-[:STAKE_SWAP {id: $tag + ':a:' + i, amount: '1', amountValue: 1.0, blockNumber: i}]->(b)
         WITH DISTINCT c UNWIND range(0, 2499) AS i
         CREATE (c)-[:STAKE_SWAP {id: $tag + ':z:' + right('0000' + i, 5), amount: '2', amountValue: 2.0, blockNumber: i}]->(c)`,
        { tag, ca: w('ca'), cb: w('cb'), cd: w('cd') },
      ),
    );
    const q = `query ($a: String!, $after: String) { wallet(chain: BITTENSOR, address: $a) {
      neighbors(direction: OUT, types: [STAKE_SWAP], first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { relationship { id } } } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; ; page++) {
      const r: any = await gql(q, { a: w('cd'), after });
      expect(r.errors).toBeUndefined();
      const n = r.data.wallet.neighbors;
      if (page === 0) expect(n.edges).toHaveLength(100);
      seen.push(...n.edges.map((e: any) => e.relationship.id));
      if (!n.pageInfo.hasNextPage) break;
      expect(n.edges).toHaveLength(100);
      after = n.pageInfo.endCursor;
      expect(page).toBeLessThan(30);
    }
    expect(seen).toHaveLength(2500);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(2500);

    // A relationship ingested later with an id before all the others (an older block) is on the
    // first page at once: where the group starts is remembered only while its degree holds.
    await graph.write((tx) =>
      tx.run(
        `MATCH (c:Wallet {chain: 'bittensor', address: $cd})
         CREATE (c)-[:STAKE_SWAP {id: $tag + ':y:0', amount: '3', amountValue: 3.0, blockNumber: 1}]->(c)`,
        { tag, cd: w('cd') },
      ),
    );
    const again: any = await gql(q, { a: w('cd'), after: null });
    expect(again.errors).toBeUndefined();
    expect(again.data.wallet.neighbors.edges[0].relationship.id).toBe(`${tag}:y:0`);
    expect(again.data.wallet.neighbors.edges.slice(1).map((e: any) => e.relationship.id)).toEqual(
      seen.slice(0, 99),
    );
  });

  it('finds paths into the hub by expanding from the small side only', async () => {
    const q = `query ($from: String!, $to: String!) { paths(chain: BITTENSOR, from: $from, to: $to, maxDepth: 4, limit: 1) {
      shortestLength truncated explored { hopsFromSource hopsFromTarget relationships } paths { wallets hops { amount } } } }`;
    const r = await gql(q, { from: w('x'), to: hub });
    expect(r.errors).toBeUndefined();
    const p = r.data.paths;
    expect(p.shortestLength).toBe(3);
    expect(p.paths[0].wallets).toEqual([w('x'), w('y'), w('in-5'), hub]);
    expect(p.paths[0].hops.map((h: any) => h.amount)).toEqual(['7', '8', '6']);
    // The hub (10,000 relationships in) was never expanded: the search went x → y → in-5 → hub.
    expect(p.explored.hopsFromTarget).toBe(0);
    expect(p.explored.relationships).toBe(4);
    console.log(`supernode paths in: ${r.ms.toFixed(0)} ms`);

    // Out of the hub to one of its 10,000 receivers: searched backwards from the receiver.
    const out = await gql(q, { from: hub, to: w('out-3') });
    expect(out.data.paths.paths[0].wallets).toEqual([hub, w('out-3')]);
    expect(out.data.paths.explored).toMatchObject({ hopsFromSource: 0, hopsFromTarget: 1, relationships: 1 });
    console.log(`supernode paths out: ${out.ms.toFixed(0)} ms`);
  });

  it('traces flow out of the hub with the per-wallet cap, largest amounts first', async () => {
    const q = `query ($a: String!) { flow(chain: BITTENSOR, from: $a, depth: 3, walletsPerHop: 3) {
      truncated hops { hop count walletCount amount wallets { address amount } } } }`;
    const r = await gql(q, { a: hub });
    expect(r.errors).toBeUndefined();
    const f = r.data.flow;
    expect(f.truncated).toBe(true);
    expect(f.hops).toHaveLength(1);
    // A dense wallet gives its first 100 relationships (storage order, not sorted: bounded work),
    // summed exactly and listed largest first.
    expect(f.hops[0]).toMatchObject({ hop: 1, count: 100, walletCount: 100 });
    const listed = f.hops[0].wallets.map((x: any) => Number(x.amount));
    expect(listed).toEqual([...listed].sort((x, y) => y - x));
    const all = await gql(
      'query ($a: String!) { export(format: JSON, flow: { chain: BITTENSOR, from: $a, depth: 1 }) { body } }',
      { a: hub },
    );
    const rels = JSON.parse(all.data.export.body).relationships;
    expect(rels).toHaveLength(100);
    expect(f.hops[0].amount).toBe(String(rels.reduce((s: number, r: any) => s + Number(r.amount), 0)));
    expect(Math.max(...listed)).toBe(Math.max(...rels.map((r: any) => Number(r.amount))));
    const back = await gql(
      'query ($a: String!) { flow(chain: BITTENSOR, from: $a, direction: IN, depth: 3) { hops { hop count } } }',
      { a: hub },
    );
    // The 100 largest senders into the hub received nothing themselves.
    expect(back.data.flow.hops.map((h: any) => h.count)).toEqual([100]);
    console.log(`supernode flow: ${r.ms.toFixed(0)} ms out, ${back.ms.toFixed(0)} ms in`);
  });

  it('answers a Neo4j time-out with QUERY_TIMEOUT, not a masked error', async () => {
    const r = await gql(
      'query ($a: String!) { export(format: CSV, neighbors: { chain: BITTENSOR, address: $a }) { rowCount } }',
      { a: hub },
      { searchTimeoutMs: 1 },
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('QUERY_TIMEOUT');
    expect(r.errors?.[0]?.message).toMatch(/^the export took longer than 1 ms/);
  });

  it('keeps what the API learns of dense wallets in the memory it was built with', async () => {
    const ask = async (neighborMemory: NeighborMemory) => {
      const res = await createTestApi({ graph, neighborMemory }).fetch('http://vigil.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query:
            'query ($a: String!) { wallet(chain: BITTENSOR, address: $a) { neighbors(first: 5) { edges { cursor } } } }',
          variables: { a: hub },
        }),
      });
      return (await res.json()) as { errors?: unknown };
    };
    const mine = createNeighborMemory();
    expect((await ask(mine)).errors).toBeUndefined();
    expect([...mine.denseDegrees.keys()]).toEqual([`bittensor\n${hub}\nBOTH\n${typePattern(null)}`]);
    expect(mine.firstPages.size).toBe(2); // TRANSFER out and in
    const other = createNeighborMemory();
    expect((await ask(other)).errors).toBeUndefined();
    expect(other.denseDegrees.size).toBe(1);
    expect(mine.denseDegrees.size).toBe(1);
  });

  it("answers a known dense wallet's first page in its first query, until the wallet changes", async () => {
    // A memory of dense wallets of its own (as the API builds one), empty; `fresh()`: none kept.
    const { g: counted, queries } = recordingGraph(graph);
    const kept = createNeighborMemory();
    const fresh = createNeighborMemory;
    const ask = (g: Graph, first = 25, memory: NeighborMemory = kept) =>
      getNeighbors(g, { chain: 'bittensor', address: hub, direction: 'BOTH', first, after: null }, memory);
    const page = (p: Awaited<ReturnType<typeof ask>>) => ({
      ids: p.edges.map((e) => e.relationship.id),
      hasNextPage: p.hasNextPage,
      endCursor: p.endCursor,
    });
    const cold = await ask(counted);
    expect(queries.length).toBeGreaterThan(1);
    await ask(counted); // known dense now: its groups' first pages are kept
    queries.length = 0;
    const hot = await ask(counted);
    expect(queries).toHaveLength(1);
    expect(page(hot)).toEqual(page(cold));
    expect(hot.edges).toEqual((await ask(graph, 25, fresh())).edges);
    // A longer page than the kept ones: read as before, and the same as without any memory.
    queries.length = 0;
    const longer = await ask(counted, 100);
    expect(queries.length).toBeGreaterThan(1);
    expect(page(longer)).toEqual(page(await ask(graph, 100, fresh())));

    // A relationship with the smallest id yet: the degree changes, the kept page is not used.
    const id = `sn${run}:a:0`;
    await graph.write((tx) =>
      tx.run(
        `MATCH (h:Wallet {chain: 'bittensor', address: $hub})
         CREATE (h)<-[:TRANSFER {id: $id, amount: '0', amountValue: 0.0, blockNumber: 1}]-(:Wallet {chain: 'bittensor', address: $from})`,
        { hub, id, from: w('late') },
      ),
    );
    queries.length = 0;
    const changed = await ask(counted);
    expect(queries.length).toBeGreaterThan(1);
    expect(changed.edges[0]!.relationship.id).toBe(id);
    expect(page(changed).ids.slice(1)).toEqual(page(cold).ids.slice(0, 24));

    // A kept relationship gone under an equal degree (ingestion never deletes; a hand edit might,
    // adding another into the same group): the page is read again, not cut short.
    queries.length = 0;
    await ask(counted);
    expect(queries).toHaveLength(1);
    const gone = page(changed).ids[2]!;
    expect(gone).toMatch(/:in:/);
    await graph.write((tx) =>
      tx.run(
        `MATCH ()-[r:TRANSFER {id: $gone}]->() DELETE r
         WITH count(*) AS deleted MATCH (h:Wallet {chain: 'bittensor', address: $hub})
         CREATE (h)<-[:TRANSFER {id: $id, amount: '0', amountValue: 0.0, blockNumber: 1}]-(:Wallet {chain: 'bittensor', address: $from})`,
        { gone, hub, id: `sn${run}:z:0`, from: w('later') },
      ),
    );
    queries.length = 0;
    const edited = await ask(counted);
    expect(queries.length).toBeGreaterThan(1);
    expect(page(edited).ids).not.toContain(gone);
    expect(page(edited)).toEqual(page(await ask(graph, 25, fresh())));
    expect(edited.edges).toHaveLength(25);
  });
});
