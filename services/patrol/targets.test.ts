import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../chains/bittensor/events.ts';
import { VigilError } from '../../common/errors.ts';
import { newSs58 } from '../../test/fixtures.ts';
import type { ChainView } from './chainView.ts';
import { sampleTargets } from './targets.ts';

/** A chain view over events held in memory: target sampling is pure logic over what the chain says. */
function viewOf(blocks: Record<number, DomainEvent[]>): Pick<ChainView, 'block' | 'ownerAt'> {
  return {
    block: async (n) => ({
      hash: `0x${n}`,
      byIndex: new Map((blocks[n] ?? []).map((e) => [e.eventIndex, e])),
    }),
    ownerAt: async () => null,
  };
}

const transfer = (blockNumber: number, from: string, to: string, amount = 5n): DomainEvent => ({
  kind: 'Transfer',
  from,
  to,
  amount,
  blockNumber,
  blockHash: `0x${blockNumber}`,
  eventIndex: 1,
  extrinsicIndex: 1,
});

describe('sampleTargets', () => {
  it('draws distinct targets from the wallets that real events touch, with their block', async () => {
    const [a, b, c, d] = [newSs58(), newSs58(), newSs58(), newSs58()];
    const view = viewOf({ 3: [transfer(3, a!, b!)], 7: [transfer(7, c!, d!)] });
    const targets = await sampleTargets(view, { count: 4, fromBlock: 1, toBlock: 10, probes: 10 });
    expect(targets.map((t) => t.address).sort()).toEqual([a, b, c, d].sort());
    for (const t of targets) expect(t.block).toBe(t.address === a || t.address === b ? 3 : 7);
  });

  it('fails with a clear error when the probed blocks hold no wallet activity', async () => {
    // Zero-amount transfers prove nothing and count as no activity.
    const view = viewOf({ 2: [transfer(2, newSs58(), newSs58(), 0n)] });
    const failed = sampleTargets(view, { count: 1, fromBlock: 1, toBlock: 4, probes: 4 });
    // A VigilError: the CLI prints its one line, not a stack trace.
    await expect(failed).rejects.toThrow(VigilError);
    await expect(failed).rejects.toMatchObject({
      shortMessage:
        'no wallet activity in 4 probe blocks between 1 and 4: no target to challenge miners on this round',
    });
  });
});
