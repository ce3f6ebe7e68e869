import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Registry } from 'prom-client';
import type { Graph } from '../../graph/driver.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { startApiServer } from '../../services/api/server.ts';
import { createAlertPubSub, startAlertFeed } from '../../services/defense/alertFeed.ts';
import { CORRECTNESS_LIMITS } from '../api.ts';
import { launchBrowser, loopbackOnlyPage } from '../browser.ts';
import { openTestGraph, redisUrl, silentLogger, uniquePrefix } from '../services.ts';

/**
 * Console screenshots: .vigil/screenshots/console, or with VIGIL_UPDATE_SCREENSHOTS=1 docs/console
 * (the ones docs/console.md and the README show, committed).
 */
const SHOTS = path.resolve(
  import.meta.dirname,
  process.env.VIGIL_UPDATE_SCREENSHOTS === '1' ? '../../docs/console' : '../../.vigil/screenshots/console',
);
export async function shot(page: Page, name: string): Promise<void> {
  await mkdir(SHOTS, { recursive: true });
  // From the top: a full-page capture keeps the scroll, and the sidebar's sticky content with it.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, name), fullPage: true });
}

/** The write key the console tests' API accepts (a read key is refused on mutations). */
export const WRITE_KEY = `console-write-${crypto.randomUUID()}`;
export const READ_KEY = `console-read-${crypto.randomUUID()}`;

/**
 * What a person using the console talks to: the real API (with its console, its live alert feed
 * on Redis under a prefix of its own, read open and writes keyed) on the tests' Neo4j, and a
 * headless chromium whose requests must all stay on this machine.
 */
export async function startConsoleHarness() {
  const graph: Graph = await openTestGraph();
  const prefix = uniquePrefix();
  const subscriber = createRedisConnection(redisUrl(), 'worker');
  const pubsub = createAlertPubSub();
  const feed = await startAlertFeed({ subscriber, prefix, pubsub });
  // The validators' published state (operators page) under the same prefix.
  const reader = createRedisConnection(redisUrl(), 'worker');
  const api = await startApiServer({
    graph,
    pubsub,
    operators: { redis: reader, prefix },
    log: silentLogger(),
    version: 'test',
    keys: [
      { role: 'write', key: WRITE_KEY },
      { role: 'read', key: READ_KEY },
    ],
    limits: CORRECTNESS_LIMITS,
    host: '127.0.0.1',
    port: 0,
    registry: new Registry(),
  });
  const browser: Browser = await launchBrowser();
  const pages: { page: Page; offHost: string[]; errors: string[] }[] = [];
  return {
    graph,
    prefix,
    /** A Redis connection a test may publish with (closed with the harness). */
    redis: reader,
    api,
    browser,
    /** A fresh tab (own sessionStorage) recording requests off the machine and page errors. */
    async open(hash = '') {
      const { page, offHost } = await loopbackOnlyPage(browser);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      pages.push({ page, offHost, errors });
      await page.goto(`${api.consoleUrl}${hash}`);
      return { page, offHost, errors };
    },
    async close() {
      await browser.close().catch(() => {});
      await api.close();
      await feed.close();
      await subscriber.quit();
      await reader.quit();
      await graph.close();
    },
  };
}

export type ConsoleHarness = Awaited<ReturnType<typeof startConsoleHarness>>;
