import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../graph/driver.ts';
import { writeSubgraph } from '../graph/ingest.ts';
import { launchBrowser, loopbackOnlyPage, screenshot } from '../test/browser.ts';
import { sampleSubgraph } from '../test/fixtures.ts';
import { TEST_NEO4J_HTTP_PORT } from '../test/globalSetup.ts';
import { neo4jUri, openTestGraph } from '../test/services.ts';
import { neo4jBrowserUrl } from './neo4j.ts';

// Neo4j Browser as an analyst opens it from the URL Vigil prints: it connects by itself, applies
// Vigil's style on connect (infra/neo4jBrowserStyle.ts) and draws a wallet's neighbourhood.

// Neo4j Browser's own requests off the machine (web fonts, its feedback widget and usage script,
// and its crash reports to Neo4j's Sentry project, sent when one of the others fails; loaded by the
// Browser's page whatever the server says): aborted here, and the Browser works without them.
// Anything else off the machine fails the test.
const BROWSER_OWN = [
  'https://fonts.googleapis.com/',
  'https://cdn.segment.com/',
  'https://canny.io/',
  'https://o110884.ingest.sentry.io/',
];

let graph: Graph;
let browser: Browser;
const job = sampleSubgraph();

beforeAll(async () => {
  graph = await openTestGraph();
  await writeSubgraph(graph, job, { batchSize: 1000 });
  browser = await launchBrowser();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await graph?.close();
});

describe('Neo4j Browser', () => {
  it('connects, applies the Vigil style and captions wallets by address', async () => {
    const { page, offHost } = await loopbackOnlyPage(browser);
    const bolt = new URL(neo4jUri());
    await page.goto(neo4jBrowserUrl('127.0.0.1', TEST_NEO4J_HTTP_PORT, Number(bolt.port)));
    // The post-connect command runs only once connected: its frame is the connected state.
    await page
      .getByTestId('frameCommand')
      .filter({ hasText: ':style {"node"' })
      .first()
      .waitFor({ timeout: 120_000 });

    const editor = page.getByTestId('activeEditor');
    const run = async (command: string) => {
      await editor.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.insertText(command);
      await page.keyboard.press('Shift+Control+End'); // drop a bracket the editor closed by itself
      await page.keyboard.press('Delete');
      await page.getByTestId('editor-Run').click();
    };
    await run(':clear');
    await run(`MATCH p = (t:Wallet {address: '${job.target}'})-[]-(:Wallet) RETURN p`);
    const captions = page.locator('[data-testid="frameContents"] svg text');
    await expect.poll(() => captions.allTextContents(), { timeout: 60_000 }).toContain('TRANSFER');
    await page.waitForTimeout(2000); // the layout settles
    const texts = (await captions.allTextContents()).map((t) => t.trim()).filter(Boolean);
    // Each wallet shows the start of its address, not its chain.
    expect(texts).not.toContain('bittensor');
    expect(texts.some((t) => t.length >= 4 && job.target.startsWith(t.replace(/…$/, '')))).toBe(true);
    expect(texts).toEqual(expect.arrayContaining(['TRANSFER', 'STAKE_ADD']));
    await screenshot(page, 'neo4j-browser.png');
    expect(offHost.filter((u) => !BROWSER_OWN.some((own) => u.startsWith(own)))).toEqual([]);
  }, 300_000);
});
