import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue, enqueueIngest } from '../../queues/ingestion.ts';
import { sampleFinding } from '../fixtures.ts';
import { redisUrl, startTestIngestWorker } from '../services.ts';
import { type ConsoleHarness, shot, startConsoleHarness } from './harness.ts';

// A finding goes the way a validator's does (the ingest queue, a real ingest worker writing Neo4j
// and publishing on Redis, the API's alert feed) and must appear on an open alerts page, live.

let h: ConsoleHarness;
let conn: Redis;
let worker: ReturnType<typeof startTestIngestWorker>;
let queue: ReturnType<typeof createIngestQueue>;

beforeAll(async () => {
  h = await startConsoleHarness();
  conn = createRedisConnection(redisUrl(), 'worker');
  queue = createIngestQueue(conn, h.prefix);
  worker = startTestIngestWorker(conn, h.prefix, h.graph, { concurrency: 1, batchSize: 1000 });
}, 180_000);
afterAll(async () => {
  await worker?.close();
  await queue?.close();
  await conn?.quit();
  await h?.close();
});

describe('alerts page', () => {
  it('shows an alert as it is raised, and opens the attacker trail', async () => {
    const { page, offHost, errors } = await h.open('#/alerts');
    await page.getByText('● live').waitFor({ timeout: 60_000 });
    const finding = sampleFinding({ severity: 'critical' });
    // By the cards' ids: a card's text changes as its actions load. Other test files raise alerts on the same feed while this runs: count and order relative to
    // what was on the page before, not absolutely.
    const before = await page
      .locator('[data-alert]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-alert') ?? ''));
    await enqueueIngest(queue, finding);
    const card = page.locator('article.alert').filter({ hasText: finding.invariant.id });
    await card.waitFor({ timeout: 60_000 });
    const after = await page
      .locator('[data-alert]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-alert') ?? ''));
    expect(after.length).toBeGreaterThanOrEqual(before.length + 1);
    const at = after.findIndex((t) => t.includes(finding.invariant.id));
    if (before.length > 0) expect(at).toBeLessThan(after.indexOf(before[0]!)); // newest on top
    const text = (await card.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('CRITICAL');
    expect(text).toContain(finding.invariant.contract);
    expect(text).toContain('votes 3/3 violated (3 miners agreeing)');
    expect(text).toContain(`attacker ${finding.tx.from}`);
    // The finding's invariant was never registered here: the card says so rather than listing none.
    await expect
      .poll(() => card.locator('.actions').innerText(), { timeout: 30_000 })
      .toContain('actions: the invariant is no longer registered');
    await shot(page, 'alerts.png');
    await card.getByRole('link', { name: 'trail' }).click();
    const summary = page.getByRole('region', { name: 'Summary' });
    await summary.waitFor({ timeout: 60_000 });
    expect(await summary.locator('h2').innerText()).toBe(finding.tx.from);
    expect(await summary.locator('.wallet-alerts').innerText()).toContain(finding.invariant.id);
    expect(offHost).toEqual([]);
    expect(errors).toEqual([]);
  }, 180_000);
});
