import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api.ts';
import { ErrorBox, Notice } from '../components/common.tsx';
import { short, when } from '../format.ts';
import type { ConsolePage } from './page.ts';

/**
 * Subnet operators: each Patrol validator's last round per chain (Bittensor, Ethereum) per miner
 * (score terms, that chain's last rejections, weight set on chain) and each defense validator's epoch (measured recall, p99, reward share).
 * Refreshed every 15 s.
 */
interface PatrolMiner {
  hotkey: string;
  uid: number;
  accepted: boolean;
  volume: number;
  responsiveness: number;
  novelty: number;
  completeness: number | null;
  score: number;
  average: number;
  weight: number | null;
  rejections: { round: number; reason: string }[];
}
interface Recall {
  agreed: number;
  seen: number;
  rate: number | null;
}
interface PatrolChainRound {
  chain: 'BITTENSOR' | 'ETHEREUM';
  /** A round of an alert's trail, numbered apart from the regular rounds. */
  trail: boolean;
  round: number;
  updatedAt: string;
  miners: PatrolMiner[];
}
interface Operators {
  patrolValidators: {
    hotkey: string;
    updatedAt: string;
    weights: { block: number; setAt: string; defenseShare: number } | null;
    /** The main chain's round first, then Ethereum's: each with its own miners' scores and rejections. */
    chains: PatrolChainRound[];
  }[];
  defenseValidators: {
    id: string;
    epoch: number;
    epochStartedAt: string;
    epochSeconds: number;
    scoredEpoch: number;
    updatedAt: string;
    miners: {
      hotkey: string;
      txs: number;
      accuracy: number;
      violatedRecall: Recall;
      holdsRecall: Recall;
      latencyP99Ms: number;
      rewardShare: number;
    }[];
  }[];
}

const QUERY = `{
  patrolValidators { hotkey updatedAt weights { block setAt defenseShare }
    chains { chain trail round updatedAt
      miners { hotkey uid accepted volume responsiveness novelty completeness score average weight rejections { round reason } } } }
  defenseValidators { id epoch epochStartedAt epochSeconds scoredEpoch updatedAt
    miners { hotkey txs accuracy latencyP99Ms rewardShare violatedRecall { agreed seen rate } holdsRecall { agreed seen rate } } }
}`;

const f3 = (x: number | null) => (x == null ? '—' : x.toFixed(3));
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const ratio = (r: Recall) => `${r.agreed}/${r.seen}`;

const CHAIN_NAMES = { BITTENSOR: 'Bittensor', ETHEREUM: 'Ethereum' } as const;

function PatrolTable({ v }: { v: Operators['patrolValidators'][number] }) {
  return (
    <section class="card" data-validator={v.hotkey}>
      <h3>
        Patrol validator <span class="mono">{short(v.hotkey, 8)}</span> · {when(v.updatedAt)}
      </h3>
      <p>
        {v.weights
          ? `weights set on chain at block ${v.weights.block} (${when(v.weights.setAt)}), ${pct(v.weights.defenseShare)} from BitDefense`
          : 'no weights set on chain yet by this process'}
      </p>
      {v.chains.map((c) => (
        <ChainRound key={c.chain} c={c} />
      ))}
    </section>
  );
}

/** One chain's last round: each miner's score terms and that chain's own rejections. */
function ChainRound({ c }: { c: PatrolChainRound }) {
  return (
    <div data-chain={c.chain.toLowerCase()} data-trail={c.trail}>
      <h4>
        {CHAIN_NAMES[c.chain]} · {c.trail ? "attacker's trail, round" : 'round'} {c.round} ·{' '}
        {when(c.updatedAt)}
      </h4>
      <table class="grid patrol-miners">
        <thead>
          <tr>
            {[
              'uid',
              'hotkey',
              'paid',
              'volume',
              'responsiveness',
              'novelty',
              'completeness',
              'score',
              'average',
              'weight (u16)',
              'last rejections',
            ].map((h) => (
              <th key={h}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {c.miners.map((m) => (
            <tr key={m.hotkey} data-miner={m.hotkey}>
              <td class="num">{m.uid}</td>
              <td class="mono" title={m.hotkey}>
                {short(m.hotkey, 8)}
              </td>
              <td>{m.accepted ? 'yes' : 'no'}</td>
              <td class="num">{f3(m.volume)}</td>
              <td class="num">{f3(m.responsiveness)}</td>
              <td class="num">{f3(m.novelty)}</td>
              <td class="num">{f3(m.completeness)}</td>
              <td class="num">{f3(m.score)}</td>
              <td class="num">{f3(m.average)}</td>
              <td class="num">{m.weight ?? '—'}</td>
              <td>{m.rejections.map((r) => `round ${r.round}: ${r.reason}`).join(' · ') || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DefenseTable({ v }: { v: Operators['defenseValidators'][number] }) {
  return (
    <section class="card" data-validator={v.id}>
      <h3>
        Defense validator <span class="mono">{v.id}</span> · epoch {v.epoch} since {when(v.epochStartedAt)} (
        {v.epochSeconds} s each) · scores of epoch {v.scoredEpoch}
      </h3>
      {v.miners.length === 0 && <Notice>No registered miner scored in this epoch yet.</Notice>}
      {v.miners.length > 0 && (
        <table class="grid defense-miners">
          <thead>
            <tr>
              {[
                'hotkey',
                'txs',
                'accuracy',
                'violated recall',
                'holds recall',
                'latency p99',
                'reward share',
              ].map((h) => (
                <th key={h}>{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {v.miners.map((m) => (
              <tr key={m.hotkey} data-miner={m.hotkey}>
                <td class="mono" title={m.hotkey}>
                  {short(m.hotkey, 8)}
                </td>
                <td class="num">{m.txs}</td>
                <td class="num">{f3(m.accuracy)}</td>
                <td class="num">{ratio(m.violatedRecall)}</td>
                <td class="num">{ratio(m.holdsRecall)}</td>
                <td class="num">{m.latencyP99Ms.toFixed(0)} ms</td>
                <td class="num">{pct(m.rewardShare)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function OperatorsView() {
  const [data, setData] = useState<Operators>();
  const [error, setError] = useState<Error>();
  useEffect(() => {
    const load = () =>
      gql<Operators>(QUERY).then((d) => {
        setData(d);
        setError(undefined);
      }, setError);
    load();
    const timer = setInterval(load, 15_000);
    return () => clearInterval(timer);
  }, []);
  return (
    <>
      <h1>Subnet operators</h1>
      <ErrorBox error={error} />
      {data && data.patrolValidators.length === 0 && (
        <Notice>No Patrol validator has published a round yet.</Notice>
      )}
      {data?.patrolValidators.map((v) => (
        <PatrolTable key={v.hotkey} v={v} />
      ))}
      {data && data.defenseValidators.length === 0 && (
        <Notice>No defense validator has published its epoch yet.</Notice>
      )}
      {data?.defenseValidators.map((v) => (
        <DefenseTable key={v.id} v={v} />
      ))}
    </>
  );
}

export const operatorsPage: ConsolePage = {
  id: 'operators',
  title: 'Subnet operators',
  group: 'Operate',
  component: OperatorsView,
};
