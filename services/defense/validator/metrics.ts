import { Counter, Histogram, type Registry } from 'prom-client';

/** The defense validator's Prometheus series, built once and handed to each part that counts. */
export interface DefenseMetrics {
  txs: Counter<'decision'>;
  outcomes: Counter<'outcome'>;
  actions: Counter<'kind' | 'result'>;
  canaries: Counter<'result'>;
  answersRefused: Counter<'reason' | 'miner'>;
  heartbeatsRefused: Counter<'reason'>;
  toPause: Histogram;
}

/** Without a registry the series still count (tests read them) but are exported nowhere. */
export function createDefenseMetrics(registry?: Registry): DefenseMetrics {
  const registers = registry ? [registry] : [];
  return {
    txs: new Counter({
      name: 'vigil_defense_txs_total',
      help: 'Pending txs by decision',
      labelNames: ['decision'],
      registers,
    }),
    outcomes: new Counter({
      name: 'vigil_defense_outcomes_total',
      help: 'Invariant consensus outcomes',
      labelNames: ['outcome'],
      registers,
    }),
    actions: new Counter({
      name: 'vigil_defense_actions_total',
      help: 'Defense actions by kind and result',
      labelNames: ['kind', 'result'],
      registers,
    }),
    canaries: new Counter({
      name: 'vigil_defense_canaries_total',
      help: 'Canary challenges: sent, or not made (no call, no miner, none violating, failed)',
      labelNames: ['result'],
      registers,
    }),
    answersRefused: new Counter({
      name: 'vigil_defense_answers_refused_total',
      help: 'Answers dropped on arrival, never counted: by reason and miner (hotkey if registered, else "unregistered")',
      labelNames: ['reason', 'miner'],
      registers,
    }),
    heartbeatsRefused: new Counter({
      name: 'vigil_defense_heartbeats_refused_total',
      help: 'Heartbeats that marked nobody live: by reason (unregistered, bad_signature, stale, future, ...)',
      labelNames: ['reason'],
      registers,
    }),
    toPause: new Histogram({
      name: 'vigil_defense_seen_to_pause_seconds',
      help: 'From pending tx seen to pause broadcast',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1],
      registers,
    }),
  };
}

/** One series' value for these labels (0 when never counted): what tests and /health read. */
export async function countOf(c: Counter<string>, labels: Record<string, string>): Promise<number> {
  const { values } = await c.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return hit?.value ?? 0;
}
