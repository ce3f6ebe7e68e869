import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSubgraph } from '../../graph/ingest.ts';
import { createPatrolStatePublisher } from '../../services/patrol/operatorState.ts';
import { DEFAULT_SCORING, scoreAnswer } from '../../services/patrol/scoring.ts';
import { screenshot } from '../browser.ts';
import { newSs58, sampleSubgraph } from '../fixtures.ts';
import { silentLogger } from '../services.ts';
import { type ConsoleHarness, WRITE_KEY, startConsoleHarness } from './harness.ts';

// The protocol team's, subnet operators' and cases' pages as a person uses them in chromium,
// against the real API, Neo4j and Redis.

let h: ConsoleHarness;
const job = sampleSubgraph();
beforeAll(async () => {
  h = await startConsoleHarness();
  await writeSubgraph(h.graph, job, { batchSize: 1000 });
}, 180_000);
afterAll(async () => h?.close());

/** The key prompt, answered with the write key (once per tab). */
async function giveWriteKey(page: Awaited<ReturnType<ConsoleHarness['open']>>['page']) {
  const prompt = page.getByRole('form', { name: 'API key' });
  await prompt.waitFor({ timeout: 60_000 });
  await prompt.locator('input').fill(WRITE_KEY);
  await prompt.getByRole('button', { name: 'Use key' }).click();
}

