import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../graph/driver.ts';
import { writeSubgraph } from '../../graph/ingest.ts';
import type { SubgraphJob } from '../../protocol/ingest.ts';
import { createTestApi } from '../../test/api.ts';
import { sampleSubgraph } from '../../test/fixtures.ts';
import { openTestGraph, waitFor } from '../../test/services.ts';
import type { AdmissionSettings } from './admission.ts';
import type { Limits } from './limits.ts';

// Admission (services/api/admission.ts): a caller who spent its cost budget is refused with 429
// while another caller is served; expensive requests take turns in their lane while cheap ones
// pass; an expensive request's Neo4j statements in flight are capped. Orderings and counts, no timings.

let base: Graph;
let job: SubgraphJob;
const KEY_A = 'read-key-of-caller-a-0001';
const KEY_B = 'read-key-of-caller-b-0002';

beforeAll(async () => {
  base = await openTestGraph();
  job = sampleSubgraph();
  await writeSubgraph(base, job, { batchSize: 100 });
});
afterAll(() => base.close());

/**
 * The test graph with its `query` statements held at a gate while it is closed, and a log of each
 * statement's start and end (by the wallet address in its parameters) and of the most in flight.
 */
function gatedGraph() {
  let open!: () => void;
  let gate: Promise<void> | undefined;
  const events: string[] = [];
  /** When each event happened (performance.now()), by index. */
  const at: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const addressOf = (params: Record<string, unknown>) =>
    String(params.address ?? params.addresses ?? JSON.stringify(params)).slice(0, 60);
  const graph: Graph = {
    ...base,
    query: async (cypher, params, o) => {
      const who = addressOf(params);
      events.push(`start ${who}`);
      at.push(performance.now());
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (gate) await gate;
        return await base.query(cypher, params, o);
      } finally {
        inFlight--;
        events.push(`end ${who}`);
        at.push(performance.now());
      }
    },
  };
  return {
    graph,
    events,
    at,
    maxInFlight: () => maxInFlight,
    close: () => {
      gate = new Promise<void>((r) => (open = r));
    },
    open: () => {
      gate = undefined;
      open?.();
    },
  };
}

function api(graph: Graph, admission: Partial<AdmissionSettings>, limits: Partial<Limits> = {}) {
  const registry = new Registry();
  const yoga = createTestApi({
    graph,
    admission,
    registry,
    limits,
    keys: [
      { role: 'read', key: KEY_A },
      { role: 'read', key: KEY_B },
    ],
  });
  const ask = async (query: string, key?: string) => {
    const res = await yoga.fetch('http://vigil.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) },
      body: JSON.stringify({ query }),
    });
    const body = (await res.json()) as {
      data?: Record<string, unknown> | null;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    };
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
  };
  const lane = async (state: 'running' | 'waiting') =>
    (await registry.getSingleMetric('vigil_api_expensive_lane')!.get()).values.find(
      (v) => v.labels.state === state,
    )?.value;
  const refused = async (reason: string) =>
    (await registry.getSingleMetric('vigil_api_requests_refused_total')!.get()).values.find(
      (v) => v.labels.reason === reason,
    )?.value ?? 0;
  return { ask, lane, refused };
}

// `health` is priced as one Neo4j call: 10 (limits.ts FIELD_WEIGHTS), with `ok` free.
const HEALTH = '{ health { ok } }';
const wallet = (address: string) => `wallet(chain: BITTENSOR, address: "${address}") { address degreeTotal }`;

