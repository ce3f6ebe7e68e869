import { useEffect, useState } from 'preact/hooks';
import { gql, subscribe } from '../api.ts';
import { ErrorBox, Notice } from '../components/common.tsx';
import { short, when } from '../format.ts';
import { href } from '../router.ts';
import type { ConsolePage } from './page.ts';

const ALERT_FIELDS = `id chain chainId severity txHash contract sender invariantId invariantKind description
  before after votesViolated votesTotal miners validator raisedAt`;

export interface AlertRow {
  id: string;
  chain: string;
  chainId: number;
  severity: string;
  txHash: string;
  contract: string;
  sender: string;
  invariantId: string;
  invariantKind: string;
  description: string;
  before: string | null;
  after: string | null;
  votesViolated: number;
  votesTotal: number;
  miners: string[];
  validator: string;
  raisedAt: string;
}

const RECENT = `query RecentAlerts { alerts(first: 50) { edges { node { ${ALERT_FIELDS} } } } }`;
const LIVE = `subscription LiveAlerts { alertRaised { ${ALERT_FIELDS} } }`;

/** Alerts as they are raised (alertRaised over SSE), above the 50 most recent stored ones. */
function useAlerts() {
  const [alerts, setAlerts] = useState<AlertRow[]>([]);
  const [live, setLive] = useState<'connecting' | 'live' | string>('connecting');
  const [error, setError] = useState<Error>();
  useEffect(() => {
    const add = (rows: AlertRow[], front: boolean) =>
      setAlerts((old) => {
        const seen = new Set(old.map((a) => a.id));
        const fresh = rows.filter((a) => !seen.has(a.id));
        return front ? [...fresh, ...old] : [...old, ...fresh];
      });
    const stop = subscribe<{ alertRaised: AlertRow }>(
      LIVE,
      {},
      (d) => add([d.alertRaised], true),
      (err) => setLive(`live feed: ${err.message}`),
    );
    setLive('live');
    gql<{ alerts: { edges: { node: AlertRow }[] } }>(RECENT).then(
      (d) =>
        add(
          d.alerts.edges.map((e) => e.node),
          false,
        ),
      setError,
    );
    return stop;
  }, []);
  return { alerts, live, error };
}

function AlertCard({ a }: { a: AlertRow }) {
  return (
    <article class={`card alert sev-${a.severity.toLowerCase()}`} data-alert={a.id}>
      <header>
        <span class="badge">{a.severity}</span> <strong>{a.invariantId}</strong> ({a.invariantKind}) on{' '}
        <span class="mono">{a.contract}</span> · chain {a.chainId} · {when(a.raisedAt)}
      </header>
      <p>{a.description}</p>
      <p>
        votes {a.votesViolated}/{a.votesTotal} violated · tx <span class="mono">{short(a.txHash, 10)}</span> ·
        sender{' '}
        <a class="mono" href={href('wallet', { chain: a.chain, address: a.sender })}>
          {a.sender}
        </a>
      </p>
    </article>
  );
}

function AlertsView() {
  const { alerts, live, error } = useAlerts();
  return (
    <>
      <h1>Alerts</h1>
      <p class="live-state">{live === 'live' ? '● live: new alerts appear at the top' : live}</p>
      <ErrorBox error={error} />
      {alerts.length === 0 && <Notice>No alerts yet.</Notice>}
      {alerts.map((a) => (
        <AlertCard key={a.id} a={a} />
      ))}
    </>
  );
}

export const alertsPage: ConsolePage = {
  id: 'alerts',
  title: 'Alerts',
  group: 'Defense',
  component: AlertsView,
};
