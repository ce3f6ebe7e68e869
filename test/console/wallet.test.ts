import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSubgraph } from '../../graph/ingest.ts';
import {
  ethTransfer,
  newEthAddress,
  newHash,
  newSs58,
  sampleEthereumSubgraph,
  sampleSubgraph,
} from '../fixtures.ts';
import { type ConsoleHarness, shot, startConsoleHarness } from './harness.ts';

// The wallet page in a real browser: summary, the neighbour graph with expand-on-click, filters,
// the table with paging, and a wallet with more relationships than one page drawn capped.

let h: ConsoleHarness;
const job = sampleSubgraph();
const hotkey = job.edges.find((e) => e.type === 'STAKE_ADD')!.to;
// A hub: 130 transfers out to 130 wallets, amounts 1..130 TAO.
const HUB_EDGES = 130;
const hub = newSs58();
const hubJob = sampleSubgraph({
  target: hub,
  nodes: [{ address: hub, type: 'wallet' }],
  edges: Array.from({ length: HUB_EDGES }, (_, i) => ({
    type: 'TRANSFER' as const,
    from: hub,
    to: newSs58(),
    evidence: {
      blockNumber: 5000 + i,
      blockHash: newHash(),
      eventIndex: 1,
      extrinsicIndex: 1,
      amount: `${i + 1}000000000`,
    },
  })),
});
hubJob.nodes.push(...hubJob.edges.map((e) => ({ address: e.to, type: 'wallet' as const })));
// An Ethereum wallet paying one counterparty in ETH, in USDC (6 decimals) and in a token that
// did not answer its symbol: three relationships of one type between the same two wallets.
const [payer, payee, usdc, unnamed] = [newEthAddress(), newEthAddress(), newEthAddress(), newEthAddress()];
const ethJob = sampleEthereumSubgraph(payer, [
  ethTransfer(payer, payee, '1500000000000000000', 100),
  ethTransfer(payer, payee, '2500000', 101, { token: usdc, tokenSymbol: 'USDC', tokenDecimals: 6 }),
  ethTransfer(payer, payee, '7', 102, { token: unnamed }),
]);

beforeAll(async () => {
  h = await startConsoleHarness();
  await writeSubgraph(h.graph, job, { batchSize: 1000 });
  await writeSubgraph(h.graph, hubJob, { batchSize: 1000 });
  await writeSubgraph(h.graph, ethJob, { batchSize: 1000 });
}, 180_000);
afterAll(async () => h?.close());

const graphCounts = async (page: Page) => {
  const box = page.getByLabel('Graph', { exact: true });
  return {
    nodes: Number(await box.getAttribute('data-nodes')),
    edges: Number(await box.getAttribute('data-edges')),
  };
};

/** Clicks where cytoscape drew the wallet, as a person would. */
async function clickAt(page: Page, address: string) {
  const graph = page.getByLabel('Graph', { exact: true });
  await graph.scrollIntoViewIfNeeded();
  const at = await page.evaluate((id) => {
    const cy = (window as any).vigilGraph;
    const p = cy.getElementById(id).renderedPosition();
    return { x: p.x, y: p.y };
  }, address);
  const box = (await graph.boundingBox())!;
  await page.mouse.click(box.x + at.x, box.y + at.y);
}

/**
 * Clicks a wallet until the graph's status line shows `expect` for it: the page may move between
 * reading where the wallet is and the click (the summary grows when its totals arrive), and a
 * person would click again too.
 */
async function clickUntil(page: Page, address: string, shows: string) {
  for (let attempt = 1; ; attempt++) {
    await clickAt(page, address);
    const seen = await expect
      .poll(() => page.locator('.graph-status').innerText(), { timeout: 5_000 })
      .toContain(shows)
      .then(() => true)
      .catch(() => false);
    if (seen) return;
    if (attempt === 5) throw new Error(`clicking ${address} on the graph did not show "${shows}", 5 times`);
  }
}

/** Clicks a wallet until the page says it read that wallet's relationships. */
const clickNode = (page: Page, address: string) => clickUntil(page, address, `selected ${address} (`);