describe('the cost budget per caller', () => {
  it('refuses a caller who spent its budget with 429, Retry-After and a clear message; another caller is served at once', async () => {
    const { ask, refused } = api(base, { costBudget: 30, costWindowSeconds: 60 });
    for (let i = 0; i < 3; i++) {
      const ok = await ask(HEALTH, KEY_A);
      expect([ok.status, ok.body.errors]).toEqual([200, undefined]);
    }
    const spent = await ask(HEALTH, KEY_A);
    expect(spent.status).toBe(429);
    expect(Number(spent.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(spent.retryAfter)).toBeLessThanOrEqual(60);
    expect(spent.body.data ?? null).toBeNull();
    expect(spent.body.errors).toHaveLength(1);
    const err = spent.body.errors![0]!;
    expect(err.extensions).toMatchObject({
      code: 'COST_BUDGET_SPENT',
      budget: 30,
      windowSeconds: 60,
      cost: 10,
    });
    expect(err.message).toMatch(
      /^cost budget spent: this caller \(API key [0-9a-f]{8}…\) may spend 30 per 60 s/,
    );
    expect(err.message).toContain(`retry after ${spent.retryAfter} s`);
    expect(err.message).not.toContain(KEY_A);
    // Still refused: the budget does not refill within the window. From now on before its request
    // is even parsed: a document that is not GraphQL gets the 429, not a syntax error.
    expect((await ask(HEALTH, KEY_A)).status).toBe(429);
    const unparsed = await ask('{ health { ok ', KEY_A);
    expect(unparsed.status).toBe(429);
    expect(unparsed.body.errors?.[0]?.extensions).toMatchObject({ code: 'COST_BUDGET_SPENT', budget: 30 });
    expect(Number(unparsed.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(unparsed.body.errors?.[0]?.message).not.toContain(KEY_A);
    // Caller B and an anonymous caller have budgets of their own.
    const other = await ask(HEALTH, KEY_B);
    expect(other.status).toBe(200);
    expect(other.body).toEqual({ data: { health: { ok: true } } });
    expect((await ask(HEALTH)).body).toEqual({ data: { health: { ok: true } } });
    expect(await refused('cost_budget')).toBe(3);
  });

  it('does not charge requests refused by the per-request limits', async () => {
    const { ask } = api(base, { costBudget: 30 });
    // Five path searches of depth 6: 5 × 1,200 over the cost limit of 5,000.
    const path = `paths(chain: BITTENSOR, from: "${job.nodes[0]!.address}", to: "${job.nodes[1]!.address}", maxDepth: 6) { shortestLength }`;
    const tooCostly = `{ ${[1, 2, 3, 4, 5].map((i) => `p${i}: ${path}`).join(' ')} }`;
    for (let i = 0; i < 5; i++)
      expect((await ask(tooCostly, KEY_A)).body.errors?.[0]?.extensions?.code).toBe('QUERY_COST_LIMIT');
    expect((await ask(HEALTH, KEY_A)).status).toBe(200);
  });
});

describe('the expensive-request lane', () => {
  it('runs expensive requests one at a time, refuses one more than the queue holds, and lets cheap ones pass', async () => {
    const g = gatedGraph();
    // Two wallets with their degrees cost 2 × (10 + 10) = 40: expensive here; health (10) is cheap.
    const { ask, lane, refused } = api(g.graph, {
      expensiveCost: 40,
      expensiveSlots: 1,
      expensiveQueue: 1,
      expensiveRest: 0,
    });
    const [a, b, c, d] = job.nodes.map((n) => n.address);
    g.close();
    const first = ask(`{ x: ${wallet(a!)} y: ${wallet(b!)} }`, KEY_A);
    await waitFor('the first expensive request to reach Neo4j', async () => g.events.length > 0, 30_000);
    const second = ask(`{ x: ${wallet(c!)} y: ${wallet(d!)} }`, KEY_B);
    await waitFor('the second to wait in the lane', async () => (await lane('waiting')) === 1, 30_000);
    expect(await lane('running')).toBe(1);

    // The queue holds one: a third expensive request is refused at once, Neo4j untouched.
    const third = await ask(`{ x: ${wallet(a!)} y: ${wallet(c!)} }`);
    expect(third.status).toBe(503);
    expect(third.retryAfter).toBe('1');
    expect(third.body.errors?.[0]?.extensions?.code).toBe('EXPENSIVE_LANE_BUSY');
    expect(third.body.errors?.[0]?.message).toContain('too many expensive requests waiting');
    expect(await refused('lane_full')).toBe(1);

    // A cheap question is answered while the expensive one still holds the lane (its Neo4j work
    // is held at the gate): it did not queue behind either.
    const cheap = await ask(HEALTH);
    expect(cheap.body).toEqual({ data: { health: { ok: true } } });
    const heldSoFar = [...g.events];
    expect(heldSoFar.every((e) => e.startsWith('start ') && (e.includes(a!) || e.includes(b!)))).toBe(true);

    g.open();
    const [r1, r2] = await Promise.all([first, second]);
    expect(r1.body.errors).toBeUndefined();
    expect(r2.body.errors).toBeUndefined();
    expect(r1.body.data).toMatchObject({ x: { address: a }, y: { address: b } });
    expect(r2.body.data).toMatchObject({ x: { address: c }, y: { address: d } });
    // The second request's first statement started after the first request's last one ended.
    const lastOfFirst = g.events.findLastIndex(
      (e) => e.startsWith('end ') && (e.includes(a!) || e.includes(b!)),
    );
    const firstOfSecond = g.events.findIndex((e) => e.includes(c!) || e.includes(d!));
    expect(lastOfFirst).toBeGreaterThan(-1);
    expect(firstOfSecond).toBeGreaterThan(lastOfFirst);
    expect(await lane('running')).toBe(0);
    expect(await lane('waiting')).toBe(0);
  }, 120_000);

  it('refuses an expensive request that waited its time budget without starting, and never one that is running', async () => {
    // Budget B = 4 s for running and for waiting. E1 holds the lane at the gate until its budget
    // ends (REQUEST_TIMEOUT), then E2 runs, held too, for its own B; E3, queued behind both, waits
    // B without starting: refused. E2 runs past B after it was queued: it must not be refused
    // as "waited" (nor lose its slot while still running).
    const g = gatedGraph();
    const { ask, lane, refused } = api(
      g.graph,
      { expensiveCost: 40, expensiveSlots: 1, expensiveQueue: 8, expensiveRest: 0 },
      { requestTimeoutMs: 4000 },
    );
    const [a, b, c, d, e, f] = job.nodes.map((n) => n.address);
    g.close();
    const e1 = ask(`{ x: ${wallet(a!)} y: ${wallet(b!)} }`, KEY_A);
    await waitFor('E1 to reach Neo4j', async () => g.events.length > 0, 30_000);
    const e2 = ask(`{ x: ${wallet(c!)} y: ${wallet(d!)} }`, KEY_A);
    const e3 = ask(`{ x: ${wallet(e!)} y: ${wallet(f!)} }`, KEY_B);
    const r3 = await e3;
    expect(r3.status).toBe(503);
    expect(r3.body.errors?.[0]?.extensions?.code).toBe('EXPENSIVE_LANE_BUSY');
    expect(r3.body.errors?.[0]?.message).toContain('waited 4000 ms for its lane without starting');
    expect(await refused('lane_timeout')).toBe(1);
    expect(g.events.some((x) => x.includes(e!) || x.includes(f!))).toBe(false);
    // E2 started (its statements reached Neo4j) and ends on its own budget, not as a wait.
    expect(g.events.some((x) => x.includes(c!) || x.includes(d!))).toBe(true);
    const [r1, r2] = await Promise.all([e1, e2]);
    expect(r1.body.errors?.map((x) => x.extensions?.code)).toContain('REQUEST_TIMEOUT');
    expect(r2.body.errors?.map((x) => x.extensions?.code)).toContain('REQUEST_TIMEOUT');
    expect(await refused('lane_timeout')).toBe(1);
    expect(await lane('running')).toBe(0);
    g.open();
  }, 120_000);

  it('rests the lane expensiveRest × the last expensive request’s run time before the next starts; a cheap one passes meanwhile', async () => {
    const g = gatedGraph();
    const { ask, lane } = api(g.graph, { expensiveCost: 40, expensiveSlots: 1, expensiveRest: 3 });
    const [a, b, c, d] = job.nodes.map((n) => n.address);
    g.close();
    const first = ask(`{ x: ${wallet(a!)} y: ${wallet(b!)} }`, KEY_A);
    await waitFor('the first expensive request to reach Neo4j', async () => g.events.length > 0, 30_000);
    const second = ask(`{ x: ${wallet(c!)} y: ${wallet(d!)} }`, KEY_B);
    await waitFor('the second to wait in the lane', async () => (await lane('waiting')) === 1, 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    g.open();
    const r1 = await first;
    expect(r1.body.errors).toBeUndefined();
    // The first ran ≥ 1 s (held at the gate): the lane rests ≥ 3 s, and a cheap question is
    // answered meanwhile while the second still waits.
    expect((await ask(HEALTH, KEY_B)).body).toEqual({ data: { health: { ok: true } } });
    expect(g.events.some((e) => e.includes(c!) || e.includes(d!))).toBe(false);
    expect((await second).body.errors).toBeUndefined();
    const lastOfFirst = g.events.findLastIndex(
      (e) => e.startsWith('end ') && (e.includes(a!) || e.includes(b!)),
    );
    const firstOfSecond = g.events.findIndex((e) => e.includes(c!) || e.includes(d!));
    expect(firstOfSecond).toBeGreaterThan(lastOfFirst);
    // The lane's t spans the gate's 1 s hold; its rest runs from after the first's last statement.
    expect(g.at[firstOfSecond]! - g.at[lastOfFirst]!).toBeGreaterThanOrEqual(3 * 1000 - 2);
  }, 120_000);

  it('caps the Neo4j statements a request has in flight: an expensive one at expensiveNeo4jCalls, any other at neo4jCallsPerRequest', async () => {
    const six = `{ ${job.nodes.map((n, i) => `w${i}: ${wallet(n.address)}`).join(' ')} }`; // cost 120
    const measure = async (admission: Partial<AdmissionSettings>) => {
      const g = gatedGraph();
      const { ask } = api(g.graph, admission);
      g.close();
      const answer = ask(six);
      await waitFor('statements to reach the gate', async () => g.events.length >= 2, 30_000);
      // Let every resolver that may start do so, then release.
      await new Promise((r) => setTimeout(r, 300));
      g.open();
      const { body } = await answer;
      expect(body.errors).toBeUndefined();
      expect(Object.keys(body.data ?? {})).toHaveLength(6);
      return g.maxInFlight();
    };
    const expensive = await measure({ expensiveCost: 100, expensiveNeo4jCalls: 2, neo4jCallsPerRequest: 8 });
    const cheap = await measure({ expensiveCost: 1000, expensiveNeo4jCalls: 2, neo4jCallsPerRequest: 8 });
    const cheapCapped = await measure({
      expensiveCost: 1000,
      expensiveNeo4jCalls: 2,
      neo4jCallsPerRequest: 3,
    });
    expect(expensive).toBe(2);
    expect(cheap).toBeGreaterThan(3); // six wallets read side by side
    expect(cheapCapped).toBe(3);
  }, 120_000);
});
