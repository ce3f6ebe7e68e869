import http from 'node:http';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../graph/driver.ts';
import { CORRECTNESS_LIMITS } from '../../test/api.ts';
import { openTestGraph, silentLogger } from '../../test/services.ts';
import { startApiServer } from './server.ts';

// The door (door.ts): over HTTP, a caller who spent its cost budget is refused by node's request
// handler before graphql-yoga, and its keep-alive connection is throttled.

const KEY_A = 'read-key-of-door-caller-a-01';
const KEY_B = 'read-key-of-door-caller-b-02';
const HEALTH = JSON.stringify({ query: '{ health { ok } }' }); // cost 10

let graph: Graph;
beforeAll(async () => {
  graph = await openTestGraph();
});
afterAll(() => graph?.close());

async function server(door?: { holdMs?: number; maxHeld?: number }) {
  const api = await startApiServer({
    graph,
    log: silentLogger(),
    version: 'test',
    limits: CORRECTNESS_LIMITS,
    admission: { costBudget: 30, costWindowSeconds: 60 },
    keys: [
      { role: 'read', key: KEY_A },
      { role: 'read', key: KEY_B },
    ],
    host: '127.0.0.1',
    port: 0,
    registry: new Registry(),
    warmUpBoundMs: 1,
    door,
  });
  // One connection per agent: requests of one agent share a keep-alive socket.
  const agent = () => new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send = (
    a: http.Agent,
    key: string,
    o: { method?: string; body?: string; accept?: string } = {},
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string; socket: unknown }> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'x-api-key': key, 'content-type': 'application/json' };
      if (o.accept) headers.accept = o.accept;
      const req = http.request(api.url, { method: o.method ?? 'POST', agent: a, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, text, socket: req.socket }),
        );
      });
      req.on('error', reject);
      req.end(o.body);
    });
  /** Spends caller `key`'s budget of 30: three health questions of 10, and a fourth is over it. */
  const spend = async (key: string) => {
    const a = agent();
    for (let i = 0; i < 3; i++) expect((await send(a, key, { body: HEALTH })).status).toBe(200);
    expect((await send(a, key, { body: HEALTH })).status).toBe(429);
    a.destroy();
  };
  return { api, agent, send, spend };
}

describe('the door: a spent caller refused before graphql-yoga', () => {
  it("refuses a spent caller even what yoga's own plugins would serve ahead of admission (GraphiQL)", async () => {
    const { api, agent, send, spend } = await server();
    try {
      const a = agent();
      // Before: GraphiQL is yoga's page, rendered by a yoga plugin that runs before admission's.
      const page = await send(a, KEY_A, { method: 'GET', accept: 'text/html' });
      expect(page.status).toBe(200);
      expect(page.text).toContain('<title>Vigil</title>');
      await spend(KEY_A);
      // Spent: the 429 comes from the door, so yoga never renders the page.
      const refused = await send(agent(), KEY_A, { method: 'GET', accept: 'text/html' });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const body = JSON.parse(refused.text) as {
        errors: { message: string; extensions: { code: string } }[];
      };
      expect(body.errors[0]!.extensions.code).toBe('COST_BUDGET_SPENT');
      expect(body.errors[0]!.message).toMatch(
        /^cost budget spent: this caller \(API key [0-9a-f]{8}…\) may spend 30 per 60 s/,
      );
      expect(refused.text).not.toContain(KEY_A);
      // Another caller still gets the page and its answers.
      expect((await send(agent(), KEY_B, { method: 'GET', accept: 'text/html' })).status).toBe(200);
      expect((await send(agent(), KEY_B, { body: HEALTH })).text).toBe('{"data":{"health":{"ok":true}}}');
    } finally {
      await api.close();
    }
  }, 120_000);

  it("holds a spent caller's repeated refusals on one connection, answering the first at once", async () => {
    const { api, agent, send, spend } = await server({ holdMs: 600 });
    try {
      await spend(KEY_A);
      const a = agent();
      const first = await send(a, KEY_A, { body: HEALTH });
      expect(first.status).toBe(429);
      const t0 = performance.now();
      const [second, third] = [
        await send(a, KEY_A, { body: HEALTH }),
        await send(a, KEY_A, { body: HEALTH }),
      ];
      // Two held refusals on the same connection: at least 2 × 600 ms (a lower bound: load only adds).
      expect(performance.now() - t0).toBeGreaterThanOrEqual(1150);
      expect([second.status, third.status]).toEqual([429, 429]);
      expect(second.socket).toBe(first.socket);
      expect(third.headers.connection).not.toBe('close');
      a.destroy();
    } finally {
      await api.close();
    }
  }, 120_000);

  it('past maxHeld held refusals, refuses at once and closes the connection', async () => {
    const { api, agent, send, spend } = await server({ holdMs: 60_000, maxHeld: 0 });
    try {
      await spend(KEY_A);
      const a = agent();
      expect((await send(a, KEY_A, { body: HEALTH })).headers.connection).not.toBe('close');
      const t0 = performance.now();
      const second = await send(a, KEY_A, { body: HEALTH });
      expect(second.status).toBe(429);
      expect(second.headers.connection).toBe('close');
      // Not held: nowhere near the 60 s hold.
      expect(performance.now() - t0).toBeLessThan(30_000);
      a.destroy();
    } finally {
      await api.close();
    }
  }, 120_000);
});
