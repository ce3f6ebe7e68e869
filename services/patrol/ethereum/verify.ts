import type { ActivityReader } from '../../../chains/ethereum/activity.ts';
import { type GraphEdge, relationshipId } from '../../../graph/model.ts';
import {
  type Answer,
  type EthereumChallenge,
  challengeDirection,
  challengeWindow,
} from '../../../protocol/patrol.ts';
import { type IndexedBlock, indexBlock } from './edges.ts';
import { typeNodes } from './miner.ts';
import { walkFrom } from './subgraph.ts';

/** Accepted: the node's own record of every edge (blockHash and timestamp filled in). */
export type EthereumVerdict =
  | { accepted: true; edges: GraphEdge[]; volume: number }
  | { accepted: false; reason: string };

const reject = (reason: string): EthereumVerdict => ({ accepted: false, reason });

/**
 * The content checks of an Ethereum answer that protocol/patrol.ts checkAnswer accepted (size,
 * shape, challenge, miner, signature) and the ingest checks passed: every edge in the window, the
 * subgraph exactly what the walk from the target in the challenge's direction reaches within its
 * depth, every edge what the node's receipts (Transfer logs) and traces (callTracer) show for the
 * block it names, and every node typed as typeNodes types it. One bad edge rejects the answer: a
 * miner must not profit from mixing real and invented edges.
 */
export async function verifyEthereumContent(
  answer: Answer,
  challenge: EthereumChallenge,
  reader: ActivityReader,
): Promise<EthereumVerdict> {
  const { nodes, edges } = answer.subgraph;
  if (nodes.length < 2) return reject(`fewer than 2 nodes (${nodes.length})`);
  const shape = shapeProblem(answer, challenge);
  if (shape) return reject(shape);
  const direction = challengeDirection(challenge);
  const walked = walkFrom(edges, challenge.target, challenge.depth, direction);
  if (walked.edges.length !== edges.length)
    return reject(
      `${edges.length - walked.edges.length} edges are not reached from the target within depth ${challenge.depth} walking ${direction}`,
    );
  if (walked.nodes.length !== nodes.length)
    return reject(`${nodes.length - walked.nodes.length} nodes are on no edge reached from the target`);

  const blocks = await namedBlocks(edges, reader);
  const proven: GraphEdge[] = [];
  for (const [i, e] of edges.entries()) {
    const ix = blocks.get(e.evidence.blockNumber)!;
    const problem = edgeProblem(e, ix);
    if (problem) return reject(`edge ${i} (${e.type} ${e.from} → ${e.to}): ${problem}`);
    proven.push(ix.byId.get(relationshipId('ethereum', e))!);
  }
  const window = challengeWindow(challenge);
  const typed = await typeNodes(
    nodes.map((n) => n.address),
    edges,
    reader,
    window.to,
  );
  for (const [i, n] of nodes.entries())
    if (n.type !== typed[i]!.type)
      return reject(
        `node ${n.address} is typed ${n.type}, the node makes it a ${typed[i]!.type} (code at block ${window.to}, or created in the answer)`,
      );
  return { accepted: true, edges: proven, volume: nodes.length + edges.length };
}

/** What can be refused without the node: duplicates, strays, the window, validator-only fields. */
function shapeProblem(answer: Answer, c: EthereumChallenge): string | null {
  const { nodes, edges } = answer.subgraph;
  const nodeSet = new Set<string>();
  for (const n of nodes) {
    if (nodeSet.has(n.address)) return `duplicate node ${n.address}`;
    nodeSet.add(n.address);
  }
  if (!nodeSet.has(c.target)) return `target ${c.target} is not among the nodes`;
  const window = challengeWindow(c);
  const ids = new Set<string>();
  for (const [i, e] of edges.entries()) {
    if (!nodeSet.has(e.from) || !nodeSet.has(e.to)) return `edge ${i} joins an address that is not a node`;
    const id = relationshipId('ethereum', e);
    if (ids.has(id)) return `duplicate edge ${id}`;
    ids.add(id);
    const ev = e.evidence;
    if (ev.tokenSymbol !== undefined || ev.tokenDecimals !== undefined)
      return `edge ${i}: tokenSymbol and tokenDecimals are read by the validator from the token contract, never taken from a miner`;
    if (ev.blockNumber < window.from || ev.blockNumber > window.to)
      return `edge ${i} has evidence at block ${ev.blockNumber}, outside the challenge window [${window.from}, ${window.to}]`;
  }
  if (edges.length === 0) return `target ${c.target} is on no edge`;
  return null;
}

