/**
 * What the graph on a page holds: wallets and relationships grouped per (from, to, type), with
 * exact counts and amount sums (BigInt: amounts are base units, beyond a double's precision).
 */
export interface Rel {
  id: string;
  type: string;
  from: string;
  to: string;
  amount?: string | null;
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
  amount: bigint | null;
  ids: Set<string>;
}

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

  /** Adds relationships once each (by id), grouped per (from, to, type). */
  addRels(rels: Rel[]): void {
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
        amount: null,
        ids: new Set<string>(),
      };
      if (e.ids.has(r.id)) continue;
      e.ids.add(r.id);
      e.count++;
      if (r.amount) e.amount = (e.amount ?? 0n) + BigInt(r.amount);
      this.edges.set(key, e);
    }
  }

  /** One already-summed connection (a path's hop): `count` relationships of `type`, `amount` in all. */
  addSummed(from: string, to: string, type: string, count: number, amount: string | null): void {
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
      amount: amount ? BigInt(amount) : null,
      ids: new Set([id]),
    });
  }

  clear(): void {
    this.nodes.clear();
    this.edges.clear();
  }

  /** Rows for CSV/JSON export of what is drawn: one per grouped relationship. */
  rows(): { from: string; to: string; type: string; count: number; amount: string }[] {
    return [...this.edges.values()].map((e) => ({
      from: e.from,
      to: e.to,
      type: e.type,
      count: e.count,
      amount: e.amount?.toString() ?? '',
    }));
  }
}