describe('console: protocol team, subnet operators, cases', () => {
  it('registers an invariant: a bad field shows its error under the field, a good one is listed, then removed', async () => {
    const { page, offHost, errors } = await h.open('#/protocol');
    const form = page.getByRole('form', { name: 'Register an invariant' });
    await form.waitFor({ timeout: 60_000 });
    const id = `vault-owner-${crypto.randomUUID().slice(0, 8)}`;
    await form
      .locator('[name=definition]')
      .fill(`{"id": "${id}", "kind": "ownerUnchanged", "contract": "0x1234"}`);
    await form.getByRole('button', { name: 'Register' }).click();
    await giveWriteKey(page);
    const fieldError = form.locator('[data-field=definition]');
    await fieldError.waitFor({ timeout: 60_000 });
    expect(await fieldError.innerText()).toMatch(/contract: expected a 0x-prefixed 20-byte hex address/);
    await screenshot(page, 'console-invariant-error.png');

    const contract = '0x00000000000000000000000000000000000000aa';
    await form
      .locator('[name=definition]')
      .fill(`{"id": "${id}", "kind": "ownerUnchanged", "contract": "${contract}"}`);
    await form.locator('[name=actionKind]').selectOption('WEBHOOK');
    await form.locator('[name=actionTarget]').fill('https://hooks.example.test/vigil');
    await form.getByRole('button', { name: 'Register' }).click();
    const row = page.locator(`tr[data-invariant="${id}"]`);
    await row.waitFor({ timeout: 60_000 });
    expect(await row.innerText()).toMatch(
      new RegExp(
        `${id}\\s+31337\\s+ownerUnchanged\\s+${contract}\\s+HIGH\\s+webhook https://hooks.example.test/vigil`,
      ),
    );
    expect(await form.locator('.field-error').count()).toBe(0);
    await screenshot(page, 'console-invariants.png');
    await row.getByRole('button', { name: `remove ${id}` }).click();
    await row.waitFor({ state: 'detached', timeout: 60_000 });
    expect(await page.content()).not.toContain(WRITE_KEY);
    expect(offHost).toEqual([]);
    expect(errors.filter((e) => !/status of 40[13]/.test(e))).toEqual([]);
  }, 180_000);

  it("shows each Patrol miner's scores, last rejections and weight as the validator published them", async () => {
    const validator = newSs58();
    const [honest, flaky] = [newSs58(), newSs58()];
    const pub = createPatrolStatePublisher({
      connection: h.redis,
      prefix: h.prefix,
      validator,
      log: silentLogger(),
    });
    const paid = scoreAnswer({ volume: 1000, seconds: 2, novelEdges: 50, completeness: 1 }, DEFAULT_SCORING);
    const base = { challengeId: 'c', target: honest, edges: 0, volume: 0, seconds: null, average: 0 };
    await pub.publish(
      {
        round: 7,
        ingestedJobs: [],
        results: [
          {
            ...base,
            miner: { hotkey: honest, uid: 1 },
            accepted: true,
            edges: 12,
            volume: 1000,
            seconds: 2,
            score: paid,
            average: 0.9,
          },
          {
            ...base,
            miner: { hotkey: flaky, uid: 2 },
            accepted: false,
            reason: 'no answer before the deadline',
            score: { total: 0 },
          },
        ],
      },
      { uids: [1, 2], weights: [65535, 0], defenseShare: 0.25, block: 42 },
      // The same round on Ethereum: the honest Bittensor miner's Ethereum answer is rejected.
      [
        {
          chain: 'ethereum',
          report: {
            round: 7,
            ingestedJobs: [],
            results: [
              {
                ...base,
                miner: { hotkey: honest, uid: 1 },
                accepted: false,
                reason: 'edge 0: amount 5 differs from the node (4)',
                score: { total: 0 },
              },
            ],
          },
        },
      ],
    );
    // And a round of an alert's trail, numbered by the trail loop: its own table.
    await pub.trailRound('ethereum', {
      round: 3,
      ingestedJobs: [],
      results: [
        { ...base, miner: { hotkey: honest, uid: 1 }, accepted: true, edges: 4, score: paid, average: 0.5 },
      ],
    });
    const { page, offHost, errors } = await h.open('#/operators');
    const card = page.locator(`[data-validator="${validator}"]`);
    await card.waitFor({ timeout: 60_000 });
    expect(await card.innerText()).toMatch(/weights set on chain at block 42 .*25\.0 % from BitDefense/);
    const table = card.locator('[data-chain="bittensor"]');
    expect(await table.locator('h4').innerText()).toMatch(/^Bittensor · round 7/);
    // uid, hotkey, paid, volume, responsiveness, novelty, completeness, score, average, weight, rejections
    const cells = async (m: string, chain = table) =>
      (await chain.locator(`tr[data-miner="${m}"] td`).allInnerTexts()).map((t) => t.trim());
    expect((await cells(honest)).filter((_, i) => i !== 1)).toEqual([
      '1',
      'yes',
      '0.500',
      '0.500',
      '0.500',
      '1.000',
      '0.500',
      '0.900',
      '65535',
      '—',
    ]);
    expect((await cells(flaky)).filter((_, i) => i !== 1)).toEqual([
      '2',
      'no',
      '0.000',
      '0.000',
      '0.000',
      '—',
      '0.000',
      '0.000',
      '0',
      'round 7: no answer before the deadline',
    ]);
    // Ethereum's round, in its own table: its rejection, not Bittensor's; flaky played only Bittensor.
    const eth = card.locator('[data-chain="ethereum"][data-trail="false"]');
    expect(await eth.locator('h4').innerText()).toMatch(/^Ethereum · round 7/);
    expect((await cells(honest, eth)).filter((_, i) => i !== 1)).toEqual([
      '1',
      'no',
      '0.000',
      '0.000',
      '0.000',
      '—',
      '0.000',
      '0.000',
      '65535',
      'round 7: edge 0: amount 5 differs from the node (4)',
    ]);
    expect(await eth.locator(`tr[data-miner="${flaky}"]`).count()).toBe(0);
    const trail = card.locator('[data-chain="ethereum"][data-trail="true"]');
    expect(await trail.locator('h4').innerText()).toMatch(/^Ethereum · attacker's trail, round 3/);
    expect(await trail.locator(`tr[data-miner="${honest}"] td:nth-child(3)`).innerText()).toBe('yes');
    await screenshot(page, 'console-operators.png');
    expect(offHost).toEqual([]);
    expect(errors).toEqual([]);
  }, 180_000);

  it('saves the wallet in view as a case and opens it by its link in another tab', async () => {
    const { page, errors } = await h.open(`#/wallet?chain=BITTENSOR&address=${job.target}`);
    await page.getByRole('link', { name: 'Save as case' }).click({ timeout: 60_000 });
    const form = page.getByRole('form', { name: 'Save a case' });
    await form.waitFor({ timeout: 60_000 });
    expect(await form.locator('[name=wallets]').inputValue()).toBe(job.target);
    const other = job.nodes[1]!.address;
    await form.locator('[name=paths]').fill(`${job.target} → not-a-wallet`);
    await form.locator('[name=title]').fill('Stake loop of the sample');
    await form.locator('[name=notes]').fill('first line\nsecond line');
    await form.getByRole('button', { name: 'Save case' }).click();
    await giveWriteKey(page);
    const pathError = form.locator('[data-field=paths]');
    await pathError.waitFor({ timeout: 60_000 });
    expect(await pathError.innerText()).toMatch(/input\.paths\[0\]\[1\] is not a valid bittensor address/);
    await form.locator('[name=paths]').fill(`${job.target} → ${other}`);
    await form.getByRole('button', { name: 'Save case' }).click();
    await page.waitForURL(/#\/cases\?id=[0-9a-f-]{36}$/, { timeout: 60_000 });
    const link = page.url();

    const second = await h.open(new URL(link).hash);
    const opened = second.page.locator('article.case');
    await opened.waitFor({ timeout: 60_000 });
    expect(await opened.locator('h2').innerText()).toBe('Stake loop of the sample');
    expect(await opened.locator('pre.notes').innerText()).toBe('first line\nsecond line');
    expect(await opened.locator(`a[title="${job.target}"]`).count()).toBe(2); // in wallets and in the path
    expect(await opened.locator(`a[title="${other}"]`).count()).toBe(1);
    await screenshot(second.page, 'console-case.png');
    expect(errors.filter((e) => !/status of 40[13]/.test(e))).toEqual([]);
    expect(second.errors).toEqual([]);
  }, 180_000);
});
