import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../graph/driver.ts';
import { writeFinding, writeSubgraph } from '../../graph/ingest.ts';
import { createTestApi } from '../../test/api.ts';
import { sampleFinding, sampleSubgraph } from '../../test/fixtures.ts';
import { openTestGraph } from '../../test/services.ts';
import { upsertInvariant } from '../defense/invariantStore.ts';
import { validateRegistration } from '../defense/registry.ts';
import { type ApiHandler, createApiSchema } from './server.ts';

// The API compiles queries with graphql-jit for speed; graphql-js is the reference. A compiled
// subscription once ignored its arguments (services/api/subscription.test.ts): this asks every
// field of every query root both ways and wants the same answers.

let graph: Graph;
let wallets: string[];
let txHash: string;
let invariantId: string;
let chainId: number;

beforeAll(async () => {
  graph = await openTestGraph();
  const job = sampleSubgraph();
  await writeSubgraph(graph, job, { batchSize: 100 });
  wallets = job.nodes.map((n) => n.address);
  chainId = 880_000 + Math.floor(Math.random() * 10_000);
  const finding = sampleFinding({ chainId });
  await writeFinding(graph, finding);
  txHash = finding.tx.hash;
  const registered = validateRegistration({
    chainId,
    severity: 'high',
    definition: {
      id: finding.invariant.id,
      kind: 'unchanged',
      contract: finding.invariant.contract,
      slot: 4,
    },
    actions: [{ kind: 'pause' }, { kind: 'webhook', url: 'https://hooks.example/vigil' }],
  });
  await upsertInvariant(graph, registered.registration, registered.invariant);
  invariantId = finding.invariant.id;
});
afterAll(() => graph.close());

const schema = createApiSchema();
const root = schema.getQueryType()!.getFields();

// Walked by shape, not with graphql's own helpers: vitest may load another copy of graphql than
// the schema's, and graphql refuses types "from another realm".
interface SchemaType {
  ofType?: SchemaType;
  getFields?: () => Record<
    string,
    { name: string; type: SchemaType; args: { type: SchemaType; defaultValue?: unknown }[] }
  >;
}
const named = (t: SchemaType): SchemaType => (t.ofType ? named(t.ofType) : t);
const required = (t: SchemaType) => String(t).endsWith('!');

/** Every field of `type` to `depth` levels, skipping fields with required arguments. */
function everyField(type: SchemaType, depth: number): string {
  const fields = Object.values(type.getFields!()).flatMap((f) => {
    if (f.args.some((a) => required(a.type) && a.defaultValue === undefined)) return [];
    const inner = named(f.type);
    if (!inner.getFields) return [f.name];
    const nested = depth > 0 ? everyField(inner, depth - 1) : '';
    return nested ? [`${f.name} { ${nested} }`] : [];
  });
  return fields.join(' ');
}
const all = (field: string, depth: number) => everyField(named(root[field]!.type as SchemaType), depth);

// Every field of a wallet to depth 2 is ~800 Neo4j reads, over the production cost limit.
const limits = { maxQueryCost: 20_000 };
function handlers() {
  return { jit: createTestApi({ graph, limits }), js: createTestApi({ graph, limits, jit: false }) };
}

async function ask(yoga: ApiHandler, query: string) {
  const res = await yoga.fetch('http://vigil.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { data?: unknown; errors?: Record<string, unknown>[] };
  return {
    // Compiled resolvers' errors carry no `locations` (graphql-jit); everything else must match.
    errors: body.errors?.map(({ locations: _, ...e }) => e),
    // Export file names carry the time they were made.
    data: JSON.parse(
      JSON.stringify(body.data ?? null).replace(/\d{4}-\d\d-\d\dT[\d-]+Z\.(csv|json)/g, 'T.$1'),
    ),
  };
}

describe('graphql-jit answers as graphql-js does', () => {
  it('for every field of every query root, and for errors', async () => {
    const [target, b, c] = wallets as [string, string, string];
    const documents: Record<string, string> = {
      wallet: `{ wallet(chain: BITTENSOR, address: "${target}") { ${all('wallet', 2)} } }`,
      absent: `{ wallet(chain: BITTENSOR, address: "${target}x") { address } }`,
      paths: `{ paths(chain: BITTENSOR, from: "${b}", to: "${c}", directed: false) { ${all('paths', 3)} } }`,
      flowOut: `{ flow(chain: BITTENSOR, from: "${target}") { ${all('flow', 3)} } }`,
      flowIn: `{ flow(chain: BITTENSOR, from: "${b}", direction: IN) { ${all('flow', 3)} } }`,
      alerts: `{ alerts(filter: { txHash: "${txHash}" }) { ${all('alerts', 3)} } }`,
      invariant: `{ invariant(id: "${invariantId}") { ${all('invariant', 2)} } }`,
      invariants: `{ invariants(chainId: ${chainId}) { ${all('invariants', 2)} } }`,
      exportCsv: `{ export(format: CSV, neighbors: { chain: BITTENSOR, address: "${target}" }) { ${all('export', 1)} } }`,
      exportJson: `{ export(format: JSON, paths: { chain: BITTENSOR, from: "${b}", to: "${c}", directed: false }) { ${all('export', 1)} } }`,
      limit: `{ paths(chain: BITTENSOR, from: "${b}", to: "${c}", maxDepth: 9) { truncated } }`,
      badInput: `{ wallet(chain: BITTENSOR, address: "${target}") { neighbors(minAmount: "ten") { totalCount } } }`,
    };
    const { jit, js } = handlers();
    let withData = 0;
    for (const [name, query] of Object.entries(documents)) {
      const [compiled, reference] = [await ask(jit, query), await ask(js, query)];
      expect({ name, ...compiled }).toEqual({ name, ...reference });
      if (reference.data && JSON.stringify(reference.data).length > 200) withData++;
    }
    // The comparison means something only if the answers carry data: most of them must.
    expect(withData).toBeGreaterThanOrEqual(9);
    expect((await ask(jit, documents.limit!)).errors?.[0]?.extensions).toMatchObject({
      code: 'ARGUMENT_LIMIT',
    });
    expect((await ask(jit, documents.badInput!)).errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
    });
  });
});
