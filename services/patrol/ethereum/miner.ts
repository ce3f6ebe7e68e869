import type { ActivityReader } from '../../../chains/ethereum/activity.ts';
import type { GraphEdge, GraphNode } from '../../../protocol/model.ts';
import {
  type EthereumChallenge,
  type Subgraph,
  challengeDirection,
  challengeWindow,
} from '../../../protocol/patrol.ts';
import { indexBlock } from './edges.ts';
import { walkFrom } from './subgraph.ts';

/**
 * What each address of an Ethereum subgraph is: a contract when the subgraph shows it created, or
 * when it holds code at the window's last block; otherwise a wallet. Miner and validator both type
 * nodes with this, so ingest labels contracts `:Contract` from a rule the validator checked.
 */
export async function typeNodes(
  addresses: string[],
  edges: GraphEdge[],
  reader: Pick<ActivityReader, 'isContract'>,
  atBlock: number,
): Promise<GraphNode[]> {
  const created = new Set(edges.filter((e) => e.type === 'DEPLOYED').map((e) => e.to));
  const contract = await Promise.all(
    addresses.map((a) => (created.has(a) ? true : reader.isContract(a, atBlock))),
  );
  return addresses.map((address, i) => ({ address, type: contract[i] ? 'contract' : 'wallet' }));
}

/**
 * The subgraph an Ethereum challenge asks for: every edge of the window's blocks (edges.ts), then
 * the part reachable from the target within `depth` hops in the challenge's direction, its nodes
 * typed by typeNodes.
 */
export async function buildEthereumSubgraph(reader: ActivityReader, c: EthereumChallenge): Promise<Subgraph> {
  const window = challengeWindow(c);
  const blocks = await reader.range(window.from, window.to);
  const edges = blocks.flatMap((b) => indexBlock(b).edges);
  const sub = walkFrom(edges, c.target, c.depth, challengeDirection(c));
  return { nodes: await typeNodes(sub.nodes, sub.edges, reader, window.to), edges: sub.edges };
}
