import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSubgraph } from '../../graph/ingest.ts';
import { newSs58, sampleSubgraph } from '../fixtures.ts';
import { type ConsoleHarness, shot, startConsoleHarness } from './harness.ts';

// Paths (to one target and to several) and money flow, in a real browser against the real API.

let h: ConsoleHarness;
const job = sampleSubgraph();
const byType = (t: string) => job.edges.find((e) => e.type === t)!;
const b = byType('TRANSFER').to;
const hotkey = byType('STAKE_ADD').to;
const c = byType('STAKE_REMOVE').to;
const stranger = newSs58();

beforeAll(async () => {
  h = await startConsoleHarness();
  await writeSubgraph(h.graph, job, { batchSize: 1000 });
}, 180_000);
afterAll(async () => h?.close());

describe('paths page', () => {
  it('finds paths from a wallet to a set of targets and draws them', async () => {
    const { page, offHost, errors } = await h.open('#/paths');
    const form = page.getByRole('form', { name: 'Path search' });
    await form.waitFor({ timeout: 60_000 });
    await form.getByLabel('from wallet').fill(job.target);
    await form.getByLabel('target wallets').fill(`${c}\n${b}, ${stranger}`);
    await form.getByRole('button', { name: 'Find paths' }).click();
    const result = (t: string) => page.locator(`.path-result[data-target="${t}"]`);
    await result(stranger).waitFor({ timeout: 60_000 });
    // target → hotkey (stake 700 rao) → c (unstake 99 rao): two hops.
    const toC = await result(c).innerText();
    expect(toC).toContain('1 path(s), shortest 2 hop(s)');
    expect(toC).toMatch(/→.*: 1× STAKE_ADD, 0\.0000007 TAO[\s\S]*→.*: 1× STAKE_REMOVE, 0\.000000099 TAO/);
    expect(await result(b).innerText()).toContain('shortest 1 hop(s)');
    expect(await result(b).innerText()).toContain('1× TRANSFER, 1.5 TAO');
    expect(await result(stranger).innerText()).toMatch(/No path|never seen|not found/i);
    const box = page.getByLabel('Graph', { exact: true });
    await expect.poll(async () => box.getAttribute('data-nodes'), { timeout: 30_000 }).toBe('4');
    expect(await box.getAttribute('data-edges')).toBe('3');
    expect(decodeURIComponent(new URL(page.url()).hash)).toContain(`to=${c},${b},${stranger}`);
    await shot(page, 'paths.png');
    expect(offHost).toEqual([]);
    expect(errors).toEqual([]);
    expect(hotkey).toBeTruthy();
  }, 180_000);

  it('traces money flow out of a wallet hop by hop with amounts', async () => {
    const { page, errors } = await h.open(`#/flow?address=${job.target}&dir=OUT&depth=3`);
    const hops = page.getByLabel('Flow hops');
    await hops.waitFor({ timeout: 60_000 });
    const hop1 = hops.locator('[data-hop="1"]');
    expect(await hop1.locator('h3').innerText()).toBe('hop 1: 1.5 TAO');
    expect(await hop1.innerText()).toContain(b);
    expect(await hops.locator('[data-hop]').count()).toBe(1);
    await shot(page, 'flow.png');
    expect(errors).toEqual([]);
  }, 120_000);
});
