import http from 'node:http';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../graph/driver.ts';
import { openTestGraph, silentLogger } from '../../test/services.ts';
import { MAX_REQUEST_BODY_BYTES } from './bodyLimit.ts';
import { createApi, startApiServer } from './server.ts';

let graph: Graph;
let api: { url: string; close(): Promise<void> };
beforeAll(async () => {
  graph = await openTestGraph();
  api = await startApiServer({
    graph,
    log: silentLogger(),
    version: 'test',
    host: '127.0.0.1',
    port: 0,
    registry: new Registry(),
  });
});
afterAll(async () => {
  await api.close();
  await graph.close();
});

/** POSTs `parts` in turn; with `chunked`, no Content-Length is sent. */
function post(parts: string[], chunked: boolean): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const size = parts.reduce((n, p) => n + Buffer.byteLength(p), 0);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = String(size);
    const req = http.request(api.url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()) }),
      );
    });
    req.on('error', reject);
    for (const p of parts) req.write(p);
    req.end();
  });
}

// A valid GraphQL request padded with a variable nobody reads, to `bytes` in all.
const padded = (bytes: number) => {
  const head = '{"query":"{ health { version } }","variables":{"pad":"';
  const tail = '"}}';
  return [head, 'x'.repeat(bytes - head.length - tail.length), tail];
};

describe('request body limit', () => {
  it('answers a body within the limit, with or without a Content-Length', async () => {
    for (const chunked of [false, true]) {
      const r = await post(padded(10_000), chunked);
      expect(r.status).toBe(200);
      expect(r.body.data.health.version).toBe('test');
    }
  });

  it('refuses a body over the limit with 413, whether it declares its length or not', async () => {
    const declared = await post(padded(MAX_REQUEST_BODY_BYTES + 1), false);
    expect(declared.status).toBe(413);
    expect(declared.body.errors[0].extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
    const streamed = await post(padded(MAX_REQUEST_BODY_BYTES + 1), true);
    expect(streamed.status).toBe(413);
    expect(streamed.body.errors[0].message).toBe(`request body larger than ${MAX_REQUEST_BODY_BYTES} bytes`);
  });

  // Node's HTTP parser refuses such a header itself; the handler is also used without it
  // (tests, other adapters), and must not then read the body unbounded.
  it('refuses a Content-Length that is not a number with 400, when the handler is called directly', async () => {
    const yoga = createApi({ graph, log: silentLogger(), version: 'test' });
    const res = await yoga.fetch('http://vigil.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': 'abc' },
      body: padded(100).join(''),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.errors[0].message).toBe('Content-Length header is invalid');
    expect(body.errors[0].extensions.code).toBe('BAD_REQUEST');
  });
});