/** Every block the answer names, read once: as one range when they are dense, else block by block. */
async function namedBlocks(edges: GraphEdge[], reader: ActivityReader): Promise<Map<number, IndexedBlock>> {
  const named = new Set(edges.map((e) => e.evidence.blockNumber));
  const numbers = [...named].sort((a, b) => a - b);
  const first = numbers[0]!;
  const last = numbers.at(-1)!;
  const read =
    last - first + 1 <= 2 * numbers.length
      ? (await reader.range(first, last)).filter((b) => named.has(b.number))
      : await Promise.all(numbers.map((n) => reader.block(n)));
  return new Map(read.map((b) => [b.number, indexBlock(b)]));
}

/** Why `e` is not what block `ix` proves, or null when it is exactly that. */
function edgeProblem(e: GraphEdge, ix: IndexedBlock): string | null {
  const ev = e.evidence;
  const n = ev.blockNumber;
  if (ev.blockHash !== undefined && ev.blockHash !== ix.hash)
    return `names block hash ${ev.blockHash}, the node has ${ix.hash} at ${n}`;
  const proven = ix.byId.get(relationshipId('ethereum', e));
  if (!proven) return missingProblem(e, ix);
  const pv = proven.evidence;
  const what = ev.logIndex !== undefined ? `log #${ev.logIndex} of tx ${ev.txHash}` : `tx ${ev.txHash}`;
  if (e.type === 'DEPLOYED') {
    if (proven.from !== e.from)
      return `deployer mismatch: the node says ${proven.from} created ${proven.to} in tx ${ev.txHash}`;
  } else {
    if (ev.token !== pv.token)
      return `wrong token: ${what} is a transfer of ${pv.token ?? 'native ETH'}, not ${ev.token ?? 'native ETH'}`;
    if (proven.from !== e.from || proven.to !== e.to)
      return `${what} moved value from ${proven.from} to ${proven.to}`;
    if (ev.amount !== pv.amount) return `wrong amount: ${what} moved ${pv.amount}, not ${ev.amount}`;
  }
  if (ev.txHash !== pv.txHash) return `tx hash must be spelled lower-case as the node gives it: ${pv.txHash}`;
  if (ev.timestamp !== undefined && ev.timestamp !== pv.timestamp)
    return `timestamp ${ev.timestamp}, block ${n} has ${pv.timestamp}`;
  return null;
}

/** Why the node has no such edge: the same fact under another log index or call path, or none at all. */
function missingProblem(e: GraphEdge, ix: IndexedBlock): string {
  const ev = e.evidence;
  const n = ev.blockNumber;
  const tx = ev.txHash?.toLowerCase();
  const sameTx = ix.edges.filter(
    (p) => p.type === e.type && p.evidence.txHash === tx && p.from === e.from && p.to === e.to,
  );
  if (e.type === 'DEPLOYED') return `invented: tx ${ev.txHash} created no contract ${e.to} in block ${n}`;
  if (ev.logIndex !== undefined) {
    const other = sameTx.find((p) => p.evidence.logIndex !== undefined);
    if (other)
      return `wrong log index: tx ${ev.txHash}'s Transfer from ${e.from} to ${e.to} is log #${other.evidence.logIndex}, not #${ev.logIndex}`;
    return `invented: block ${n} has no ERC-20 Transfer log #${ev.logIndex} in tx ${ev.txHash}`;
  }
  const other = sameTx.find((p) => p.evidence.callPath !== undefined);
  if (other)
    return `wrong callPath: tx ${ev.txHash} moved ETH from ${e.from} to ${e.to} at call path "${other.evidence.callPath}", not "${ev.callPath}"`;
  return `invented: tx ${ev.txHash} moved no ETH at call path "${ev.callPath}" in block ${n}`;
}
