import type { Chain, GraphEdge } from './model.ts';

/**
 * Identities derived from evidence, never from who sent it, so the same fact sent twice (by two
 * miners, or a retried job) is stored once. Every writer and reader uses these.
 */

/**
 * The identity of a relationship. OWNS_HOTKEY is a state fact rather than an event: one per
 * (coldkey, hotkey) pair. On Ethereum (hashes and addresses lower-cased):
 *   ethereum:TRANSFER:<txHash>:log:<logIndex>          ERC-20 Transfer log
 *   ethereum:TRANSFER:<txHash>:call:<callPath | "tx">  native ETH (the tx's own value: "tx")
 *   ethereum:DEPLOYED:<txHash>:<contract address>      contract creation
 */
export function relationshipId(chain: Chain, edge: GraphEdge): string {
  const ev = edge.evidence;
  if (edge.type === 'OWNS_HOTKEY') return `${chain}:OWNS_HOTKEY:${edge.from}:${edge.to}`;
  if (chain === 'ethereum') {
    const tx = ev.txHash?.toLowerCase();
    if (edge.type === 'DEPLOYED') return `ethereum:DEPLOYED:${tx}:${edge.to.toLowerCase()}`;
    if (ev.logIndex !== undefined) return `ethereum:${edge.type}:${tx}:log:${ev.logIndex}`;
    return `ethereum:${edge.type}:${tx}:call:${ev.callPath || 'tx'}`;
  }
  return `${chain}:${edge.type}:${ev.blockNumber}:${ev.eventIndex}:${ev.subIndex ?? 0}`;
}

/** The identity of an alert: one per (chain, transaction, invariant). */
export function alertId(f: { chainId: number; tx: { hash: string }; invariant: { id: string } }): string {
  return `ethereum:${f.chainId}:${f.tx.hash}:${f.invariant.id}`;
}

/** An ingest job's id: the payload's identity, so enqueueing the same answer or finding twice queues it once. */
export function ingestJobId(
  job:
    | { kind: 'subgraph'; submissionId: string }
    | { kind: 'finding'; chainId: number; tx: { hash: string }; invariant: { id: string } }
    | { kind: 'outcome'; alertId: string; index: number; status: string },
): string {
  if (job.kind === 'subgraph') return `subgraph:${job.submissionId}`;
  // A pause has two outcomes (sent, then how it landed): each its own job.
  if (job.kind === 'outcome') return `outcome:${job.alertId}:${job.index}:${job.status}`;
  return `finding:${alertId(job)}`;
}
