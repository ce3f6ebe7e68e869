import { useEffect, useState } from 'preact/hooks';
import { gql, subscribe } from '../api.ts';
import { ErrorBox, Notice } from '../components/common.tsx';
import { short, when } from '../format.ts';
import { href } from '../router.ts';
import type { ConsolePage } from './page.ts';

const ALERT_FIELDS = `id chain chainId severity txHash contract sender invariantId invariantKind description
  before after votesViolated votesTotal miners validator raisedAt
  actions { kind status txHash landedFirst detail at }`;

/** How one of the alert's actions ended, as the validator reported it (Alert.actions). */
export interface ActionOutcome {
  kind: string;
  status: string;
  txHash: string | null;
  landedFirst: boolean | null;
  detail: string;
  at: string;
}

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
  actions: ActionOutcome[];
}

const RECENT = `query RecentAlerts { alerts(first: 50) { edges { node { ${ALERT_FIELDS} } } } }`;
const INVARIANT =
  'query AlertInvariant($id: ID!) { invariant(id: $id) { id actions { kind url chatId contract } } }';

interface Action {
  kind: string;
  url: string | null;
  chatId: string | null;
  contract: string | null;
}

/** The defense actions an alert's invariant has configured (read once per invariant). */
const configured = new Map<string, Promise<Action[] | null>>();
const actionsOf = (id: string) => {
  if (!configured.has(id))
    configured.set(
      id,
      gql<{ invariant: { actions: Action[] } | null }>(INVARIANT, { id }).then(
        (d) => d.invariant?.actions ?? null,
        () => null,
      ),
    );
  return configured.get(id)!;
};

const describeAction = (a: Action) =>
  a.kind === 'WEBHOOK'
    ? `webhook to ${a.url ? new URL(a.url).host : '?'}`
    : a.kind === 'TELEGRAM'
      ? `Telegram chat ${a.chatId}`
      : `pause ${a.contract ?? 'the contract'}`;

function Actions({ invariantId }: { invariantId: string }) {
  const [actions, setActions] = useState<Action[] | null>();
  useEffect(() => {
    void actionsOf(invariantId).then(setActions);
  }, [invariantId]);
  if (actions === undefined) return null;
  return (
    <p class="hint actions">
      {actions === null
        ? 'actions: the invariant is no longer registered'
        : actions.length === 0
          ? 'actions: none configured'
          : `actions configured: ${actions.map(describeAction).join(', ')}`}
    </p>
  );
}
const LIVE = `subscription LiveAlerts { alertRaised { ${ALERT_FIELDS} } }`;

/** Alerts as they are raised (alertRaised over SSE), above the 50 most recent stored ones. */
function useAlerts() {
  const [alerts, setAlerts] = useState<AlertRow[]>([]);
  const [live, setLive] = useState<'connecting' | 'live' | string>('connecting');
  const [error, setError] = useState<Error>();
  useEffect(() => {
    // The feed sends an alert again when its action outcomes change: replaced in place.
    const add = (rows: AlertRow[], front: boolean) =>
      setAlerts((old) => {
        const byId = new Map(rows.map((a) => [a.id, a]));
        const updated = front ? old.map((a) => byId.get(a.id) ?? a) : old;
        const seen = new Set(old.map((a) => a.id));
        const fresh = rows.filter((a) => !seen.has(a.id));
        return front ? [...fresh, ...updated] : [...updated, ...fresh];
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
        votes {a.votesViolated}/{a.votesTotal} violated ({a.miners.length} miners agreeing) · tx{' '}
        <span class="mono">{short(a.txHash, 10)}</span> · before {a.before ?? '—'} → after {a.after ?? '—'}
      </p>
      <p>
        attacker <span class="mono">{a.sender}</span>:{' '}
        <a href={href('wallet', { chain: a.chain, address: a.sender })}>trail</a> ·{' '}
        <a href={href('flow', { address: a.sender, dir: 'IN' })}>where its funds came from</a>
      </p>
      <Actions invariantId={a.invariantId} />
      <Taken actions={a.actions} />
    </article>
  );
}

const OUTCOME_LABEL: Record<string, string> = {
  sent: 'sent, waiting for its receipt',
  'landed-first': 'landed first',
  'landed-after': 'landed after',
  reverted: 'reverted: paused nothing',
  'not-mined': 'not mined',
  delivered: 'delivered',
  failed: 'failed',
};

/** What the validator did for this alert and how each action ended (live: the feed re-sends the alert). */
function Taken({ actions }: { actions: ActionOutcome[] }) {
  if (actions.length === 0) return <p class="hint taken">actions taken: none reported yet</p>;
  return (
    <ul class="taken">
      {actions.map((o) => (
        <li key={`${o.kind}-${o.at}`} class={`outcome outcome-${o.status}`} data-outcome={o.kind}>
          <strong>{o.kind === 'PAUSE' ? 'pause' : o.kind === 'WEBHOOK' ? 'webhook' : 'Telegram'}</strong>{' '}
          {o.txHash && <span class="mono">{short(o.txHash, 10)} </span>}
          {OUTCOME_LABEL[o.status] ?? o.status}
          {o.detail && <span class="hint"> · {o.detail}</span>} · {when(o.at)}
        </li>
      ))}
    </ul>
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
