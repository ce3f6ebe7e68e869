import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../graph/alerts.ts';
import type { Graph } from '../../graph/driver.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createTestApi } from '../../test/api.ts';
import { openTestGraph, redisUrl, uniquePrefix } from '../../test/services.ts';
import { openSubscription } from '../../test/sse.ts';
import { createAlertPubSub, publishAlertEvent, startAlertFeed } from '../defense/alertFeed.ts';
import type { ApiHandler } from './server.ts';

// Live alerts as an investigator's browser gets them: published on Redis by the ingest worker,
// relayed by the API's alert feed, streamed over SSE, filtered by the subscription's arguments.

const prefix = uniquePrefix();
const publisher = createRedisConnection(redisUrl(), 'worker');
const subscriber = createRedisConnection(redisUrl(), 'worker');
const pubsub = createAlertPubSub();
let graph: Graph;
let feed: { close(): Promise<void> };
let yoga: ApiHandler;

beforeAll(async () => {
  graph = await openTestGraph();
  feed = await startAlertFeed({ subscriber, prefix, pubsub });
  yoga = createTestApi({ graph, pubsub });
});
afterAll(async () => {
  await feed?.close();
  await Promise.all([publisher.quit(), subscriber.quit()]);
  await graph?.close();
});

const VAULT = '0x00000000000000000000000000000000000000aa';
const OTHER = '0x00000000000000000000000000000000000000bb';

const alert = (id: string, severity: AlertRecord['severity'], contract: string): AlertRecord => ({
  id,
  chain: 'ethereum',
  chainId: 31337,
  severity,
  txHash: `0x${'1'.repeat(64)}`,
  contract,
  sender: '0x00000000000000000000000000000000000000cc',
  invariantId: id,
  invariantKind: 'ownerUnchanged',
  description: 'test',
  before: null,
  after: null,
  votesViolated: 2,
  votesTotal: 3,
  miners: ['m1', 'm2'],
  validator: 'v',
  raisedAt: new Date().toISOString(),
});

const subscribe = (filter: Record<string, unknown>) =>
  openSubscription(
    yoga.fetch,
    'subscription ($f: AlertFilter) { alertRaised(filter: $f) { id severity contract } }',
    { f: filter },
  );

describe('alertRaised subscription', () => {
  it('delivers only the alerts its filter matches', async () => {
    const sub = await subscribe({
      contract: VAULT.toUpperCase().replace('0X', '0x'),
      severity: ['CRITICAL'],
    });
    await publishAlertEvent(publisher, prefix, alert('high-on-vault', 'high', VAULT));
    await publishAlertEvent(publisher, prefix, alert('critical-elsewhere', 'critical', OTHER));
    await publishAlertEvent(publisher, prefix, alert('critical-on-vault', 'critical', VAULT));
    await publishAlertEvent(publisher, prefix, alert('second-on-vault', 'critical', VAULT));
    expect((await sub.next()).data.alertRaised).toEqual({
      id: 'critical-on-vault',
      severity: 'CRITICAL',
      contract: VAULT,
    });
    expect((await sub.next()).data.alertRaised.id).toBe('second-on-vault');
    await sub.close();
  });

  it('names a malformed filter instead of streaming everything', async () => {
    const sub = await subscribe({ from: 'yesterday' });
    const first = await sub.next();
    expect(first.data ?? null).toBeNull();
    expect(first.errors[0].message).toMatch(/from/);
    await sub.close();
  });

  // Anyone with Redis access can publish on the alert channel: the feed checks each message
  // against the alert's schema (protocol/defense.ts) and drops what is not an alert, with the
  // reason by field. The old feed cast the JSON and streamed it.
  it('refuses a message that is not an alert, naming the field, and streams the next real one', async () => {
    const ownPrefix = uniquePrefix();
    const ownSubscriber = createRedisConnection(redisUrl(), 'worker');
    const ownPubsub = createAlertPubSub();
    const refused: string[] = [];
    const ownFeed = await startAlertFeed({
      subscriber: ownSubscriber,
      prefix: ownPrefix,
      pubsub: ownPubsub,
      onRefused: (e) => refused.push((e as Error).message),
    });
    const ownYoga = createTestApi({ graph, pubsub: ownPubsub });
    const sub = await openSubscription(ownYoga.fetch, 'subscription { alertRaised { id severity } }', {});
    try {
      const channel = `${ownPrefix}:alerts`;
      await publisher.publish(
        channel,
        JSON.stringify({ ...alert('no-severity', 'high', VAULT), severity: 'dire' }),
      );
      await publisher.publish(channel, 'not json');
      await publishAlertEvent(publisher, ownPrefix, alert('real-one', 'low', VAULT));
      expect((await sub.next()).data.alertRaised).toEqual({ id: 'real-one', severity: 'LOW' });
      expect(refused).toHaveLength(2);
      expect(refused[0]).toMatch(/severity: Invalid enum value/);
      expect(refused[1]).toMatch(/\(root\): not JSON/);
    } finally {
      await sub.close();
      await ownFeed.close();
      await ownSubscriber.quit();
    }
  });

  it('serves more than 10 subscribers without a MaxListenersExceededWarning, each gets the alert', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const subs = await Promise.all(Array.from({ length: 25 }, () => subscribe({ contract: VAULT })));
      await publishAlertEvent(publisher, prefix, alert('to-25-subscribers', 'high', VAULT));
      for (const sub of subs) expect((await sub.next()).data.alertRaised.id).toBe('to-25-subscribers');
      await Promise.all(subs.map((s) => s.close()));
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
