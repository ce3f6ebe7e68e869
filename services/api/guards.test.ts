import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../graph/driver.ts';
import { writeSubgraph } from '../../graph/ingest.ts';
import { createTestApi } from '../../test/api.ts';
import { sampleSubgraph } from '../../test/fixtures.ts';
import { openTestGraph } from '../../test/services.ts';
import { FIELD_WEIGHTS, type Limits, NEO4J_CALL } from './limits.ts';
import { caseResolvers } from './resolvers/cases.ts';
import { crossChainResolvers } from './resolvers/crossChain.ts';
import { defenseResolvers } from './resolvers/defense.ts';
import { investigateResolvers } from './resolvers/investigate.ts';
import { operatorResolvers } from './resolvers/operators.ts';
import { walletResolvers } from './resolvers/wallets.ts';

// The abusive shapes of issue 15, each refused with a code before it reaches Neo4j, and the API
// answering a normal question at once afterwards.

let base: Graph;
let hub: string;
const READ_KEY = 'read-key-for-guards-test';

beforeAll(async () => {
  base = await openTestGraph();
  const job = sampleSubgraph();
  await writeSubgraph(base, job, { batchSize: 100 });
  hub = job.target;
});
afterAll(() => base.close());

/** The graph with every Neo4j call (queries and verify) counted, optionally slowed. */
function countingGraph(delayMs = 0) {
  const calls: string[] = [];
  const pause = () => new Promise((r) => setTimeout(r, delayMs));
  const graph: Graph = {
    ...base,
    query: async (cypher, params, o) => {
      calls.push(cypher);
      const res = await base.query(cypher, params, o);
      if (delayMs) await pause();
      return res;
    },
    verify: async () => {
      calls.push('verify');
      await base.verify();
    },
  };
  return { graph, calls };
}

function api(limits: Partial<Limits> = {}, delayMs = 0) {
  const { graph, calls } = countingGraph(delayMs);
  const yoga = createTestApi({ graph, limits, keys: [{ role: 'read', key: READ_KEY }] });
  const ask = async (query: string, headers: Record<string, string> = {}) => {
    const res = await yoga.fetch('http://vigil.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    const text = await res.text();
    return { status: res.status, bytes: text.length, body: JSON.parse(text) as Answer };
  };
  return { ask, calls };
}
interface Answer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}
const codes = (a: Answer) => a.errors?.map((e) => e.extensions?.code);
const aliases = (n: number, field: string) =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
const SCHEMA_ARGS = '__schema { types { fields { args { name type { name } } } } }';
const SCHEMA_WIDE =
  '__schema { types { name kind description fields { name description isDeprecated args { name description type { name kind } } } } }';
const degreeOf = (address: string) => `wallet(chain: BITTENSOR, address: "${address}") { degreeTotal }`;

/** The API answers health and a wallet question right after an abusive request. */
async function stillHealthy(ask: ReturnType<typeof api>['ask']) {
  const t0 = performance.now();
  const { body } = await ask(`{ health { ok } ${degreeOf(hub)} }`);
  expect(body.errors).toBeUndefined();
  expect(body.data).toMatchObject({ health: { ok: true }, wallet: { degreeTotal: expect.any(Number) } });
  return performance.now() - t0;
}

