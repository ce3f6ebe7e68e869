import type { Graph } from '../driver.ts';
import type { Chain } from '../model.ts';
import { type EdgeRecord, type FrontierItem, expandFrontier, withDeadline } from './expand.ts';
import type { EdgeFilter } from './filters.ts';
import { type TokenAmount, TokenSums } from './tokens.ts';

export interface TraceFlowParameters {
  chain: Chain;
  source: string;
  /** OUT: where value went after the source; IN: where the source's value came from. */
  direction: 'OUT' | 'IN';
  /** Hops (1..6). */
  depth: number;
  /** Types followed. @defaultValue ['TRANSFER'] */
  filter?: EdgeFilter;
  /** Relationships followed per wallet per hop, largest amounts first. @defaultValue 100 */
  fanOut?: number;
  /** Wallets carried into the next hop (largest inflow first). @defaultValue 1000 */
  maxFrontier?: number;
  /** Wallets listed per hop. @defaultValue 25 */
  walletsPerHop?: number;
  /** Bounds the whole flow (every query of it). */
  timeoutMs?: number;
}

export interface FlowWallet {
  address: string;
  /** Exact sum of the amounts reaching (OUT) or leaving (IN) this wallet at this hop; null across tokens. */
  amount: string | null;
  /** The same, per token (native first). */
  amounts: TokenAmount[];
  count: number;
  firstBlock: number;
  lastBlock: number;
}

export interface FlowHop {
  hop: number;
  /** Relationships followed at this hop, wallets they reached, and the exact sum of their amounts. */
  count: number;
  walletCount: number;
  /** Null when the hop moves more than one token (see `amounts`). */
  amount: string | null;
  amounts: TokenAmount[];
  /** The wallets with the largest amounts, up to `walletsPerHop`. */
  wallets: FlowWallet[];
}

export interface TraceFlowReturnType {
  source: string;
  direction: 'OUT' | 'IN';
  hops: FlowHop[];
  /** Every relationship followed, for export. */
  edges: (EdgeRecord & { hop: number })[];
  /** True when a fan-out or frontier cap left relationships unexplored. */
  truncated: boolean;
}

/**
 * Largest amount first when the hop moves one token; across tokens units do not compare, so the
 * most relationships first. Ties by address.
 */
function rankWallets<W extends { sums: TokenSums; count: number }>(
  reached: Map<string, W>,
  oneToken: boolean,
): [string, W][] {
  const key = (w: W) => (oneToken ? w.sums.total() : BigInt(w.count));
  return [...reached.entries()].sort((x, y) => {
    const [a, b] = [key(x[1]), key(y[1])];
    return b > a ? 1 : b < a ? -1 : x[0] < y[0] ? -1 : 1;
  });
}

/**
 * Time-respecting money flow: each hop happens no earlier (OUT) or no later (IN) than the hop that
 * reached its wallet. A wallet is expanded once, at the first hop that reaches it, from the most
 * permissive block of that hop (the earliest arrival going forward, the latest departure going back).
 * Amounts are aggregated per hop and per wallet exactly (BigInt over decimal strings), per token. Each wallet
 * contributes its `fanOut` largest matching relationships (a dense wallet: its first, see expand.ts).
 */
export function traceFlow(graph: Graph, p: TraceFlowParameters): Promise<TraceFlowReturnType> {
  return withDeadline(graph, p.timeoutMs, (g) => trace(g, p));
}

async function trace(graph: Graph, p: TraceFlowParameters): Promise<TraceFlowReturnType> {
  const filter: EdgeFilter = { ...p.filter, types: p.filter?.types?.length ? p.filter.types : ['TRANSFER'] };
  const fanOut = p.fanOut ?? 100;
  const maxFrontier = p.maxFrontier ?? 1000;
  const walletsPerHop = p.walletsPerHop ?? 25;
  const forward = p.direction === 'OUT';
  // The source's degree is counted by the first hop's query (an unknown wallet: no hops).
  let frontier: FrontierItem[] = [{ address: p.source }];
  const visited = new Set([p.source]);
  const hops: FlowHop[] = [];
  const edges: TraceFlowReturnType['edges'] = [];
  let truncated = false;

  for (let hop = 1; hop <= p.depth && frontier.length > 0; hop++) {
    const exp = await expandFrontier(graph, p.chain, frontier, {
      side: p.direction,
      filter,
      fanOut,
      // The wallets reached on the last hop are not expanded: their degrees are not needed.
      degrees: hop < p.depth,
    });
    if (exp.capped.size > 0) truncated = true;
    if (exp.edges.length === 0) break;
    const reached = new Map<
      string,
      { sums: TokenSums; count: number; firstBlock: number; lastBlock: number }
    >();
    const degrees = new Map<string, number | null>();
    const total = new TokenSums(p.chain);
    for (const { other, otherDegree, edge } of exp.edges) {
      degrees.set(other, otherDegree);
      edges.push({ ...edge, hop });
      total.add(edge);
      let w = reached.get(other);
      if (!w) {
        w = {
          sums: new TokenSums(p.chain),
          count: 0,
          firstBlock: edge.blockNumber,
          lastBlock: edge.blockNumber,
        };
        reached.set(other, w);
      }
      w.count++;
      w.firstBlock = Math.min(w.firstBlock, edge.blockNumber);
      w.lastBlock = Math.max(w.lastBlock, edge.blockNumber);
      w.sums.add(edge);
    }
    const ranked = rankWallets(reached, total.single() !== null);
    hops.push({
      hop,
      count: exp.edges.length,
      walletCount: reached.size,
      amount: total.single(),
      amounts: total.list(),
      wallets: ranked.slice(0, walletsPerHop).map(([address, { sums, ...w }]) => ({
        address,
        ...w,
        amount: sums.single(),
        amounts: sums.list(),
      })),
    });
    const nextFrontier: FrontierItem[] = [];
    for (const [address, w] of ranked) {
      if (visited.has(address)) continue;
      visited.add(address);
      if (nextFrontier.length >= maxFrontier) {
        truncated = true;
        continue;
      }
      const degree = degrees.get(address) ?? undefined;
      nextFrontier.push(
        forward ? { address, since: w.firstBlock, degree } : { address, until: w.lastBlock, degree },
      );
    }
    frontier = nextFrontier;
  }
  return { source: p.source, direction: p.direction, hops, edges, truncated };
}
