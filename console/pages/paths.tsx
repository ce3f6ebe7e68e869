import { useEffect, useMemo, useState } from 'preact/hooks';
import { gql } from '../api.ts';
import { ErrorBox, Notice } from '../components/common.tsx';
import { amountAndWindow } from '../components/window.ts';
import { type Chain, type TokenAmount, chainOf, short, tokenAmounts } from '../format.ts';
import { TrailGraph } from '../graph/model.ts';
import { GraphView } from '../graph/view.tsx';
import { href, navigate } from '../router.ts';
import type { ConsolePage } from './page.ts';

const PATHS = `query Paths($chain: Chain!, $from: String!, $to: String!, $maxDepth: Int, $directed: Boolean,
  $minAmount: String, $window: Window) {
  paths(chain: $chain, from: $from, to: $to, maxDepth: $maxDepth, limit: 3, directed: $directed,
    minAmount: $minAmount, window: $window) {
    shortestLength truncated explored { wallets relationships }
    paths { length wallets hops { from to count amount amounts { token amount symbol decimals } relationships { type } } }
  }
}`;

interface PathSearch {
  shortestLength: number | null;
  truncated: boolean;
  explored: { wallets: number; relationships: number };
  paths: {
    length: number;
    wallets: string[];
    hops: {
      from: string;
      to: string;
      count: number;
      amount: string | null;
      amounts: TokenAmount[];
      relationships: { type: string }[];
    }[];
  }[];
}

/** At most this many targets per search: one paths question each. */
export const MAX_TARGETS = 10;

function PathForm({ params }: { params: URLSearchParams }) {
  return (
    <form
      class="card filters"
      aria-label="Path search"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const get = (k: string) => String(f.get(k) ?? '').trim();
        const to = get('to')
          .split(/[\s,]+/)
          .filter(Boolean)
          .join(',');
        navigate('paths', {
          from: get('from'),
          to,
          depth: get('depth'),
          min: get('min'),
          dfrom: get('dfrom'),
          dto: get('dto'),
          either: f.get('either') ? '1' : undefined,
        });
      }}
    >
      <label>
        from
        <input
          name="from"
          size={50}
          defaultValue={params.get('from') ?? ''}
          aria-label="from wallet"
          class="mono"
        />
      </label>
      <label>
        to (one or more, space or comma separated)
        <textarea
          name="to"
          rows={2}
          cols={50}
          defaultValue={(params.get('to') ?? '').split(',').join('\n')}
          aria-label="target wallets"
          class="mono"
        />
      </label>
      <label>
        max hops
        <input name="depth" type="number" min={1} max={6} defaultValue={params.get('depth') ?? '4'} />
      </label>
      <label>
        min amount (TAO/ETH)
        <input name="min" size={8} defaultValue={params.get('min') ?? ''} aria-label="min amount" />
      </label>
      <label>
        from
        <input name="dfrom" type="date" defaultValue={params.get('dfrom') ?? ''} />
      </label>
      <label>
        to
        <input name="dto" type="date" defaultValue={params.get('dto') ?? ''} />
      </label>
      <label>
        <input name="either" type="checkbox" defaultChecked={params.get('either') === '1'} /> either direction
      </label>
      <button type="submit">Find paths</button>
    </form>
  );
}

type Result = { to: string; search?: PathSearch; error?: Error };

function PathsView({ params }: { params: URLSearchParams }) {
  const from = params.get('from') ?? '';
  const targets = (params.get('to') ?? '').split(',').filter(Boolean);
  const chain: Chain = chainOf(from);
  const [results, setResults] = useState<Result[]>([]);
  const [error, setError] = useState<Error>();
  const key = params.toString();
  // biome-ignore lint/correctness/useExhaustiveDependencies: one search per route (key)
  useEffect(() => {
    setResults([]);
    setError(undefined);
    if (!from || targets.length === 0) return;
    let live = true;
    void (async () => {
      try {
        if (targets.length > MAX_TARGETS)
          throw new Error(`to: ${targets.length} targets; at most ${MAX_TARGETS} at once`);
        const shared = {
          chain,
          from,
          maxDepth: Number(params.get('depth') ?? 4),
          directed: params.get('either') !== '1',
          ...amountAndWindow(
            new URLSearchParams({
              min: params.get('min') ?? '',
              from: params.get('dfrom') ?? '',
              to: params.get('dto') ?? '',
            }),
            chain,
          ),
        };
        for (const to of targets) {
          const r: Result = await gql<{ paths: PathSearch }>(PATHS, { ...shared, to }).then(
            (d) => ({ to, search: d.paths }),
            (e: Error) => ({ to, error: e }),
          );
          if (!live) return;
          setResults((old) => [...old, r]);
        }
      } catch (e) {
        if (live) setError(e as Error);
      }
    })();
    return () => {
      live = false;
    };
  }, [key]);
  const graph = useMemo(() => {
    const g = new TrailGraph();
    for (const r of results)
      for (const p of r.search?.paths ?? [])
        for (const h of p.hops)
          g.addSummed(
            h.from,
            h.to,
            [...new Set(h.relationships.map((x) => x.type))].join('/'),
            h.count,
            h.amounts,
          );
    g.addNode(from, 'wallet', true);
    for (const t of targets) if (g.nodes.has(t)) g.addNode(t, 'wallet', true);
    return g;
  }, [results, from, targets]);
  return (
    <>
      <h1>Paths</h1>
      <PathForm key={key} params={params} />
      <ErrorBox error={error} />
      {results.map((r) => (
        <PathResult key={r.to} r={r} chain={chain} />
      ))}
      {results.some((r) => r.search?.paths.length) && <GraphView graph={graph} version={results.length} />}
    </>
  );
}

function PathResult({ r, chain }: { r: Result; chain: Chain }) {
  if (r.error) return <ErrorBox error={`${short(r.to)}: ${r.error.message}`} />;
  const s = r.search!;
  return (
    <section class="card path-result" data-target={r.to}>
      <h2>
        to{' '}
        <a class="mono" href={href('wallet', { chain, address: r.to })}>
          {r.to}
        </a>
      </h2>
      {s.paths.length === 0 ? (
        <Notice>
          No path within the hops and filters
          {s.truncated ? ' (the search was capped: a path may be missing)' : ''}.
        </Notice>
      ) : (
        <p class="hint">
          {s.paths.length} path(s), shortest {s.shortestLength} hop(s); explored {s.explored.wallets} wallets
          {s.truncated ? ' — capped: a path may be missing' : ''}
        </p>
      )}
      {s.paths.map((p, i) => (
        <ol class="path" key={p.wallets.join()} aria-label={`path ${i + 1}`}>
          {p.hops.map((h) => (
            <li key={h.from + h.to}>
              <span class="mono">{short(h.from)}</span> → <span class="mono">{short(h.to)}</span>: {h.count}×{' '}
              {[...new Set(h.relationships.map((x) => x.type))].join('/')}, {tokenAmounts(h.amounts)}
            </li>
          ))}
        </ol>
      ))}
    </section>
  );
}

export const pathsPage: ConsolePage = {
  id: 'paths',
  title: 'Paths',
  group: 'Investigate',
  component: PathsView,
};
