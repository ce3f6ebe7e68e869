import { type Chain, type TokenAmount, relationshipAmount } from '../format.ts';

/**
 * What the graph on a page holds: wallets and relationships grouped per (from, to, type), with
 * exact counts and amount sums per token (BigInt: amounts are base units, beyond a double's
 * precision; ETH and an ERC-20, or two ERC-20s, are never added).
 */
export interface Rel {
  id: string;
  type: string;
  from: string;
  to: string;
  amount?: string | null;
  token?: string | null;
  tokenSymbol?: string | null;
  tokenDecimals?: number | null;
}

export interface TrailNode {
  id: string;
  kind: 'wallet' | 'hotkey' | 'contract';
  /** Its neighbours were read and drawn. */
  expanded: boolean;
  /** Where the view started (a wallet, a path's ends). */
  root: boolean;
}

export interface TrailEdge {
  id: string;
  from: string;
  to: string;
  type: string;
  count: number;
  /** Sums per token (the API's TokenAmount.token: "ETH"/"TAO" or the ERC-20 contract). */
  amounts: Map<string, TokenAmount>;
  ids: Set<string>;
}

/** Adds `t` to the edge's sum of its token. */
function addAmount(e: TrailEdge, t: TokenAmount): void {
  const had = e.amounts.get(t.token);
  e.amounts.set(t.token, had ? { ...had, amount: (BigInt(had.amount) + BigInt(t.amount)).toString() } : t);
}

/** An edge's sums, native asset first (as the API orders TokenAmounts), then by token contract. */
export const edgeAmounts = (e: TrailEdge): TokenAmount[] =>
  [...e.amounts.values()].sort(
    (a, b) =>
      Number(a.token.startsWith('0x')) - Number(b.token.startsWith('0x')) || (a.token < b.token ? -1 : 1),
  );

export class TrailGraph {
  readonly nodes = new Map<string, TrailNode>();
  readonly edges = new Map<string, TrailEdge>();

  addNode(id: string, kind: TrailNode['kind'] = 'wallet', root = false): TrailNode {
    const n = this.nodes.get(id) ?? { id, kind, expanded: false, root };
    n.root ||= root;
    if (kind !== 'wallet') n.kind = kind;
    this.nodes.set(id, n);
    return n;
  }

  /** Adds relationships once each (by id), grouped per (from, to, type); native amounts are `chain`'s. */
  addRels(rels: Rel[], chain: Chain): void {
    for (const r of rels) {
      this.addNode(r.from);
      this.addNode(r.to);
      const key = `${r.from}|${r.to}|${r.type}`;
      const e = this.edges.get(key) ?? {
        id: `e${this.edges.size}`,
        from: r.from,
        to: r.to,
        type: r.type,
        count: 0,
        amounts: new Map(),
        ids: new Set<string>(),
      };
      if (e.ids.has(r.id)) continue;
      e.ids.add(r.id);
      e.count++;
      const t = relationshipAmount(r, chain);
      if (t) addAmount(e, t);
      this.edges.set(key, e);
    }
  }

  /** One already-summed connection (a path's hop): `count` relationships of `type`, `amounts` per token. */
  addSummed(from: string, to: string, type: string, count: number, amounts: readonly TokenAmount[]): void {
    this.addNode(from);
    this.addNode(to);
    const key = `${from}|${to}|${type}`;
    if (this.edges.has(key)) return;
    const id = `e${this.edges.size}`;
    this.edges.set(key, {
      id,
      from,
      to,
      type,
      count,
      amounts: new Map(amounts.map((t) => [t.token, t])),
      ids: new Set([id]),
    });
  }

  clear(): void {
    this.nodes.clear();
    this.edges.clear();
  }
}
