import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingGraph } from '../../dev/testkit/investigate.ts';
import type { Graph } from '../../graph/driver.ts';
import { writeSubgraph } from '../../graph/ingest.ts';
import { createTestApi } from '../../test/api.ts';
import { sampleSubgraph } from '../../test/fixtures.ts';
import { openTestGraph } from '../../test/services.ts';

// Bad input and refused callers (issue 15 item 5): a code naming the argument, a short message
// whatever the input's size, the right HTTP status, and no Neo4j work for what is refused.

let base: Graph;
let target: string;
let other: string;
const READ = 'read-key-of-the-input-test';
const WRITE = 'write-key-of-the-input-test';
const HUGE = 'x'.repeat(5000);

beforeAll(async () => {
  base = await openTestGraph();
  const job = sampleSubgraph();
  await writeSubgraph(base, job, { batchSize: 100 });
  target = job.target;
  other = job.nodes[1]!.address;
});
afterAll(() => base.close());

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

function api() {
  const { g, queries } = recordingGraph(base);
  const yoga = createTestApi({
    graph: g,
    keys: [
      { role: 'read', key: READ },
      { role: 'write', key: WRITE },
    ],
  });
  const ask = async (query: string, headers: Record<string, string> = {}) => {
    const res = await yoga.fetch('http://vigil.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    return { status: res.status, body: (await res.json()) as Answer };
  };
  return { ask, queries };
}
const firstError = (a: Answer) => a.errors?.[0];

describe('input validation', () => {
  it('refuses invalid addresses with BAD_USER_INPUT naming the argument, paths and flow included', async () => {
    const { ask, queries } = api();
    const cases: [string, string][] = [
      ['address', '{ wallet(chain: BITTENSOR, address: "not-an-address") { address } }'],
      ['from', `{ paths(chain: BITTENSOR, from: "nope", to: "${target}") { shortestLength } }`],
      ['to', `{ paths(chain: BITTENSOR, from: "${target}", to: "5Fnope") { shortestLength } }`],
      ['from', '{ flow(chain: BITTENSOR, from: "nope") { truncated } }'],
      ['address', '{ wallet(chain: ETHEREUM, address: "0x1234") { address } }'],
      ['filter.contract', '{ alerts(filter: { contract: "0xnot" }) { edges { cursor } } }'],
    ];
    for (const [argument, query] of cases) {
      const { body } = await ask(query);
      expect({ argument, error: firstError(body) }).toMatchObject({
        argument,
        error: { extensions: { code: 'BAD_USER_INPUT', argument } },
      });
      expect(firstError(body)!.message).toContain(argument);
    }
    expect(queries).toEqual([]);
  });

  it('quotes at most 40 characters of a large input, and says how long it was', async () => {
    const { ask } = api();
    const queries = [
      `{ wallet(chain: BITTENSOR, address: "${HUGE}") { address } }`,
      `{ wallet(chain: BITTENSOR, address: "${target}") { neighbors(minAmount: "${HUGE}") { totalCount } } }`,
      `{ wallet(chain: BITTENSOR, address: "${target}") { neighbors(window: { fromTime: "${HUGE}" }) { totalCount } } }`,
      `{ alerts(filter: { from: "${HUGE}" }) { edges { cursor } } }`,
      `{ wallet(chain: BITTENSOR, address: "${target}") { neighbors(after: "${HUGE}") { totalCount } } }`,
      // graphql's own messages: an unknown enum value, a string where a number goes.
      `{ wallet(chain: BITTENSOR${'X'.repeat(4991)}, address: "${target}") { address } }`,
      `{ wallet(chain: BITTENSOR, address: "${target}") { neighbors(first: "${HUGE}") { totalCount } } }`,
    ];
    for (const query of queries) {
      const error = firstError((await ask(query)).body)!;
      expect(error.extensions?.code).toMatch(/^(BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED)$/);
      expect(error.message).toContain('(5000 characters)');
      expect(error.message.length).toBeLessThan(250);
    }
  });

  it('refuses a malformed neighbors cursor, and still follows a real one', async () => {
    const { ask } = api();
    const page = (after: string) =>
      `{ wallet(chain: BITTENSOR, address: "${target}") { neighbors(first: 1, after: ${JSON.stringify(after)}) { pageInfo { endCursor } } } }`;
    const bad = await ask(page('garbage'));
    expect(firstError(bad.body)?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
    const first = await ask(
      `{ wallet(chain: BITTENSOR, address: "${target}") { neighbors(first: 1) { pageInfo { endCursor } } } }`,
    );
    const cursor = (first.body.data as { wallet: { neighbors: { pageInfo: { endCursor: string } } } }).wallet
      .neighbors.pageInfo.endCursor;
    const next = await ask(page(cursor));
    expect(next.body.errors).toBeUndefined();
  });

  it('refuses control characters in tag labels and sources', async () => {
    const { ask } = api();
    const add = (label: string, source = 'input-test') =>
      ask(
        `mutation { addTag(chain: BITTENSOR, address: "${other}", label: ${JSON.stringify(label)}, source: ${JSON.stringify(source)}) { label } }`,
        { 'x-api-key': WRITE },
      );
    for (const [label, source, argument, found] of [
      ['bad\u0000label', 'input-test', 'label', 'U+0000'],
      ['fine', 'src\u001b[31m', 'source', 'U+001B'],
      ['line\nbreak', 'input-test', 'label', 'U+000A'],
    ]) {
      const error = firstError((await add(label!, source)).body);
      expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
      expect(error?.message).toContain(found);
    }
    const ok = await add('exchange hot wallet');
    expect(ok.body.data).toEqual({ addTag: { label: 'exchange hot wallet' } });
  });
});

describe('auth refusals', () => {
  it('answers 401 for a missing or invalid key and 403 for a read key, on a mutation', async () => {
    const { ask } = api();
    const mutation = `mutation { removeTag(chain: BITTENSOR, address: "${other}", label: "x", source: "y") }`;
    const invalid = await ask('{ health { ok } }', { 'x-api-key': 'not-a-key-of-this-api' });
    expect(invalid.status).toBe(401);
    expect(firstError(invalid.body)?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(firstError(invalid.body)?.extensions).not.toHaveProperty('http');
    const anonymous = await ask(mutation);
    expect(anonymous.status).toBe(401);
    expect(firstError(anonymous.body)?.extensions?.code).toBe('UNAUTHENTICATED');
    const readKey = await ask(mutation, { authorization: `Bearer ${READ}` });
    expect(readKey.status).toBe(403);
    expect(firstError(readKey.body)?.extensions?.code).toBe('FORBIDDEN');
    const writeKey = await ask(mutation, { 'x-api-key': WRITE });
    expect(writeKey.status).toBe(200);
    expect(writeKey.body.data).toEqual({ removeTag: false });
  });
});
