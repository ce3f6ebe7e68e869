import type { Browser } from 'playwright-core';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../graph/driver.ts';
import { writeSubgraph } from '../../graph/ingest.ts';
import { CORRECTNESS_LIMITS } from '../../test/api.ts';
import { launchBrowser, loopbackOnlyPage, screenshot } from '../../test/browser.ts';
import { sampleSubgraph } from '../../test/fixtures.ts';
import { openTestGraph, silentLogger } from '../../test/services.ts';
import { startApiServer } from './server.ts';

// GraphiQL as an investigator opens it: a real browser on the API's /graphql, with every request
// to a host other than this machine aborted and recorded (the page must work offline).

let graph: Graph;
let browser: Browser;
let api: Awaited<ReturnType<typeof startApiServer>>;
let healthWhileWarming: { status: number; body: { checks: Record<string, { ok: boolean }> } };
const job = sampleSubgraph();
const transferTo = job.edges.find((e) => e.type === 'TRANSFER')!.to;

beforeAll(async () => {
  graph = await openTestGraph();
  await writeSubgraph(graph, job, { batchSize: 1000 });
  api = await startApiServer({
    graph,
    log: silentLogger(),
    version: 'test',
    limits: CORRECTNESS_LIMITS,
    host: '127.0.0.1',
    port: 0,
    registry: new Registry(),
  });
  const res = await fetch(api.url.replace('/graphql', '/health'));
  healthWhileWarming = { status: res.status, body: await res.json() };
  browser = await launchBrowser();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await api?.close();
  await graph?.close();
});

describe('API readiness', () => {
  it('is not ready while the common questions are first asked, then ready once they answer', async () => {
    expect(healthWhileWarming.status).toBe(503);
    expect(healthWhileWarming.body.checks.warmUp).toMatchObject({ ok: false });
    expect(healthWhileWarming.body.checks.neo4j).toMatchObject({ ok: true });
    const report = await api.ready;
    expect(report).toMatchObject({ warm: true, failed: 0 });
    const res = await fetch(api.url.replace('/graphql', '/health'));
    expect(res.status).toBe(200);
    expect((await res.json()).checks.warmUp).toBeUndefined();
  }, 180_000);
});

describe('GraphiQL (self-hosted)', () => {
  it('loads with nothing from outside the machine, runs a query and shows the wallet', async () => {
    const { page, offHost } = await loopbackOnlyPage(browser);
    const query = `{ wallet(chain: BITTENSOR, address: "${job.target}") {
  address
  neighbors(direction: OUT, types: [TRANSFER], first: 5) {
    totalCount
    edges { node { address } relationship { type amount blockNumber } }
  }
} }`;
    await page.goto(api.url);
    // The editor appears once GraphiQL's scripts ran (a CDN-loaded page stays at "Loading…").
    const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await editor.waitFor({ timeout: 60_000 }).catch((err) => {
      throw new Error(`GraphiQL did not load; requests off this machine: ${offHost.join(', ') || 'none'}`, {
        cause: err,
      });
    });
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(query.replace(/\n\s+/g, '\n')); // the editor indents by itself
    // The editor closed the first brace by itself: drop what follows the typed query.
    await page.keyboard.press('Shift+Control+End');
    await page.keyboard.press('Delete');
    await page.locator('.graphiql-execute-button').click();
    // The pane wraps long lines (an address splits): compare without white space.
    const shown = async () => (await page.locator('.graphiql-response').innerText()).replace(/\s/g, '');
    await expect.poll(shown, { timeout: 60_000 }).toContain(transferTo);
    const text = await shown();
    expect(text).toContain(`"address":"${job.target}"`);
    expect(text).toContain(`"node":{"address":"${transferTo}"}`);
    expect(text).toContain('"totalCount":1');
    expect(text).toContain('"type":"TRANSFER","amount":"1500000000"');
    expect(text).not.toContain('"errors"');
    await screenshot(page, 'graphiql.png');
    expect(offHost).toEqual([]);
  }, 180_000);
});
