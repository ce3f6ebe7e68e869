import type { ActivityReader } from '../../../chains/ethereum/activity.ts';
import { VigilError } from '../../../common/errors.ts';
import { type TargetCandidate, drawTargets } from '../targets.ts';
import { indexBlock } from './edges.ts';

/**
 * Ethereum targets from real activity (as on Bittensor): probe random blocks among the node's
 * last `recent` blocks, collect the (address, block) pairs their edges touch, and draw `count`,
 * distinct addresses while there are enough.
 */
export async function sampleEthereumTargets(
  reader: Pick<ActivityReader, 'block'>,
  {
    count,
    head,
    recent = 1_000,
    probes = 16,
    random = Math.random,
  }: { count: number; head: number; recent?: number; probes?: number; random?: () => number },
): Promise<TargetCandidate[]> {
  const fromBlock = Math.max(1, head - recent + 1);
  const span = head - fromBlock + 1;
  const blocks = new Set<number>();
  if (probes >= span) for (let n = fromBlock; n <= head; n++) blocks.add(n);
  else
    for (let i = 0; i < probes * 4 && blocks.size < probes; i++)
      blocks.add(fromBlock + Math.floor(random() * span));
  const candidates = new Map<string, TargetCandidate>();
  const read = await Promise.all([...blocks].map((n) => reader.block(n)));
  for (const b of read)
    for (const e of indexBlock(b).edges)
      for (const address of [e.from, e.to])
        if (!candidates.has(address)) candidates.set(address, { address, block: b.number });
  const pool = [...candidates.values()];
  if (pool.length === 0)
    throw new VigilError(
      `no Ethereum activity in ${blocks.size} probe blocks between ${fromBlock} and ${head}: no target to challenge miners on this round`,
      {
        details:
          'The probed blocks hold no ETH or ERC-20 transfer and no contract creation; the next round probes others.',
      },
    );
  return drawTargets(pool, count, random);
}
