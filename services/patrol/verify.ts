import type { GraphEdge } from '../../graph/model.ts';
import { relationshipId } from '../../graph/model.ts';
import { type Answer, type Challenge, challengeWindow, checkAnswer } from '../../protocol/patrol.ts';
import type { ChainView } from './chainView.ts';
import { edgesOfEvent, hotkeysOf, sameEdge } from './edges.ts';
import { subgraphAround } from './subgraph.ts';

export type Verdict =
  | { accepted: true; edges: GraphEdge[]; volume: number }
  | { accepted: false; reason: string };

const reject = (reason: string): Verdict => ({ accepted: false, reason });

/**
 * Checks a miner's answer: who signed it, its shape, that all evidence lies in the challenge's
 * window (a precomputed whole-history graph fails here), and that every edge is exactly what the
 * chain event it names proves. One bad edge rejects the whole answer: a miner must not profit
 * from mixing real and invented edges.
 */
export async function verifyAnswer(
  answer: unknown,
  challenge: Challenge,
  chain: ChainView,
): Promise<Verdict> {
  const checked = checkAnswer(answer, { challengeId: challenge.id, miner: challenge.miner });
  if (!checked.ok) return reject(checked.reason);
  return verifyContent(checked.answer, challenge, chain);
}

/**
 * The content checks of an answer that protocol/patrol.ts checkAnswer already accepted (size,
 * shape, challenge, miner, signature): the validator checks those on arrival, once. Whether the
 * ingest worker can store it is the worker's own parse of the job, which the validator runs first.
 */
export async function verifyContent(
  answer: Answer,
  challenge: Challenge,
  chain: ChainView,
): Promise<Verdict> {
  const { nodes, edges } = answer.subgraph;
  if (nodes.length === 0 && edges.length === 0) return reject('empty subgraph');
  if (nodes.length < 2) return reject(`fewer than 2 nodes (${nodes.length})`);
  const nodeSet = new Set<string>();
  for (const n of nodes) {
    if (nodeSet.has(n.address)) return reject(`duplicate node ${n.address}`);
    nodeSet.add(n.address);
  }
  const ids = new Set<string>();
  for (const [i, e] of edges.entries()) {
    if (!e.evidence || typeof e.evidence.blockNumber !== 'number') return reject(`edge ${i} has no evidence`);
    if (!nodeSet.has(e.from) || !nodeSet.has(e.to))
      return reject(`edge ${i} joins an address that is not a node`);
    const id = relationshipId('bittensor', e);
    if (ids.has(id)) return reject(`duplicate edge ${id}`);
    ids.add(id);
  }
  if (!edges.some((e) => e.from === challenge.target || e.to === challenge.target)) {
    return reject(`target ${challenge.target} is on no edge`);
  }
  if (subgraphAround(edges, challenge.target, Number.POSITIVE_INFINITY).nodes.length !== nodeSet.size) {
    return reject('graph is not connected to the target');
  }
  // Within the challenge's depth: volume counts every edge, so one hop further must not pay.
  // Ownership edges are the exception: they add each reached hotkey's owner, one hop out.
  const eventEdges = edges.filter((e) => e.type !== 'OWNS_HOTKEY');
  const within = subgraphAround(eventEdges, challenge.target, challenge.depth);
  if (within.edges.length !== eventEdges.length) {
    return reject(
      `${eventEdges.length - within.edges.length} edges lie beyond depth ${challenge.depth} of the target`,
    );
  }
  const reached = new Set(within.nodes.map((n) => n.address));
  const stray = edges.findIndex((e) => e.type === 'OWNS_HOTKEY' && !reached.has(e.to));
  if (stray >= 0) return reject(`edge ${stray}: ownership of a hotkey beyond depth ${challenge.depth}`);
  // Node types are ingested as given: they must be what the edges make them (a hotkey is the
  // staking end of an edge or an owned hotkey; everything else a plain wallet).
  const hotkeys = new Set(edges.flatMap((e) => (e.type === 'OWNS_HOTKEY' ? [e.to] : hotkeysOf(e))));
  for (const n of nodes) {
    const expected = hotkeys.has(n.address) ? 'hotkey' : 'wallet';
    if (n.type !== expected)
      return reject(`node ${n.address} is typed ${n.type}, its edges make it a ${expected}`);
  }
  const window = challengeWindow(challenge);
  for (const [i, e] of edges.entries()) {
    const b = e.evidence.blockNumber;
    if (b < window.from || b > window.to) {
      return reject(
        `edge ${i} has evidence at block ${b}, outside the challenge window [${window.from}, ${window.to}]`,
      );
    }
  }

  // Against the chain: fetch every named block once (concurrently), then compare edge by edge.
  const blocks = new Map(
    await Promise.all(
      [...new Set(edges.map((e) => e.evidence.blockNumber))].map(
        async (n) => [n, await chain.block(n)] as const,
      ),
    ),
  );
  for (const [i, e] of edges.entries()) {
    const block = blocks.get(e.evidence.blockNumber)!;
    if (e.evidence.blockHash !== undefined && e.evidence.blockHash !== block.hash) {
      return reject(
        `edge ${i} names block hash ${e.evidence.blockHash}, the chain has ${block.hash} at ${e.evidence.blockNumber}`,
      );
    }
    if (e.type === 'OWNS_HOTKEY') {
      const owner = await chain.ownerAt(e.to, e.evidence.blockNumber);
      if (owner !== e.from) {
        return reject(
          `edge ${i}: chain says hotkey ${e.to} was owned by ${owner ?? 'nobody'} at block ${e.evidence.blockNumber}, not ${e.from}`,
        );
      }
      continue;
    }
    const event = e.evidence.eventIndex === undefined ? undefined : block.byIndex.get(e.evidence.eventIndex);
    if (!event)
      return reject(
        `edge ${i}: no relevant event #${e.evidence.eventIndex} in block ${e.evidence.blockNumber}`,
      );
    const proven = edgesOfEvent(event)[e.evidence.subIndex ?? 0];
    if (!proven || !sameEdge(withBlockHash(e, block.hash), proven)) {
      return reject(
        `edge ${i} (${e.type} ${e.from} → ${e.to}) does not match event #${e.evidence.eventIndex} of block ${e.evidence.blockNumber}`,
      );
    }
  }
  // Connected to the target (checked above), so every node and edge counts toward the volume.
  return { accepted: true, edges, volume: nodes.length + edges.length };
}

/** Evidence may omit the block hash; compare as if it named the chain's. */
function withBlockHash(e: GraphEdge, hash: string): GraphEdge {
  return e.evidence.blockHash === undefined ? { ...e, evidence: { ...e.evidence, blockHash: hash } } : e;
}
