import { setMaxListeners } from 'node:events';
import { type PubSubEventTarget, createPubSub } from 'graphql-yoga';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { AlertRecord } from '../../graph/alerts.ts';
import { alertEventSchema } from '../../protocol/defense.ts';
import { alertChannel } from '../../protocol/keys.ts';
import { parseJsonWith } from '../../protocol/parse.ts';

/**
 * Live alerts across processes: whoever stores an alert (the ingest worker) publishes it on the
 * Redis channel `<prefix>:alerts`; every API process subscribes once and republishes into its
 * in-process graphql-yoga PubSub, which feeds the `alertRaised` subscriptions it serves.
 */

export type AlertPubSub = ReturnType<typeof createAlertPubSub>;
type AlertEvents = { alertRaised: [AlertRecord] };

/**
 * Each open `alertRaised` subscription is one listener on the pubsub's EventTarget; node warns
 * (MaxListenersExceededWarning) past 10 on one target. Many subscribers is the normal case, not a
 * leak (services/api/subscription.test.ts opens 25).
 */
export function createAlertPubSub() {
  const eventTarget = new EventTarget();
  setMaxListeners(0, eventTarget);
  return createPubSub<AlertEvents>({ eventTarget: eventTarget as PubSubEventTarget<AlertEvents> });
}

/** Publishes an alert as stored (the writer's own read-back, so subscribers see what queries return). */
export async function publishAlertEvent(redis: Redis, prefix: string, alert: AlertRecord): Promise<void> {
  await redis.publish(alertChannel(prefix), JSON.stringify(alert));
}

/**
 * Subscribes `subscriber` (a connection of its own: a subscribed Redis connection can do nothing
 * else) to the alert channel and forwards each alert into `pubsub`. Anyone who can publish on Redis
 * can publish here: a message that is not an alert (protocol/defense.ts AlertEvent) is refused,
 * passed to `onRefused` with its reason (by field), counted in `vigil_alert_events_refused_total`
 * on `metrics`, and never reaches a subscriber.
 * Returns a stop function.
 */
export async function startAlertFeed(opts: {
  subscriber: Redis;
  prefix: string;
  pubsub: AlertPubSub;
  onRefused?: (err: unknown) => void;
  metrics?: Registry;
}): Promise<{ close(): Promise<void> }> {
  const channel = alertChannel(opts.prefix);
  const refused = new Counter({
    name: 'vigil_alert_events_refused_total',
    help: 'Messages on the alert channel that were not alerts, dropped',
    registers: opts.metrics ? [opts.metrics] : [],
  });
  const onMessage = (ch: string, message: string) => {
    if (ch !== channel) return;
    let alert: AlertRecord;
    try {
      alert = parseJsonWith(alertEventSchema, message);
    } catch (e) {
      refused.inc();
      opts.onRefused?.(e);
      return;
    }
    opts.pubsub.publish('alertRaised', alert);
  };
  opts.subscriber.on('message', onMessage);
  await opts.subscriber.subscribe(channel);
  return {
    async close() {
      opts.subscriber.off('message', onMessage);
      await opts.subscriber.unsubscribe(channel).catch(() => {});
    },
  };
}
