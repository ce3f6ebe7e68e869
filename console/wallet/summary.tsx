import { ErrorBox, Facts } from '../components/common.tsx';
import { relationshipAmount, tokenAmount, when } from '../format.ts';
import { href } from '../router.ts';
import type { StakeLink, WalletActivity, WalletSummary } from './queries.ts';

const WalletLink = ({ address, chain }: { address: string; chain: string }) => (
  <a class="mono" href={href('wallet', { chain, address })}>
    {address}
  </a>
);

function Links({ links, chain }: { links: StakeLink[]; chain: string }) {
  if (links.length === 0) return <>none</>;
  return (
    <ul class="plain">
      {links.map((l) => (
        <li key={`${l.wallet.address}-${l.netuid}`}>
          <WalletLink address={l.wallet.address} chain={chain} />
          {l.netuid != null ? ` (subnet ${l.netuid})` : ''}
        </li>
      ))}
    </ul>
  );
}

function WalletAlerts({ w }: { w: WalletSummary }) {
  const alerts = w.alerts.edges.map((e) => e.node);
  if (alerts.length === 0) return <>none</>;
  return (
    <ul class="plain wallet-alerts">
      {alerts.map((a) => (
        <li key={a.id}>
          <span class="badge">{a.severity}</span> {a.invariantId} on <span class="mono">{a.contract}</span>,
          tx <span class="mono">{a.txHash.slice(0, 18)}…</span> at {when(a.raisedAt)}
        </li>
      ))}
    </ul>
  );
}

/** The activity as it stands: read, still being read, or failed (the rest of the page stays). */
export type ActivityState = WalletActivity | Error | undefined;

const seen = (a: ActivityState, at: 'firstSeenAt' | 'lastSeenAt', block: number | null) =>
  `${a === undefined ? 'reading…' : a instanceof Error ? 'unavailable' : when(a[at])} (block ${block ?? '—'})`;

function Totals({ a, chain }: { a: ActivityState; chain: WalletSummary['chain'] }) {
  if (a === undefined) return <p class="hint totals-status">Reading the totals…</p>;
  if (a instanceof Error) return <ErrorBox error={a} />;
  return (
    <table class="grid totals">
      <thead>
        <tr>
          <th>type</th>
          <th>direction</th>
          <th>subnet</th>
          <th class="num">count</th>
          <th class="num">amount</th>
        </tr>
      </thead>
      <tbody>
        {a.totals.map((t) => (
          <tr key={`${t.type}-${t.direction}-${t.netuid}-${t.asset}`}>
            <td>{t.type}</td>
            <td>{t.direction}</td>
            <td>{t.netuid ?? ''}</td>
            <td class="num">{t.count.toLocaleString('en')}</td>
            <td class="num">
              {/* An ERC-20 row is in its own units, named by its contract; never shown as ETH. */}
              {tokenAmount(
                relationshipAmount(
                  { amount: t.amount, token: t.asset.startsWith('0x') ? t.asset : null },
                  chain,
                ),
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Who the wallet is and what it did: degree, totals, first/last seen, owner, hotkeys, parents,
 * children. The activity (totals, first/last seen time) arrives after the rest: see queries.ts.
 */
export function Summary({ w, activity }: { w: WalletSummary; activity: ActivityState }) {
  const kind = w.isContract
    ? 'contract'
    : w.isHotkey
      ? 'hotkey'
      : w.chain === 'BITTENSOR'
        ? 'coldkey / account'
        : 'account';
  return (
    <section class="card summary" aria-label="Summary">
      <h2 class="mono">{w.address}</h2>
      <p class="toolbar">
        <a href={href('paths', { from: w.address })}>paths from here</a>
        <a href={href('flow', { address: w.address, dir: 'OUT' })}>money out</a>
        <a href={href('flow', { address: w.address, dir: 'IN' })}>money in</a>
      </p>
      <Facts
        rows={{
          chain: w.chain,
          kind,
          relationships: w.degreeTotal.toLocaleString('en'),
          'first seen': seen(activity, 'firstSeenAt', w.firstSeenBlock),
          'last seen': seen(activity, 'lastSeenAt', w.lastSeenBlock),
          owner: w.owner ? <WalletLink address={w.owner.address} chain={w.chain} /> : '—',
          hotkeys: <Links links={w.hotkeys} chain={w.chain} />,
          parents: <Links links={w.parents} chain={w.chain} />,
          children: <Links links={w.children} chain={w.chain} />,
          alerts: <WalletAlerts w={w} />,
        }}
      />
      <Totals a={activity} chain={w.chain} />
    </section>
  );
}
