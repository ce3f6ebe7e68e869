import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../graph/driver.ts';
import { writeFinding, writeSubgraph } from '../../graph/ingest.ts';
import { writeOutcome } from '../../graph/outcomes.ts';
import { alertId } from '../../protocol/ids.ts';
import type { OutcomeJob } from '../../protocol/ingest.ts';
import { createTestApi } from '../../test/api.ts';
import { newEthAddress, newHash, sampleFinding, sampleSubgraph } from '../../test/fixtures.ts';
import { openTestGraph } from '../../test/services.ts';

// The request's reads (requestReads.ts): what fields and aliases repeat is read once per request.

let base: Graph;
let target: string;

beforeAll(async () => {
  base = await openTestGraph();
  const job = sampleSubgraph();
  await writeSubgraph(base, job, { batchSize: 100 });
  target = job.target;
});
afterAll(() => base.close());

/** The graph with every auto-commit query recorded; `fail` makes queries matching it throw. */
function recording(fail?: RegExp) {
  const calls: string[] = [];
  const graph: Graph = {
    ...base,
    query: async (cypher, params, o) => {
      calls.push(cypher);
      if (fail?.test(cypher))
        throw Object.assign(new Error('connection lost'), { code: 'ServiceUnavailable' });
      return base.query(cypher, params, o);
    },
  };
  const yoga = createTestApi({ graph });
  const ask = async (query: string) => {
    const res = await yoga.fetch('http://vigil.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as { data?: Record<string, unknown> | null; errors?: { path?: unknown[] }[] };
  };
  return { ask, calls };
}

const WALLET_READ = /^MATCH \(n:Wallet \{chain: \$chain, address: \$address\}\) RETURN/;
const DEGREE_READ = /RETURN \[COUNT/;
const wallet = (alias: string, fields: string) =>
  `${alias}: wallet(chain: BITTENSOR, address: "${target}") { ${fields} }`;

describe('per-request reads', () => {
  it('reads a wallet once per request however many aliases ask it, and its degrees once', async () => {
    const { ask, calls } = recording();
    const body = await ask(
      `{ ${wallet('a', 'address')} ${wallet('b', 'isHotkey degreeTotal')} ${wallet('c', 'degree { type count }')} }`,
    );
    expect(body.errors).toBeUndefined();
    expect(calls.filter((c) => WALLET_READ.test(c))).toHaveLength(1);
    expect(calls.filter((c) => DEGREE_READ.test(c))).toHaveLength(1);
    expect(calls).toHaveLength(2);
    // The same answers as asked alone.
    const alone = recording();
    const b = await alone.ask(`{ ${wallet('b', 'isHotkey degreeTotal')} }`);
    const c = await alone.ask(`{ ${wallet('c', 'degree { type count }')} }`);
    expect(body.data).toEqual({ a: { address: target }, ...b.data, ...c.data });
    expect((b.data as { b: { degreeTotal: number } }).b.degreeTotal).toBeGreaterThan(0);
  });

  it('does not share reads between requests', async () => {
    const { ask, calls } = recording();
    await ask(`{ ${wallet('a', 'address')} }`);
    await ask(`{ ${wallet('a', 'address')} }`);
    expect(calls.filter((c) => WALLET_READ.test(c))).toHaveLength(2);
  });

  it('keeps a failed read failed for the request: every alias reports it, one call', async () => {
    const { ask, calls } = recording(WALLET_READ);
    const body = await ask(`{ ${wallet('a', 'address')} ${wallet('b', 'address')} ${wallet('c', 'chain')} }`);
    expect(body.errors?.map((e) => e.path)).toEqual([['a'], ['b'], ['c']]);
    expect(calls).toHaveLength(1);
  });

  it('takes the look-ahead page in the neighbors field: one query for the wallet and its page', async () => {
    const { ask, calls } = recording();
    const body = await ask(
      `{ ${wallet('a', 'address neighbors(first: 5) { edges { node { address } } }')} ${wallet('b', 'address')} }`,
    );
    expect(body.errors).toBeUndefined();
    const a = (body.data as { a: { neighbors: { edges: unknown[] } } }).a;
    expect(a.neighbors.edges.length).toBeGreaterThan(0);
    // The page's query (which reads the wallet too), and `b`'s wallet read (no neighbors asked).
    expect(calls).toHaveLength(2);
  });

  it("reads a page of alerts' actions in one query, each alert with its own", async () => {
    const contract = newEthAddress();
    const findings = [0, 1, 2].map(() =>
      sampleFinding({ invariant: { ...sampleFinding().invariant, contract } }),
    );
    for (const f of findings) await writeFinding(base, { ...f, attackerContracts: [] });
    const ids = findings.map((f) => alertId(f));
    // Alert 0: a pause sent; alert 1: a webhook delivered; alert 2: none reported.
    const outcome = (id: string, o: Partial<OutcomeJob>): OutcomeJob => ({
      kind: 'outcome',
      alertId: id,
      index: 0,
      action: 'pause',
      status: 'sent',
      txHash: newHash(),
      landedFirst: null,
      detail: '',
      validator: { hotkey: 'v-1' },
      at: new Date().toISOString(),
      ...o,
    });
    await writeOutcome(base, outcome(ids[0]!, {}));
    await writeOutcome(base, outcome(ids[1]!, { action: 'webhook', status: 'delivered', txHash: null }));
    const { ask, calls } = recording();
    const body = await ask(
      `{ alerts(filter: { contract: "${contract}" }, first: 10) { edges { node { id actions { kind status } } } } }`,
    );
    expect(body.errors).toBeUndefined();
    const got = Object.fromEntries(
      (body.data as any).alerts.edges.map((e: any) => [e.node.id, e.node.actions]),
    );
    expect(got).toEqual({
      [ids[0]!]: [{ kind: 'PAUSE', status: 'sent' }],
      [ids[1]!]: [{ kind: 'WEBHOOK', status: 'delivered' }],
      [ids[2]!]: [],
    });
    expect(calls.filter((c) => c.includes(':TOOK]'))).toHaveLength(1);
  });
});
