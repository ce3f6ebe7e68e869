import type {
  DefenseState,
  OperatorKind,
  PatrolMinerState,
  PatrolState,
} from '../../../protocol/operators.ts';
import { readOperatorStates } from '../../../queues/operatorState.ts';
import type { ApiContext } from '../context.ts';

export type { OperatorSource } from '../context.ts';
import { userError } from '../errors.ts';
import { limitsOf } from './investigate.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const recall = (r: { agreed: number; seen: number }) => ({
  ...r,
  rate: r.seen > 0 ? r.agreed / r.seen : null,
});

/** Reads one kind within the read time-out; a state a validator published malformed is logged and left out. */
async function states(ctx: ApiContext, kind: OperatorKind) {
  const src = ctx.operators;
  if (!src) throw userError('operator state is not available: this API runs without Redis', 'UNAVAILABLE');
  const { readTimeoutMs } = limitsOf(ctx);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(userError(`reading the ${kind} validators' state from Redis timed out`, 'QUERY_TIMEOUT')),
      readTimeoutMs,
    );
  });
  try {
    const read = await Promise.race([readOperatorStates(src.redis, src.prefix, kind), timeout]);
    for (const r of read.refused)
      src.log.warn({ kind, validator: r.validator, reason: r.reason }, 'operator state refused: left out');
    return read.states;
  } finally {
    clearTimeout(timer);
  }
}

function patrolValidator(s: PatrolState) {
  const weightOf = new Map(s.weights?.uids.map((uid, i) => [uid, s.weights!.weights[i]!]));
  const miners = (list: PatrolMinerState[]) =>
    list.map((m) => ({ ...m, score: m.total, weight: weightOf.get(m.uid) ?? null }));
  const main = {
    chain: s.chain.toUpperCase(),
    trail: false,
    round: s.round,
    updatedAt: iso(s.at),
    miners: miners(s.miners),
  };
  return {
    hotkey: s.validator,
    ...main,
    // The main round first, then each other chain's last round (Ethereum), each with its own miners.
    chains: [
      main,
      ...s.otherChains.map((c) => ({
        chain: c.chain.toUpperCase(),
        trail: c.trail,
        round: c.round,
        updatedAt: iso(c.at),
        miners: miners(c.miners),
      })),
    ],
    weights: s.weights && { ...s.weights, setAt: iso(s.weights.at) },
  };
}

function defenseValidator(s: DefenseState) {
  return {
    id: s.validator,
    epoch: s.epoch,
    epochStartedAt: iso(s.epochStartedAt),
    epochSeconds: s.epochMs / 1000,
    scoredEpoch: s.scoredEpoch,
    updatedAt: iso(s.at),
    miners: s.miners.map((m) => ({
      hotkey: m.miner,
      txs: m.txs,
      accuracy: m.accuracy,
      violatedRecall: recall(m.violatedRecall),
      holdsRecall: recall(m.holdsRecall),
      canaries: recall(m.canaries),
      latencyP99Ms: m.l99Ms,
      score: m.score,
      rewardShare: m.share,
    })),
  };
}

/** Resolvers of schema/operators.graphql. */
export const operatorResolvers = {
  Query: {
    patrolValidators: async (_: unknown, __: unknown, ctx: ApiContext) =>
      (await states(ctx, 'patrol')).map((s) => patrolValidator(s as PatrolState)),
    defenseValidators: async (_: unknown, __: unknown, ctx: ApiContext) =>
      (await states(ctx, 'defense')).map((s) => defenseValidator(s as DefenseState)),
  },
};
