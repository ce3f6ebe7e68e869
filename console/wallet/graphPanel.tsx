import type cytoscape from 'cytoscape';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ErrorBox, Notice } from '../components/common.tsx';
import type { Chain } from '../format.ts';
import { TrailGraph } from '../graph/model.ts';
import { GraphView } from '../graph/view.tsx';
import { href } from '../router.ts';
import type { NeighborFilter } from './filters.tsx';
import { kindOf, neighborPage } from './neighbors.ts';
import type { NeighborRow } from './queries.ts';

/** Relationships drawn for the wallet searched (the API's largest page), and per expanded wallet. */
export const ROOT_PAGE = 100;
export const EXPAND_PAGE = 25;

interface Counts {
  read: number;
  total: number;
}

const addRows = (graph: TrailGraph, rows: NeighborRow[], chain: Chain) => {
  for (const r of rows) graph.addNode(r.node.address, kindOf(r.node));
  graph.addRels(
    rows.map((r) => r.relationship),
    chain,
  );
};

/**
 * The wallet's neighbours as a graph: its first page under the filters, grouped per counterparty
 * and type; a click on a wallet reads and draws that wallet's neighbours. A wallet with more
 * relationships than one page (a supernode) is drawn capped, and the page says so.
 */
export function GraphPanel(props: {
  chain: Chain;
  address: string;
  filter: NeighborFilter;
  onGraph?: (g: TrailGraph, cy: cytoscape.Core) => void;
}) {
  const { chain, address, filter } = props;
  const graph = useMemo(() => new TrailGraph(), []);
  const [version, setVersion] = useState(0);
  const [counts, setCounts] = useState<Record<string, Counts>>({});
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<Error>();
  const [selected, setSelected] = useState<string>();

  // One read at a time; a wallet clicked meanwhile is read next (the last one clicked wins).
  const reading = useRef<string | undefined>(undefined);
  const next = useRef<string | undefined>(undefined);
  const expand = useCallback(
    async (at: string, first: number): Promise<void> => {
      setSelected(at);
      const node = graph.nodes.get(at);
      if (node?.expanded) return;
      if (reading.current) {
        if (reading.current !== at) next.current = at;
        return;
      }
      reading.current = at;
      setBusy(at);
      try {
        const page = await neighborPage(chain, at, filter, first);
        graph.addNode(at, node?.kind, at === address).expanded = true;
        if (page) addRows(graph, page.edges, chain);
        setCounts((c) => ({ ...c, [at]: { read: page?.edges.length ?? 0, total: page?.totalCount ?? 0 } }));
        setVersion((v) => v + 1);
      } catch (err) {
        setError(err as Error);
      } finally {
        reading.current = undefined;
        setBusy(undefined);
      }
      const queued = next.current;
      next.current = undefined;
      if (queued) await expand(queued, EXPAND_PAGE);
    },
    [graph, chain, filter, address],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: once per mount (the parent remounts per wallet and filter)
  useEffect(() => void expand(address, ROOT_PAGE), []);
  const onReady = useCallback((cy: cytoscape.Core) => props.onGraph?.(graph, cy), [graph, props.onGraph]);
  const root = counts[address];
  const sel = selected && counts[selected];
  return (
    <section class="card" aria-label="Neighbour graph">
      {root && root.total > root.read && (
        <output class="capped">
          Capped view: {root.read.toLocaleString('en')} of {root.total.toLocaleString('en')} relationships
          drawn (one page), grouped per counterparty and type. Narrow with the filters, click a wallet to
          expand it, or page through them all in the table.
        </output>
      )}
      {root && root.total === 0 && <Notice>No relationships match the filters.</Notice>}
      <ErrorBox error={error} />
      <GraphView
        graph={graph}
        version={version}
        onTap={(a) => void expand(a, EXPAND_PAGE)}
        onReady={onReady}
      />
      <p class="hint graph-status">
        {busy
          ? `reading ${busy}…`
          : `${graph.nodes.size} wallets, ${graph.edges.size} grouped relationships drawn`}
        {selected && (
          <>
            {' · selected '}
            <a class="mono" href={href('wallet', { chain, address: selected })}>
              {selected}
            </a>
            {sel ? ` (${sel.read} of ${sel.total} relationships drawn)` : ''}
          </>
        )}
      </p>
    </section>
  );
}
