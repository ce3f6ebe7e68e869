import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertId } from '../../protocol/ids.ts';
import type { OutcomeJob } from '../../protocol/ingest.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue, enqueueIngest } from '../../queues/ingestion.ts';
import { newHash, sampleFinding } from '../fixtures.ts';
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
    expect((await card.locator('.taken').innerText()).trim()).toBe('actions taken: none reported yet');

    // The validator reports its actions' outcomes: the open card shows them as they arrive (no reload).
    const id = alertId(finding);
    const pauseTx = newHash();
    const outcome = (o: Partial<OutcomeJob>): OutcomeJob => ({
      kind: 'outcome',
      alertId: id,
      index: 0,
      action: 'pause',
      status: 'sent',
      txHash: pauseTx,
      landedFirst: null,
      detail: 'nonce 7',
      validator: { hotkey: 'validator-1' },
      at: new Date().toISOString(),
      ...o,
    });
    await enqueueIngest(queue, outcome({}));
    const pause = card.locator('[data-outcome="PAUSE"]');
    await expect
      .poll(() => pause.innerText(), { timeout: 30_000 })
      .toContain('sent, waiting for its receipt');
    expect(await pause.innerText()).toContain(`${pauseTx.slice(0, 10)}…${pauseTx.slice(-8)}`);
    for (const o of [
      outcome({
        status: 'landed-first',
        landedFirst: true,
        detail: 'pause block 12 index 0; attack block 12 index 1',
        at: new Date(Date.now() + 1000).toISOString(),
      }),
      outcome({
        index: 1,
        action: 'webhook',
        status: 'delivered',
        txHash: null,
        detail: 'HTTP 200 after 1 attempt',
      }),
      outcome({
        index: 2,
        action: 'webhook',
        status: 'failed',
        txHash: null,
        detail: 'webhook http://127.0.0.1:9 failed fetch failed (3 attempts)',
      }),
    ])
      await enqueueIngest(queue, o);
    await expect
      .poll(
        async () =>
          (await card.locator('.taken li').allInnerTexts()).map((t) => t.replace(/ · \d{4}-.*$/, '')),
        {
          timeout: 30_000,
        },
      )
      .toEqual([
        `pause ${pauseTx.slice(0, 10)}…${pauseTx.slice(-8)} landed first · pause block 12 index 0; attack block 12 index 1`,
        'webhook delivered · HTTP 200 after 1 attempt',
        'webhook failed · webhook http://127.0.0.1:9 failed fetch failed (3 attempts)',
      ]);
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
