import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api.ts';
import { ErrorBox, Notice } from '../components/common.tsx';
import { amountAndWindow } from '../components/window.ts';
import { type Chain, type TokenAmount, chainOf, tokenAmounts } from '../format.ts';
import { href, navigate } from '../router.ts';
import type { ConsolePage } from './page.ts';

const FLOW = `query Flow($chain: Chain!, $from: String!, $direction: FlowDirection, $depth: Int, $minAmount: String, $window: Window) {
  flow(chain: $chain, from: $from, direction: $direction, depth: $depth, minAmount: $minAmount, window: $window, walletsPerHop: 10) {
    source direction truncated
    hops { hop count walletCount amount amounts { ...Amt } wallets { address amount amounts { ...Amt } count firstBlock lastBlock } }
  }
}
fragment Amt on TokenAmount { token amount symbol decimals }`;

interface Flow {
  source: string;
  direction: 'OUT' | 'IN';
  truncated: boolean;
  hops: {
    hop: number;
    count: number;
    walletCount: number;
    amount: string | null;
    amounts: TokenAmount[];
    wallets: {
      address: string;
      amount: string | null;
      amounts: TokenAmount[];
      count: number;
      firstBlock: number;
      lastBlock: number;
    }[];
  }[];
}

function FlowForm({ params }: { params: URLSearchParams }) {
  return (
    <form
      class="card filters"
      aria-label="Flow"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const get = (k: string) => String(f.get(k) ?? '').trim();
        navigate('flow', {
          address: get('address'),
          dir: get('dir'),
          depth: get('depth'),
          min: get('min'),
          from: get('from'),
          to: get('to'),
        });
      }}
    >
      <label>
        wallet
        <input
          name="address"
          size={50}
          class="mono"
          aria-label="flow wallet"
          defaultValue={params.get('address') ?? ''}
        />
      </label>
      <label>
        direction
        <select name="dir" defaultValue={params.get('dir') ?? 'OUT'}>
          <option value="OUT">where value went (out)</option>
          <option value="IN">where it came from (in)</option>
        </select>
      </label>
      <label>
        hops
        <input name="depth" type="number" min={1} max={6} defaultValue={params.get('depth') ?? '3'} />
      </label>
      <label>
        min amount (TAO/ETH)
        <input name="min" size={8} defaultValue={params.get('min') ?? ''} />
      </label>
      <label>
        from
        <input name="from" type="date" defaultValue={params.get('from') ?? ''} />
      </label>
      <label>
        to
        <input name="to" type="date" defaultValue={params.get('to') ?? ''} />
      </label>
      <button type="submit">Trace</button>
    </form>
  );
}

/** Time-respecting money flow, one column per hop, wallets with the amounts that reached them. */
function FlowView({ params }: { params: URLSearchParams }) {
  const address = params.get('address') ?? '';
  const chain: Chain = chainOf(address);
  const [flow, setFlow] = useState<Flow>();
  const [error, setError] = useState<Error>();
  const key = params.toString();
  // biome-ignore lint/correctness/useExhaustiveDependencies: one trace per route (key)
  useEffect(() => {
    setFlow(undefined);
    setError(undefined);
    if (!address) return;
    let live = true;
    try {
      const vars = {
        chain,
        from: address,
        direction: params.get('dir') === 'IN' ? 'IN' : 'OUT',
        depth: Number(params.get('depth') ?? 3),
        ...amountAndWindow(params, chain),
      };
      gql<{ flow: Flow }>(FLOW, vars).then(
        (d) => live && setFlow(d.flow),
        (e: Error) => live && setError(e),
      );
    } catch (e) {
      setError(e as Error);
    }
    return () => {
      live = false;
    };
  }, [key]);
  return (
    <>
      <h1>Money flow</h1>
      <FlowForm key={key} params={params} />
      <ErrorBox error={error} />
      {flow && flow.hops.length === 0 && (
        <Notice>
          No value moved {flow.direction === 'OUT' ? 'out of' : 'into'} this wallet under the filters.
        </Notice>
      )}
      {flow?.truncated && (
        <output class="capped">
          Capped: each hop lists its 10 largest wallets, and the search followed at most 100 relationships per
          wallet.
        </output>
      )}
      {flow && flow.hops.length > 0 && (
        <div class="flow" aria-label="Flow hops">
          <section class="hop card">
            <h3>source</h3>
            <a class="mono" href={href('wallet', { chain, address: flow.source })}>
              {flow.source}
            </a>
          </section>
          {flow.hops.map((h) => (
            <section class="hop card" key={h.hop} data-hop={h.hop}>
              <h3>
                hop {h.hop}: {tokenAmounts(h.amounts)}
              </h3>
              <p class="hint">
                {h.count} relationships, {h.walletCount} wallets
              </p>
              <ul class="plain">
                {h.wallets.map((w) => (
                  <li key={w.address}>
                    <a class="mono" href={href('wallet', { chain, address: w.address })}>
                      {w.address}
                    </a>
                    <div class="hint">
                      {tokenAmounts(w.amounts)} · {w.count}× · blocks {w.firstBlock}–{w.lastBlock}
                    </div>
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </div>
      )}
    </>
  );
}

export const flowPage: ConsolePage = {
  id: 'flow',
  title: 'Money flow',
  group: 'Investigate',
  component: FlowView,
};