describe('abusive request shapes (issue 15)', () => {
  it('refuses 7,000 aliases of __schema (986 KB) by its token count, before it runs', async () => {
    const { ask, calls } = api();
    const query = aliases(7000, SCHEMA_WIDE);
    expect(query.length).toBeGreaterThan(950_000);
    expect(query.length).toBeLessThan(1_000_000); // under the 1 MB body limit
    const { body, bytes } = await ask(query);
    expect(codes(body)).toEqual(['TOKEN_LIMIT']);
    expect(bytes).toBeLessThan(1000);
    expect(calls).toEqual([]);
    await stillHealthy(ask);
  });

  it('refuses 3,000 aliases of __schema by the alias limit when tokens are not limited', async () => {
    const { ask, calls } = api({ maxTokens: 10_000_000 });
    const { body } = await ask(aliases(3000, SCHEMA_ARGS));
    expect(codes(body)).toEqual(['ALIAS_LIMIT']);
    expect(body.errors![0]!.message).toContain('found 3000');
    expect(calls).toEqual([]);
    await stillHealthy(ask);
  });

  it('counts introspection in the cost: 15 aliases of __schema are refused, one is answered', async () => {
    const { ask } = api();
    const many = await ask(aliases(15, SCHEMA_ARGS));
    expect(codes(many.body)).toEqual(['QUERY_COST_LIMIT']);
    const one = await ask(`{ ${SCHEMA_ARGS} }`);
    expect(one.body.errors).toBeUndefined();
    expect((one.body.data as { __schema: { types: unknown[] } }).__schema.types.length).toBeGreaterThan(20);
  });

  it('refuses introspection that nests fields in fields, answers GraphiQL’s own introspection query', async () => {
    const { ask } = api();
    const deep = await ask(
      '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }',
    );
    expect(codes(deep.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(deep.body.errors![0]!.message).toBe('Maximum introspection depth exceeded');
    const graphiql = await ask(getIntrospectionQuery());
    expect(graphiql.body.errors).toBeUndefined();
    expect(graphiql.body.data).toHaveProperty('__schema.queryType.name', 'Query');
  });

  it('with introspection keyed, refuses it to anonymous callers and answers a key holder', async () => {
    const { ask } = api({ introspection: 'keyed' });
    const anonymous = await ask('{ __type(name: "Wallet") { name } }');
    expect(codes(anonymous.body)).toEqual(['INTROSPECTION_DISABLED']);
    const keyed = await ask('{ __type(name: "Wallet") { name } }', { 'x-api-key': READ_KEY });
    expect(keyed.body.data).toEqual({ __type: { name: 'Wallet' } });
    // __typename is not introspection of the schema: still open.
    const typename = await ask('{ __typename }');
    expect(typename.body.data).toEqual({ __typename: 'Query' });
  });

  it('refuses 16 aliases of health, and prices health as a Neo4j call (600 aliases over the cost)', async () => {
    const { ask, calls } = api();
    expect(codes((await ask(aliases(16, 'health { ok }'))).body)).toEqual(['ALIAS_LIMIT']);
    const loose = api({ maxAliases: 10_000, maxTokens: 10_000_000 });
    expect(codes((await loose.ask(aliases(600, 'health { ok }'))).body)).toEqual(['QUERY_COST_LIMIT']);
    expect([...calls, ...loose.calls]).toEqual([]);
    // Within the limits, aliases of health share one Neo4j call.
    const fine = await loose.ask(aliases(15, 'health { ok }'));
    expect(fine.body.errors).toBeUndefined();
    expect(loose.calls).toEqual(['verify']);
  });

  it('refuses 1,000 aliases of degreeTotal on a hub, by aliases and by cost', async () => {
    const { ask, calls } = api();
    expect(codes((await ask(aliases(1000, degreeOf(hub)))).body)).toEqual(['TOKEN_LIMIT']);
    const loose = api({ maxAliases: 10_000, maxTokens: 10_000_000 });
    expect(codes((await loose.ask(aliases(1000, degreeOf(hub)))).body)).toEqual(['QUERY_COST_LIMIT']);
    const tokens = api({ maxTokens: 10_000_000 });
    expect(codes((await tokens.ask(aliases(1000, degreeOf(hub)))).body)).toEqual(['ALIAS_LIMIT']);
    expect([...calls, ...loose.calls, ...tokens.calls]).toEqual([]);
    await stillHealthy(ask);
  });

  it('replaces an answer over maxResponseBytes with RESPONSE_TOO_LARGE', async () => {
    const { ask } = api({ maxResponseBytes: 2000 });
    const { body, bytes } = await ask(`{ ${SCHEMA_ARGS} }`);
    expect(codes(body)).toEqual(['RESPONSE_TOO_LARGE']);
    expect(body.data ?? null).toBeNull();
    expect(bytes).toBeLessThan(1000);
  });

  it('answers REQUEST_TIMEOUT past the time budget and starts no Neo4j work after it', async () => {
    // Each Neo4j call takes ≥ 300 ms; the budget is 100 ms: the wallet is read, its neighbors'
    // degrees (one read each) must not start.
    const { ask, calls } = api({ requestTimeoutMs: 100 }, 300);
    const { body } = await ask(
      `{ wallet(chain: BITTENSOR, address: "${hub}") { neighbors(first: 5) { edges { node { degreeTotal } } } } }`,
    );
    expect(codes(body)).toContain('REQUEST_TIMEOUT');
    const started = calls.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(calls.length).toBe(started);
    expect(started).toBe(1);
  });
});

describe('pricing', () => {
  // Resolvers that compute from their parent in memory. A new resolver fails this test until it is
  // priced in FIELD_WEIGHTS (it reaches Neo4j) or listed here (it does not).
  const IN_MEMORY = new Set([
    'CrossChainPath.length',
    'HolderLink.fromChain',
    'HolderLink.fromAddress',
    'HolderLink.toChain',
    'HolderLink.toAddress',
    'Wallet.chain',
    'Alert.chain',
    'Alert.severity',
    'Edge.timestamp',
    'Path.length',
    'RegisteredInvariant.severity',
    'RegisteredInvariant.definition',
    'DefenseAction.kind',
    'Case.chain',
    'Subscription.alertRaised', // events from Redis pub/sub
  ]);
  it('prices every resolver that reaches Neo4j at NEO4J_CALL or more', () => {
    const unpriced: string[] = [];
    for (const map of [
      walletResolvers,
      investigateResolvers,
      crossChainResolvers,
      defenseResolvers,
      caseResolvers,
      operatorResolvers,
    ])
      for (const [type, fields] of Object.entries(map))
        for (const field of Object.keys(fields as object)) {
          const key = `${type}.${field}`;
          if (IN_MEMORY.has(key) || type === 'Relationship') continue; // its stored properties
          if (!((FIELD_WEIGHTS[key] ?? 0) >= NEO4J_CALL)) unpriced.push(key);
        }
    expect(unpriced).toEqual([]);
  });
});
