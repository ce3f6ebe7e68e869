import type { GraphEdge } from '../../graph/model.ts';
import { relationshipId } from '../../graph/model.ts';
import { type Challenge, challengeWindow } from '../../protocol/patrol.ts';
import type { ChainView } from './chainView.ts';
import { hotkeysOf } from './edges.ts';

/**
 * How complete a verified answer is, measured against the chain the validator already reads.
 *
 * A wallet of the answer that lies fewer than `depth` hops from the target (over event edges) must
 * come with every edge the window's events give it: each of those edges stays within the depth,
 * and the honest miner (miner.ts buildSubgraph, the same edges.ts) includes them all. A hotkey
 * among them must also come with its owner at the window's last block, as the miner adds it.
 * The validator checks the target and `sample` such wallets drawn at random (the miner cannot
 * tell which), reading every block of the window once through its per-block cache.
 * Leaving out edges (the ones the graph already holds, or all but one) lowers the share found.
 */
export interface Completeness {
  /** present / expected over the sampled wallets, in [0, 1] (1 when nothing is expected). */
  ratio: number;
  expected: number;
  present: number;
  /** Wallets checked, the target first. */
  wallets: string[];
  /** Up to three ids of expected edges the answer lacks (for the reason a miner reads). */
  missing: string[];
}

export interface CompletenessOptions {
  /** Wallets drawn besides the target (16: enough to see a share of edges missing, cheap to check). */
  sample: number;
  random: () => number;
}

export const DEFAULT_COMPLETENESS_SAMPLE = 16;

export async function measureCompleteness(
  edges: GraphEdge[],
  challenge: Challenge,
  chain: ChainView,
  { sample, random }: CompletenessOptions,
): Promise<Completeness> {
  const { target, depth } = challenge;
  const inner = walletsCloserThan(edges, target, depth).filter((w) => w !== target);
  const wallets = [target, ...drawWithout(inner, sample, random)];
  const window = challengeWindow(challenge);
  const blocks = await Promise.all(
    Array.from({ length: window.to - window.from + 1 }, (_, i) => chain.edgesByAddress(window.from + i)),
  );
  const expected = new Map<string, GraphEdge>();
  const hotkeys = new Set<string>(
    edges
      .flatMap((e) => (e.type === 'OWNS_HOTKEY' ? [e.to] : hotkeysOf(e)))
      .filter((h) => wallets.includes(h)),
  );
  for (const w of wallets)
    for (const index of blocks)
      for (const e of index.get(w) ?? []) {
        expected.set(relationshipId('bittensor', e), e);
        if (hotkeysOf(e).includes(w)) hotkeys.add(w);
      }
  const owners = await Promise.all([...hotkeys].map((h) => chain.ownerAt(h, window.to)));
  [...hotkeys].forEach((hotkey, i) => {
    const owner = owners[i];
    if (!owner) return;
    const own: GraphEdge = {
      type: 'OWNS_HOTKEY',
      from: owner,
      to: hotkey,
      evidence: { blockNumber: window.to },
    };
    expected.set(relationshipId('bittensor', own), own);
  });
  const have = new Set(edges.map((e) => relationshipId('bittensor', e)));
  const missing = [...expected.keys()].filter((id) => !have.has(id));
  const present = expected.size - missing.length;
  return {
    ratio: expected.size === 0 ? 1 : present / expected.size,
    expected: expected.size,
    present,
    wallets,
    missing: missing.slice(0, 3),
  };
}

/** Addresses fewer than `hops` hops from `target` over the answer's event edges (target included). */
function walletsCloserThan(edges: GraphEdge[], target: string, hops: number): string[] {
  const adjacency = new Map<string, string[]>();
  for (const e of edges) {
    if (e.type === 'OWNS_HOTKEY') continue;
    for (const [a, b] of [
      [e.from, e.to],
      [e.to, e.from],
    ] as const) {
      const list = adjacency.get(a);
      if (list) list.push(b);
      else adjacency.set(a, [b]);
    }
  }
  const seen = new Set([target]);
  let frontier = [target];
  for (let hop = 1; hop < hops && frontier.length > 0; hop++) {
    const next: string[] = [];
    for (const node of frontier)
      for (const other of adjacency.get(node) ?? [])
        if (!seen.has(other)) {
          seen.add(other);
          next.push(other);
        }
    frontier = next;
  }
  return [...seen];
}

/** Up to `n` distinct items drawn uniformly (a partial Fisher-Yates shuffle of a copy). */
export function drawWithout<T>(items: T[], n: number, random: () => number): T[] {
  const pool = [...items];
  const k = Math.min(n, pool.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, k);
}
