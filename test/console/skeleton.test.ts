import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSubgraph } from '../../graph/ingest.ts';
import { sampleSubgraph } from '../fixtures.ts';
import { type ConsoleHarness, WRITE_KEY, shot, startConsoleHarness } from './harness.ts';

// The console as a person opens it: served by the API at /console, every script and style from
// this machine, pages reached from the nav, data only through /graphql.

let h: ConsoleHarness;
const job = sampleSubgraph();

beforeAll(async () => {
  h = await startConsoleHarness();
  await writeSubgraph(h.graph, job, { batchSize: 1000 });
}, 180_000);
afterAll(async () => h?.close());

describe('web console skeleton', () => {
  it('is served at /console with its own bundle and a policy that allows nothing from elsewhere', async () => {
    const res = await fetch(h.api.consoleUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    const scripts = [...html.matchAll(/src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(['/console/app.js']);
    const js = await fetch(new URL('/console/app.js', h.api.consoleUrl));
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const etag = js.headers.get('etag')!;
    expect(
      (await fetch(new URL('/console/app.js', h.api.consoleUrl), { headers: { 'if-none-match': etag } }))
        .status,
    ).toBe(304);
    expect((await fetch(new URL('/console/nope.js', h.api.consoleUrl))).status).toBe(404);
    const root = await fetch(new URL('/', h.api.consoleUrl), { redirect: 'manual' });
    expect(root.headers.get('location')).toBe('/console/');
  });

  it('loads offline, navigates by hash route and shows a wallet found by search', async () => {
    const { page, offHost, errors } = await h.open();
    await page.getByRole('navigation', { name: 'Pages' }).getByText('Wallet').waitFor({ timeout: 60_000 });
    await expect
      .poll(() => page.locator('.api-status').innerText(), { timeout: 60_000 })
      .toBe('API test: ok');
    await page.getByLabel('wallet address').fill(job.target);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/#\/wallet\?/);
    expect(new URL(page.url()).hash).toBe(`#/wallet?address=${job.target}&chain=BITTENSOR`);
    const summary = page.getByRole('region', { name: 'Summary' });
    await summary.waitFor({ timeout: 60_000 });
    expect(await summary.locator('h2').innerText()).toBe(job.target);
    // The sample: the target sent one 1.5 TAO transfer and staked 700 rao on a hotkey. The totals
    // are a second question that lands after the summary: wait for their table.
    await summary.locator('table.totals').waitFor({ timeout: 60_000 });
    const text = await summary.innerText();
    expect(text).toMatch(/relationships\s+2/);
    expect(text).toMatch(/TRANSFER\s+OUT\s+1\s+1\.5 TAO/);
    expect(text).toMatch(/STAKE_ADD\s+OUT\s+1\s+1\s+0\.0000007 TAO/);
    await page.locator('[data-page=alerts]').click();
    await page.getByRole('heading', { name: 'Alerts' }).waitFor();
    expect(new URL(page.url()).hash).toBe('#/alerts');
    await page.goBack();
    await summary.waitFor();
    await shot(page, 'skeleton.png');
    expect(offHost).toEqual([]);
    expect(errors).toEqual([]);
  }, 180_000);

  it('asks for the API key once per tab, as a password, and never shows it', async () => {
    const { page, errors } = await h.open();
    await page.getByText('enter an API key').click();
    const prompt = page.getByRole('form', { name: 'API key' });
    await prompt.waitFor();
    expect(await prompt.locator('input').getAttribute('type')).toBe('password');
    await prompt.locator('input').fill(WRITE_KEY);
    await prompt.getByRole('button', { name: 'Use key' }).click();
    await page.getByText('API key set for this tab').waitFor();
    expect(await page.content()).not.toContain(WRITE_KEY);
    expect(await page.evaluate(() => sessionStorage.getItem('vigil.apiKey'))).toBe(WRITE_KEY);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await page.reload();
    await page.getByText('API key set for this tab').waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'forget' }).click();
    await page.getByText('enter an API key').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('vigil.apiKey'))).toBeNull();
    expect(errors).toEqual([]);
  }, 120_000);
});
