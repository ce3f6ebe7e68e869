import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGraph, recordingGraph } from '../../dev/testkit/investigate.ts';
import { openTestGraph } from '../../test/services.ts';
import type { Graph } from '../driver.ts';
import {
  DENSE_FANOUT_DEGREE,
  type FrontierItem,
  SearchTimeoutError,
  expandFrontier,
  sliceFrontier,
  withDeadline,
} from './expand.ts';
import { traceFlow } from './flow.ts';

let graph: Graph;
beforeAll(async () => {
  graph = await openTestGraph();
});
afterAll(() => graph.close());

/** The graph with its queries recorded: each one's frontier size (0 for other queries). */
function counting(base: Graph, delayMs = 0) {
  const { g, queries } = recordingGraph(base, delayMs);
  return {
    g,
    frontiers: () => queries.map((q) => (q.params.frontier as unknown[] | undefined)?.length ?? 0),
  };
}

const item = (address: string, degree?: number): FrontierItem => ({ address, degree });

describe('sliceFrontier', () => {
  it('keeps a small frontier whole', () => {
    const f = Array.from({ length: 50 }, (_, i) => item(`a${i}`, 10));
    expect(sliceFrontier(f, 100)).toEqual([f]);
  });

  it('cuts a large frontier, in order, into balanced slices of at least the minimum', () => {
    // 400 wallets of 10 relationships and 4 dense ones (each read as its fan-out, 101).
    const f = [
      ...Array.from({ length: 400 }, (_, i) => item(`a${i}`, 10)),
      ...Array.from({ length: 4 }, (_, i) => item(`d${i}`, DENSE_FANOUT_DEGREE * 50)),
    ];
    const slices = sliceFrontier(f, 100, 1000, 4);
    expect(slices).toHaveLength(4);
    expect(slices.flat()).toEqual(f);
    const reads = slices.map((s) => s.reduce((n, x) => n + (x.address.startsWith('d') ? 101 : 10), 0));
    for (const r of reads.slice(0, -1)) expect(r).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...reads) - Math.min(...reads)).toBeLessThanOrEqual(120);
  });

  it('never makes more slices than asked or than wallets', () => {
    const two = [item('a', 5000), item('b', 5000)];
    expect(sliceFrontier(two, 100, 10, 8)).toHaveLength(2);
    const many = Array.from({ length: 1000 }, (_, i) => item(`a${i}`, 100));
    expect(sliceFrontier(many, 100, 10, 3)).toHaveLength(3);
  });
});

describe('expandFrontier in slices', () => {
  it('reads the same relationships side by side as in one query', async () => {
    // 24 senders, sender i paying 1 + (i % 5) receivers: some over a fan-out of 3.
    const names = ['s0'];
    const edges = [];
    for (let i = 0; i < 24; i++) {
      names.push(`a${i}`);
      for (let j = 0; j <= i % 5; j++) {
        names.push(`a${i}r${j}`);
        edges.push({ from: `a${i}`, to: `a${i}r${j}`, block: 10 + j, amount: String(100 + i * 10 + j) });
      }
    }
    const w = await buildGraph(graph, names, edges);
    const frontier = Array.from({ length: 24 }, (_, i) => item(w[`a${i}`]!, 1 + (i % 5)));
    const opts = { side: 'OUT' as const, filter: { types: ['TRANSFER' as const] }, fanOut: 3 };

    const whole = counting(graph);
    const one = await expandFrontier(whole.g, 'bittensor', frontier, opts);
    const sliced = counting(graph);
    const four = await expandFrontier(sliced.g, 'bittensor', frontier, {
      ...opts,
      slices: { min: 10, max: 4 },
    });

    expect(whole.frontiers()).toEqual([24]);
    expect(sliced.frontiers()).toHaveLength(4);
    expect(sliced.frontiers().reduce((s, n) => s + n, 0)).toBe(24);
    expect(four.edges).toEqual(one.edges);
    expect([...four.capped].sort()).toEqual([...one.capped].sort());
    // Fan-out 3: the senders of 4 and 5 receivers are capped, keeping their 3 largest.
    expect(one.capped.size).toBe(9);
    expect(one.edges.filter((e) => e.origin === w.a4).map((e) => e.edge.amount)).toEqual([
      '144',
      '143',
      '142',
    ]);
  });
});

describe('withDeadline', () => {
  it('bounds a whole search, not each of its queries', async () => {
    const w = await buildGraph(
      graph,
      ['a', 'b', 'c', 'd'],
      [
        { from: 'a', to: 'b', block: 1, amount: '5' },
        { from: 'b', to: 'c', block: 2, amount: '5' },
        { from: 'c', to: 'd', block: 3, amount: '5' },
      ],
    );
    const flow = (g: Graph, timeoutMs: number) =>
      traceFlow(g, { chain: 'bittensor', source: w.a!, direction: 'OUT', depth: 3, timeoutMs });
    await flow(graph, 5000); // its queries planned, so the timings below are the delays
    // Each hop's answer comes 300 ms late: any one hop fits in 500 ms, the three together do not.
    // The third hop is never sent.
    const slow = counting(graph, 300);
    await expect(flow(slow.g, 500)).rejects.toBeInstanceOf(SearchTimeoutError);
    expect(slow.frontiers()).toHaveLength(2);
    // With time to spare the same flow answers every hop.
    const r = await flow(counting(graph, 300).g, 5000);
    expect(r.hops.map((h) => h.count)).toEqual([1, 1, 1]);
  });

  it('lets a query that starts in time run only for the time left', async () => {
    let given: number | undefined;
    let elapsed = 0;
    const t0 = performance.now();
    const spy: Graph = {
      ...graph,
      query: (cypher, params, o) => {
        given = o?.timeoutMs;
        elapsed = performance.now() - t0;
        return graph.query(cypher, params, o);
      },
    };
    await withDeadline(spy, 1000, async (g) => {
      await new Promise((r) => setTimeout(r, 300));
      await g.query('RETURN 1', {});
    });
    // What was left of the second when the query started: no less, and well short of all of it.
    expect(given).toBeGreaterThanOrEqual(Math.floor(1000 - elapsed));
    expect(given).toBeLessThan(750);
  });
});