describe('wallet page', () => {
  it('draws the neighbours and expands a neighbour on click', async () => {
    const { page, offHost, errors } = await h.open(`#/wallet?chain=BITTENSOR&address=${job.target}`);
    await expect.poll(() => graphCounts(page), { timeout: 60_000 }).toEqual({ nodes: 3, edges: 2 });
    // The target's hotkey has an owner, an unstake to c and a child: expanding draws them.
    await clickNode(page, hotkey);
    await expect.poll(() => graphCounts(page), { timeout: 60_000 }).toEqual({ nodes: 6, edges: 5 });
    expect(await page.locator('.graph-status').innerText()).toContain(
      `selected ${hotkey} (4 of 4 relationships drawn)`,
    );
    const edges = await page.evaluate(() =>
      (window as any).vigilGraph
        .edges()
        .map((e: any) => e.data('label'))
        .sort(),
    );
    expect(edges).toEqual([
      'OWNS_HOTKEY',
      'PARENT_OF',
      'STAKE_ADD 0.0000007 TAO',
      'STAKE_REMOVE 0.000000099 TAO',
      'TRANSFER 1.5 TAO',
    ]);
    await shot(page, 'wallet.png');
    expect(offHost).toEqual([]);
    expect(errors).toEqual([]);
  }, 180_000);

  it('reads a wallet clicked while another is being read once that read ends', async () => {
    const { page, errors } = await h.open(`#/wallet?chain=BITTENSOR&address=${job.target}`);
    await expect.poll(() => graphCounts(page), { timeout: 60_000 }).toEqual({ nodes: 3, edges: 2 });
    // The hotkey's neighbours are held back until the second wallet is clicked.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let holding = false;
    await page.route('**/graphql', async (route) => {
      const body = route.request().postData() ?? '';
      if (body.includes('query Neighbors') && body.includes(hotkey)) {
        holding = true;
        await held;
      }
      await route.fallback();
    });
    await clickUntil(page, hotkey, `reading ${hotkey}`);
    expect(holding).toBe(true);
    const b = job.edges.find((e) => e.type === 'TRANSFER')!.to;
    await clickUntil(page, b, `selected ${b}`);
    release();
    const expanded = (id: string) =>
      page.evaluate((x) => (window as any).vigilGraph.getElementById(x).data('expanded'), id);
    await expect.poll(() => expanded(b), { timeout: 60_000 }).toBe(true);
    expect(await expanded(hotkey)).toBe(true);
    await expect.poll(() => graphCounts(page), { timeout: 60_000 }).toEqual({ nodes: 6, edges: 5 });
    expect(await page.locator('.graph-status').innerText()).toContain(
      `selected ${b} (1 of 1 relationships drawn)`,
    );
    expect(errors).toEqual([]);
  }, 180_000);

  it('filters by type, direction and amount, in the route', async () => {
    const { page, errors } = await h.open(`#/wallet?chain=BITTENSOR&address=${job.target}`);
    const filters = page.getByRole('form', { name: 'Filters' });
    await filters.waitFor({ timeout: 60_000 });
    await filters.getByLabel('STAKE_ADD').check();
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => graphCounts(page), { timeout: 60_000 }).toEqual({ nodes: 2, edges: 1 });
    expect(decodeURIComponent(new URL(page.url()).hash)).toContain('types=STAKE_ADD');
    await page.getByRole('form', { name: 'Filters' }).getByLabel('STAKE_ADD').uncheck();
    await page.getByRole('form', { name: 'Filters' }).getByLabel('min TAO').fill('1');
    await page.getByRole('form', { name: 'Filters' }).getByRole('button', { name: 'Apply filters' }).click();
    // Only the 1.5 TAO transfer is at least 1 TAO.
    await expect.poll(() => graphCounts(page), { timeout: 60_000 }).toEqual({ nodes: 2, edges: 1 });
    expect(await page.evaluate(() => (window as any).vigilGraph.edges()[0].data('label'))).toBe(
      'TRANSFER 1.5 TAO',
    );
    await page.getByRole('form', { name: 'Filters' }).getByLabel('min TAO').fill('1.2.3');
    await page.getByRole('form', { name: 'Filters' }).getByRole('button', { name: 'Apply filters' }).click();
    await expect
      .poll(() => page.getByRole('alert').innerText(), { timeout: 30_000 })
      .toContain('"1.2.3" is not an amount');
    expect(errors).toEqual([]);
  }, 180_000);

  it('never adds amounts of different tokens: the edge label and the table show each in its unit', async () => {
    const { page, errors } = await h.open(`#/wallet?chain=ETHEREUM&address=${payer}`);
    await expect.poll(() => graphCounts(page), { timeout: 60_000 }).toEqual({ nodes: 2, edges: 1 });
    const label = await page.evaluate(() => (window as any).vigilGraph.edges()[0].data('label'));
    // Native first, then the ERC-20s by contract address.
    const erc20 = [
      [usdc, '2.5 USDC'],
      [unnamed, `7 units of ${unnamed.slice(0, 8)}…`],
    ]
      .sort(([a], [b]) => (a! < b! ? -1 : 1))
      .map(([, text]) => text);
    expect(label).toBe(`TRANSFER ×3 1.5 ETH + ${erc20.join(' + ')}`);
    // The summary's totals: one row per token (totals carry no symbol: ERC-20s in raw units).
    const totals = page.getByRole('region', { name: 'Summary' }).locator('table.totals tbody tr');
    await expect.poll(() => totals.allInnerTexts(), { timeout: 60_000 }).toHaveLength(3);
    expect((await totals.allInnerTexts()).map((r) => r.split('\t').at(-1)).sort()).toEqual(
      ['1.5 ETH', `2,500,000 units of ${usdc.slice(0, 8)}…`, `7 units of ${unnamed.slice(0, 8)}…`].sort(),
    );
    await page.getByRole('tab', { name: 'table' }).click();
    const amounts = page.getByRole('region', { name: 'Neighbour table' }).locator('tbody tr td:nth-child(4)');
    await expect.poll(() => amounts.allInnerTexts(), { timeout: 60_000 }).toHaveLength(3);
    expect((await amounts.allInnerTexts()).sort()).toEqual(
      ['1.5 ETH', '2.5 USDC', `7 units of ${unnamed.slice(0, 8)}…`].sort(),
    );
    expect(errors).toEqual([]);
  }, 180_000);

  it("draws the graph without waiting for the totals, then shows them (a supernode's slow part)", async () => {
    const { page, errors } = await h.open('#/');
    // The activity question (totals, first/last seen time: every relationship read) is held
    // until the graph is drawn; a page that waited for it would never draw.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let heldActivity = 0;
    await page.route('**/graphql', async (route) => {
      if (route.request().postData()?.includes('query WalletActivity')) {
        heldActivity++;
        await held;
      }
      await route.fallback();
    });
    await page.evaluate((a) => {
      location.hash = `#/wallet?chain=BITTENSOR&address=${a}`;
    }, hub);
    await expect.poll(() => graphCounts(page), { timeout: 60_000 }).toEqual({ nodes: 101, edges: 100 });
    const summary = page.getByRole('region', { name: 'Summary' });
    expect(await summary.innerText()).toContain('Reading the totals…');
    expect(await summary.innerText()).toContain(`relationships\n${HUB_EDGES}`);
    expect(heldActivity).toBe(1);
    release();
    // 130 transfers out of 1..130 TAO: 8,515 TAO.
    await expect
      .poll(() => summary.locator('table.totals tbody tr').allInnerTexts(), { timeout: 60_000 })
      .toEqual([`TRANSFER\tOUT\t\t${HUB_EDGES}\t8,515 TAO`]);
    expect(await summary.innerText()).toContain('(block 5000)');
    expect(await summary.innerText()).not.toContain('reading…');
    expect(errors).toEqual([]);
  }, 180_000);

  it('draws a wallet with more relationships than a page capped, and says so; the table pages through all', async () => {
    const { page, errors } = await h.open(`#/wallet?chain=BITTENSOR&address=${hub}`);
    await expect.poll(() => graphCounts(page), { timeout: 60_000 }).toEqual({ nodes: 101, edges: 100 });
    expect(await page.locator('.capped').innerText()).toContain(`100 of ${HUB_EDGES} relationships drawn`);
    await shot(page, 'wallet-capped.png');
    await page.getByRole('tab', { name: 'table' }).click();
    const status = page.locator('.page-status');
    await expect.poll(() => status.innerText(), { timeout: 60_000 }).toBe(`rows 1–25 of ${HUB_EDGES}`);
    const seen = new Set<string>();
    const next = page.getByRole('button', { name: 'next →' });
    const cells = page.getByRole('region', { name: 'Neighbour table' }).locator('tbody tr td:nth-child(3)');
    let previousFirst = '';
    for (let i = 0; ; i++) {
      // The status line changes before the rows do (and shows "loading…" between): wait until
      // both describe the same new page.
      let hi = 0;
      let rows: string[] = [];
      await expect
        .poll(
          async () => {
            const m = /^rows (\d+)–(\d+) of/.exec(await status.innerText());
            if (!m) return false;
            rows = await cells.allInnerTexts();
            hi = Number(m[2]);
            return rows.length === hi - Number(m[1]) + 1 && rows[0] !== previousFirst;
          },
          { timeout: 60_000 },
        )
        .toBe(true);
      previousFirst = rows[0]!;
      rows.forEach((r) => seen.add(r));
      if (hi >= HUB_EDGES) break;
      await expect.poll(() => next.isEnabled(), { timeout: 60_000 }).toBe(true);
      await next.click();
      await expect
        .poll(() => status.innerText(), { timeout: 60_000 })
        .toMatch(new RegExp(`^rows ${(i + 1) * 25 + 1}–`));
      expect(i).toBeLessThan(10);
    }
    expect(seen.size).toBe(HUB_EDGES);
    await expect.poll(() => status.innerText(), { timeout: 60_000 }).toBe(`rows 126–130 of ${HUB_EDGES}`);
    await expect.poll(() => next.isDisabled(), { timeout: 60_000 }).toBe(true);
    await page.getByRole('button', { name: '← previous' }).click();
    await expect.poll(() => status.innerText(), { timeout: 60_000 }).toBe(`rows 101–125 of ${HUB_EDGES}`);
    expect(errors).toEqual([]);
  }, 180_000);
});
