import { VigilError } from '../../common/errors.ts';
import type { ChainView } from './chainView.ts';
import { edgesOfEvent } from './edges.ts';
import type { TargetCandidate } from './seam.ts';

export type { TargetCandidate } from './seam.ts';

/**
 * Targets from real chain activity (as Patrol): probe random blocks across [fromBlock, toBlock],
 * collect the (address, block) pairs their events touch, and draw `count` of them, distinct
 * addresses where there are enough.
 */
export async function sampleTargets(
  chain: Pick<ChainView, 'block'>,
  {
    count,
    fromBlock,
    toBlock,
    probes = 16,
    random = Math.random,
  }: { count: number; fromBlock: number; toBlock: number; probes?: number; random?: () => number },
): Promise<TargetCandidate[]> {
  const span = toBlock - fromBlock + 1;
  // Probing at least as many blocks as the range holds means probing all of them.
  const blocks = new Set<number>();
  if (probes >= span) for (let n = fromBlock; n <= toBlock; n++) blocks.add(n);
  else
    for (let i = 0; i < probes * 4 && blocks.size < probes; i++)
      blocks.add(fromBlock + Math.floor(random() * span));
  const candidates = new Map<string, TargetCandidate>();
  for (const n of blocks) {
    const { byIndex } = await chain.block(n);
    for (const ev of byIndex.values()) {
      for (const e of edgesOfEvent(ev)) {
        for (const address of [e.from, e.to])
          if (!candidates.has(address)) candidates.set(address, { address, block: n });
      }
    }
  }
  const pool = [...candidates.values()];
  if (pool.length === 0)
    throw new VigilError(
      `no wallet activity in ${blocks.size} probe blocks between ${fromBlock} and ${toBlock}: no target to challenge miners on this round`,
      {
        details:
          'The probed blocks hold no transfer, stake or other edge event; the next round probes others.',
      },
    );
  return drawTargets(pool, count, random);
}

/** `count` targets from the pool: distinct while there are enough; past that, repeats from the whole pool. */
export function drawTargets(pool: TargetCandidate[], count: number, random: () => number): TargetCandidate[] {
  const unused = [...pool];
  const out: TargetCandidate[] = [];
  for (let i = 0; i < count; i++) {
    const from = unused.length > 0 ? unused : pool;
    const j = Math.floor(random() * from.length);
    out.push(from === unused ? unused.splice(j, 1)[0]! : pool[j]!);
  }
  return out;
}
