import type cytoscape from 'cytoscape';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { gql } from '../api.ts';
import { ErrorBox, Notice } from '../components/common.tsx';
import { type Chain, chainOf } from '../format.ts';
import { href, navigate } from '../router.ts';
import { ExportBar } from '../wallet/exportBar.tsx';
import { FILTER_KEYS, Filters, filterOf } from '../wallet/filters.tsx';
import { GraphPanel } from '../wallet/graphPanel.tsx';
import {
  WALLET_ACTIVITY,
  WALLET_SUMMARY,
  type WalletActivity,
  type WalletSummary,
} from '../wallet/queries.ts';
import { type ActivityState, Summary } from '../wallet/summary.tsx';
import { NeighborTable } from '../wallet/table.tsx';
import { Tags } from '../wallet/tags.tsx';
import type { ConsolePage } from './page.ts';

/** Search by ss58 or 0x address; the chain follows from the address's form unless chosen. */
function Search({ address, chain }: { address: string; chain: string }) {
  const [text, setText] = useState(address);
  const [pick, setPick] = useState(chain || 'auto');
  useEffect(() => setText(address), [address]);
  return (
    <form
      class="search"
      aria-label="Search a wallet"
      onSubmit={(e) => {
        e.preventDefault();
        const a = text.trim();
        if (a) navigate('wallet', { address: a, chain: pick === 'auto' ? chainOf(a) : pick });
      }}
    >
      <input
        name="address"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        placeholder="wallet address: ss58 (5F…) or 0x…"
        aria-label="wallet address"
        spellcheck={false}
      />
      <select value={pick} onChange={(e) => setPick(e.currentTarget.value)} aria-label="chain">
        <option value="auto">chain from address</option>
        <option value="BITTENSOR">Bittensor</option>
        <option value="ETHEREUM">Ethereum</option>
      </select>
      <button type="submit">Search</button>
    </form>
  );
}

type Loaded =
  | { state: 'idle' }
  | { state: 'loading' }
  | { state: 'error'; error: Error }
  | { state: 'done'; wallet: WalletSummary | null };

function WalletView({ params }: { params: URLSearchParams }) {
  const address = params.get('address') ?? '';
  const chain = (params.get('chain') || (address ? chainOf(address) : '')) as Chain | '';
  const [loaded, setLoaded] = useState<Loaded>({ state: 'idle' });
  const [activity, setActivity] = useState<ActivityState>();
  useEffect(() => {
    if (!address || !chain) return setLoaded({ state: 'idle' });
    let live = true;
    setLoaded({ state: 'loading' });
    setActivity(undefined);
    gql<{ wallet: WalletSummary | null }>(WALLET_SUMMARY, { chain, address }).then(
      (d) => live && setLoaded({ state: 'done', wallet: d.wallet }),
      (error: Error) => live && setLoaded({ state: 'error', error }),
    );
    // Asked alongside, not before: the slow part of a supernode's summary must not hold its graph.
    gql<{ wallet: WalletActivity | null }>(WALLET_ACTIVITY, { chain, address }).then(
      (d) => live && d.wallet && setActivity(d.wallet),
      (error: Error) => live && setActivity(error),
    );
    return () => {
      live = false;
    };
  }, [address, chain]);
  return (
    <>
      <h1>Wallet</h1>
      <Search address={address} chain={params.get('chain') ?? ''} />
      {loaded.state === 'loading' && <Notice>Loading {address}…</Notice>}
      {loaded.state === 'error' && <ErrorBox error={loaded.error} />}
      {loaded.state === 'done' && !loaded.wallet && (
        <Notice>
          Vigil has never seen {address} on {chain}.
        </Notice>
      )}
      {loaded.state === 'done' && loaded.wallet && (
        <>
          <Summary w={loaded.wallet} activity={activity} />
          <Tags key={address} chain={chain as Chain} address={address} initial={loaded.wallet.tags} />
          <p>
            <a class="save-case" href={href('cases', { new: '1', chain, wallets: address })}>
              Save as case
            </a>
          </p>
          <Neighbours params={params} chain={chain as Chain} address={address} />
        </>
      )}
    </>
  );
}

/** Filters, then the neighbours as a graph or a table (`view` in the route). */
function Neighbours({ params, chain, address }: { params: URLSearchParams; chain: Chain; address: string }) {
  const key = FILTER_KEYS.map((k) => params.get(k) ?? '').join('|');
  // biome-ignore lint/correctness/useExhaustiveDependencies: the filter changes only with its params (key)
  const parsed = useMemo(() => {
    try {
      return { filter: filterOf(params, chain) };
    } catch (error) {
      return { error: error as Error };
    }
  }, [key, chain]);
  const view = params.get('view') === 'table' ? 'table' : 'graph';
  const go = (p: Record<string, string>) => navigate('wallet', { ...Object.fromEntries(params), ...p });
  const cy = useRef<cytoscape.Core | undefined>(undefined);
  const onGraph = useCallback((_: unknown, c: cytoscape.Core) => {
    cy.current = c;
  }, []);
  return (
    <>
      <Filters key={`${address}|${key}`} params={params} chain={chain} apply={go} />
      <div class="tabs" role="tablist">
        {(['graph', 'table'] as const).map((v) => (
          <button
            key={v}
            type="button"
            role="tab"
            aria-selected={view === v}
            class={view === v ? 'active' : ''}
            onClick={() => go({ view: v })}
          >
            {v}
          </button>
        ))}
      </div>
      {'error' in parsed && <ErrorBox error={parsed.error} />}
      {parsed.filter && (
        <ExportBar
          chain={chain}
          address={address}
          filter={parsed.filter}
          cy={() => (view === 'graph' ? cy.current : undefined)}
        />
      )}
      {parsed.filter && view === 'graph' && (
        <GraphPanel
          key={`${address}|${key}`}
          chain={chain}
          address={address}
          filter={parsed.filter}
          onGraph={onGraph}
        />
      )}
      {parsed.filter && view === 'table' && (
        <NeighborTable key={`${address}|${key}`} chain={chain} address={address} filter={parsed.filter} />
      )}
    </>
  );
}

export const walletPage: ConsolePage = {
  id: 'wallet',
  title: 'Wallet',
  group: 'Investigate',
  component: WalletView,
};
