import type { GraphEdge } from '../../graph/model.ts';
import type { Subgraph } from '../../protocol/patrol.ts';
import { hotkeysOf } from './edges.ts';

export type { Subgraph };

/**
 * The subgraph around `target`: every edge reachable from it within `depth` hops, following
 * edges in either direction (as Patrol's BFS over an undirected adjacency). Depth counts hops.
 */
export function subgraphAround(edges: GraphEdge[], target: string, depth: number): Subgraph {
  const adjacency = new Map<string, number[]>();
  edges.forEach((e, i) => {
    for (const end of [e.from, e.to]) {
      const list = adjacency.get(end);
      if (list) list.push(i);
      else adjacency.set(end, [i]);
    }
  });
  const seenNodes = new Set<string>([target]);
  const keptEdges = new Set<number>();
  let frontier = [target];
  for (let hop = 0; hop < depth && frontier.length > 0; hop++) {
    const next: string[] = [];
    for (const node of frontier) {
      for (const i of adjacency.get(node) ?? []) {
        keptEdges.add(i);
        const e = edges[i]!;
        const other = e.from === node ? e.to : e.from;
        if (!seenNodes.has(other)) {
          seenNodes.add(other);
          next.push(other);
        }
      }
    }
    frontier = next;
  }
  const kept = [...keptEdges].sort((a, b) => a - b).map((i) => edges[i]!);
  const hotkeys = new Set(kept.flatMap(hotkeysOf));
  return {
    nodes: [...seenNodes].map((address) => ({ address, type: hotkeys.has(address) ? 'hotkey' : 'wallet' })),
    edges: kept,
  };
}
