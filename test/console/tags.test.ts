import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSubgraph } from '../../graph/ingest.ts';
import { sampleSubgraph } from '../fixtures.ts';
import { type ConsoleHarness, READ_KEY, WRITE_KEY, shot, startConsoleHarness } from './harness.ts';

// Tags (a write: the console asks for the key, refuses a read key with the API's reason) and the
// exports of the wallet view, in a real browser against the real API.

let h: ConsoleHarness;
const job = sampleSubgraph();
const b = job.edges.find((e) => e.type === 'TRANSFER')!.to;

beforeAll(async () => {
  h = await startConsoleHarness();
  await writeSubgraph(h.graph, job, { batchSize: 1000 });
}, 180_000);
afterAll(async () => h?.close());

const tagTexts = async (page: Page) =>
  (await page.getByRole('region', { name: 'Tags' }).locator('.tag').allInnerTexts()).map((t) =>
    t.replace(/\s+/g, ' '),
  );

async function enterKey(page: Page, key: string) {
  const prompt = page.getByRole('form', { name: 'API key' });
  await prompt.waitFor({ timeout: 30_000 });
  const reason = await prompt.innerText();
  await prompt.locator('input').fill(key);
  await prompt.getByRole('button', { name: 'Use key' }).click();
  return reason;
}

describe('tags', () => {
  it('adds a tag with a write key (a read key is refused), sees it after reload, removes it', async () => {
    const { page, offHost, errors } = await h.open(`#/wallet?chain=BITTENSOR&address=${job.target}`);
    const add = page.getByRole('form', { name: 'Add a tag' });
    await add.waitFor({ timeout: 60_000 });
    await add.getByLabel('tag label').fill('mixer suspect');
    await add.getByLabel('tag source').fill('analyst-7');
    await add.getByRole('button', { name: 'Add tag' }).click();
    expect(await enterKey(page, READ_KEY)).toContain('API key');
    // The read key is refused on a mutation: the prompt comes back saying a write key is needed.
    expect(await enterKey(page, WRITE_KEY)).toContain('This needs a write key');
    await expect.poll(() => tagTexts(page), { timeout: 60_000 }).toEqual(['mixer suspect (analyst-7) ×']);
    await page.reload();
    await expect.poll(() => tagTexts(page), { timeout: 60_000 }).toEqual(['mixer suspect (analyst-7) ×']);
    await shot(page, 'tags.png');
    // The key was asked once for the tab: removing needs no prompt.
    await page.getByRole('button', { name: 'remove tag mixer suspect' }).click();
    await expect.poll(() => tagTexts(page), { timeout: 60_000 }).toEqual([]);
    expect(await page.getByRole('form', { name: 'API key' }).count()).toBe(0);
    await page.reload();
    await page.getByRole('region', { name: 'Tags' }).getByText('none yet').waitFor({ timeout: 60_000 });
    expect(await page.content()).not.toContain(WRITE_KEY);
    expect(offHost).toEqual([]);
    // The first try without a key (401) and the refused read key (403) show as failed requests: those only.
    expect(errors.filter((e) => !/status of 40[13]/.test(e))).toEqual([]);
  }, 180_000);

  it('names an empty label and a dismissed prompt instead of failing silently', async () => {
    const { page } = await h.open(`#/wallet?chain=BITTENSOR&address=${b}`);
    const add = page.getByRole('form', { name: 'Add a tag' });
    await add.waitFor({ timeout: 60_000 });
    await add.getByRole('button', { name: 'Add tag' }).click();
    expect(await page.getByRole('region', { name: 'Tags' }).getByRole('alert').innerText()).toBe(
      'label: enter a label to add',
    );
    await add.getByLabel('tag label').fill('x');
    await add.getByRole('button', { name: 'Add tag' }).click();
    await page.getByRole('form', { name: 'API key' }).getByRole('button', { name: 'Cancel' }).click();
    await expect
      .poll(() => page.getByRole('region', { name: 'Tags' }).getByRole('alert').innerText(), {
        timeout: 30_000,
      })
      .toMatch(/key/i);
    expect(await tagTexts(page)).toEqual([]);
  }, 120_000);
});

describe('exports', () => {
  it('saves the view as CSV and JSON (the API export) and the graph as PNG and SVG', async () => {
    const { page, errors } = await h.open(`#/wallet?chain=BITTENSOR&address=${job.target}`);
    const box = page.getByLabel('Graph', { exact: true });
    await expect.poll(() => box.getAttribute('data-nodes'), { timeout: 60_000 }).toBe('3');
    const save = async (name: string) => {
      const [dl] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name, exact: true }).click(),
      ]);
      return { file: dl.suggestedFilename(), body: await readFile((await dl.path())!) };
    };
    const csv = await save('CSV');
    const lines = csv.body.toString('utf8').trim().split(/\r?\n/);
    expect(lines).toHaveLength(3); // header + the transfer + the stake
    expect(lines.find((l) => l.includes(b))).toContain('1500000000');
    const json = JSON.parse((await save('JSON')).body.toString('utf8'));
    expect(json.relationships).toHaveLength(2);
    const png = await save('PNG');
    expect(png.file).toMatch(/\.png$/);
    expect(png.body.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.body.length).toBeGreaterThan(2000);
    const svg = (await save('SVG')).body.toString('utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain(`<title>${b}</title>`);
    expect(svg).toContain('TRANSFER 1.5 TAO');
    expect(errors).toEqual([]);
  }, 180_000);
});
