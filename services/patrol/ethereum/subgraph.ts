import type { GraphEdge } from '../../../graph/model.ts';
import type { Direction } from '../../../protocol/patrol.ts';

/** Whether a walk standing on `node` follows `e` in `direction` (in: e arrives at node; out: leaves it). */
const follows = (e: GraphEdge, node: string, direction: Direction) =>
  direction === 'both'
    ? e.from === node || e.to === node
    : direction === 'out'
      ? e.from === node
      : e.to === node;

/**
 * The part of `edges` reachable from `target` within `depth` hops, walking each edge only in
 * `direction` (in: from receiver back to sender — who funded it; out: sender to receiver — where it
 * went; both: either way, as on Bittensor). Nodes in the order reached, the target first; edges in
 * their input order.
 */
export function walkFrom(
  edges: GraphEdge[],
  target: string,
  depth: number,
  direction: Direction,
): { nodes: string[]; edges: GraphEdge[] } {
  const adjacency = new Map<string, number[]>();
  edges.forEach((e, i) => {
    for (const end of new Set([e.from, e.to])) {
      const list = adjacency.get(end);
      if (list) list.push(i);
      else adjacency.set(end, [i]);
    }
  });
  const seen = new Set<string>([target]);
  const kept = new Set<number>();
  let frontier = [target];
  for (let hop = 0; hop < depth && frontier.length > 0; hop++) {
    const next: string[] = [];
    for (const node of frontier)
      for (const i of adjacency.get(node) ?? []) {
        const e = edges[i]!;
        if (!follows(e, node, direction)) continue;
        kept.add(i);
        const other = e.from === node ? e.to : e.from;
        if (!seen.has(other)) {
          seen.add(other);
          next.push(other);
        }
      }
    frontier = next;
  }
  return { nodes: [...seen], edges: [...kept].sort((a, b) => a - b).map((i) => edges[i]!) };
}

/** The edges of `w` a walk in `direction` would follow: what a complete answer holds for a wallet inside the depth. */
export const edgesFollowed = (list: GraphEdge[], w: string, direction: Direction) =>
  list.filter((e) => follows(e, w, direction));
