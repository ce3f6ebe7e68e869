import type { BlockActivity } from '../../../chains/ethereum/activity.ts';
import { type Evidence, type GraphEdge, relationshipId } from '../../../graph/model.ts';

/**
 * The edges an Ethereum block proves (protocol/model.ts, eth-contract): native ETH and ERC-20
 * TRANSFERs, and DEPLOYED (deployer → contract). Miners build answers with this and validators
 * recompute it from the node to check a claimed edge: one definition on both sides.
 */
export function edgesOfBlock(b: BlockActivity): GraphEdge[] {
  const at = (txHash: string): Evidence => ({
    blockNumber: b.number,
    blockHash: b.hash,
    timestamp: b.timestamp,
    txHash,
  });
  const edges: GraphEdge[] = [];
  for (const t of b.native)
    edges.push({
      type: 'TRANSFER',
      from: t.from,
      to: t.to,
      evidence: { ...at(t.txHash), callPath: t.callPath, amount: t.amount.toString() },
    });
  for (const t of b.tokens)
    edges.push({
      type: 'TRANSFER',
      from: t.from,
      to: t.to,
      evidence: { ...at(t.txHash), logIndex: t.logIndex, token: t.token, amount: t.amount.toString() },
    });
  for (const c of b.creations)
    edges.push({ type: 'DEPLOYED', from: c.deployer, to: c.contract, evidence: at(c.txHash) });
  return edges;
}

/** A block's edges looked up by identity (verification) and by each address they touch (completeness). */
export interface IndexedBlock {
  hash: string;
  edges: GraphEdge[];
  byId: Map<string, GraphEdge>;
  byAddress: Map<string, GraphEdge[]>;
}

const indexed = new WeakMap<BlockActivity, IndexedBlock>();

/** The block's edges, indexed once per cached block (the reader's cache keeps the object). */
export function indexBlock(b: BlockActivity): IndexedBlock {
  let ix = indexed.get(b);
  if (ix) return ix;
  const edges = edgesOfBlock(b);
  const byAddress = new Map<string, GraphEdge[]>();
  for (const e of edges)
    for (const end of [e.from, e.to]) {
      const list = byAddress.get(end);
      if (list) list.push(e);
      else byAddress.set(end, [e]);
    }
  ix = {
    hash: b.hash,
    edges,
    byId: new Map(edges.map((e) => [relationshipId('ethereum', e), e])),
    byAddress,
  };
  indexed.set(b, ix);
  return ix;
}
