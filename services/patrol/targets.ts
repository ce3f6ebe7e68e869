import type { ChainView } from './chainView.ts';
import { edgesOfEvent } from './edges.ts';

export interface TargetCandidate {
  address: string;
  block: number;
}

/**
 * Targets from real chain activity (as Patrol): probe random blocks across [fromBlock, toBlock],
 * collect the (address, block) pairs their events touch, and draw `count` of them, distinct
 * addresses where there are enough.
 */
export async function sampleTargets(
  chain: ChainView,
  {
    count,
    fromBlock,
    toBlock,
    probes = 16,
    random = Math.random,
  }: { count: number; fromBlock: number; toBlock: number; probes?: number; random?: () => number },
): Promise<TargetCandidate[]> {
  const span = toBlock - fromBlock + 1;
  const blocks = new Set<number>();
  for (let i = 0; i < Math.min(probes * 4, span) && blocks.size < Math.min(probes, span); i++) {
    blocks.add(fromBlock + Math.floor(random() * span));
  }
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
    throw new Error(`no wallet activity in ${blocks.size} probe blocks between ${fromBlock} and ${toBlock}`);
  const out: TargetCandidate[] = [];
  for (let i = 0; i < count; i++) {
    const j = Math.floor(random() * pool.length);
    out.push(pool[j]!);
    if (pool.length > count - i) pool.splice(j, 1);
  }
  return out;
}
