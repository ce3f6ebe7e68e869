import type { ActivityReader } from '../../../chains/ethereum/activity.ts';
import { type GraphEdge, relationshipId } from '../../../graph/model.ts';
import { type EthereumChallenge, challengeDirection, challengeWindow } from '../../../protocol/patrol.ts';
import { type Completeness, type CompletenessOptions, drawWithout } from '../completeness.ts';
import { indexBlock } from './edges.ts';
import { edgesFollowed, walkFrom } from './subgraph.ts';

/**
 * How complete a verified Ethereum answer is, against the validator's own read of the window
 * (the reader the miner uses, so an honest answer scores 1): an address fewer than `depth` hops
 * from the target must come with every edge of the window the walk follows from it in the
 * challenge's direction. The target and `sample` such addresses drawn at random (the miner cannot
 * tell which) are checked. Leaving out edges the graph already holds lowers the share found.
 */
export async function measureEthereumCompleteness(
  edges: GraphEdge[],
  challenge: EthereumChallenge,
  reader: ActivityReader,
  { sample, random }: CompletenessOptions,
): Promise<Completeness> {
  const { target, depth } = challenge;
  const direction = challengeDirection(challenge);
  const inner = walkFrom(edges, target, depth - 1, direction).nodes.filter((w) => w !== target);
  const wallets = [target, ...drawWithout(inner, sample, random)];
  const window = challengeWindow(challenge);
  const blocks = (await reader.range(window.from, window.to)).map(indexBlock);
  const expected = new Set<string>();
  for (const w of wallets)
    for (const b of blocks)
      for (const e of edgesFollowed(b.byAddress.get(w) ?? [], w, direction))
        expected.add(relationshipId('ethereum', e));
  const have = new Set(edges.map((e) => relationshipId('ethereum', e)));
  const missing = [...expected].filter((id) => !have.has(id));
  const present = expected.size - missing.length;
  return {
    ratio: expected.size === 0 ? 1 : present / expected.size,
    expected: expected.size,
    present,
    wallets,
    missing: missing.slice(0, 3),
  };
}
