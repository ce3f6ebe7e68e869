import type { Redis } from 'ioredis';
import { type PublishedWeights, publishedWeightsSchema } from '../../protocol/defense.ts';
import { defenseWeightsKey } from '../../protocol/keys.ts';
import { formatIssues } from '../../protocol/parse.ts';
import { toU16Weights } from '../patrol/scoring.ts';

/**
 * One set of weights per validator on chain, from both subnets' work: the defense validator
 * publishes its miners' weights to Redis, the Patrol validator (which sets weights on chain)
 * reads them and mixes them with its own by `DEFENSE_WEIGHT_SHARE`. Defense miners are their
 * hotkeys (registered on the subnet): each is paid on that hotkey's uid in the metagraph.
 */

export type { PublishedWeights };

/** Published weights older than this are ignored (the defense validator is down or cut off). */
export const DEFENSE_WEIGHTS_MAX_AGE_MS = 10 * 60_000;

export async function publishDefenseWeights(
  redis: Redis,
  prefix: string,
  w: { validator: string; epoch: number; weights: Map<string, number>; at?: number },
): Promise<void> {
  const body: PublishedWeights = {
    validator: w.validator,
    epoch: w.epoch,
    at: w.at ?? Date.now(),
    weights: Object.fromEntries(w.weights),
  };
  await redis.set(
    defenseWeightsKey(prefix, w.validator),
    JSON.stringify(body),
    'PX',
    DEFENSE_WEIGHTS_MAX_AGE_MS,
  );
}

export type DefenseWeightsRead =
  | { ok: true; weights: Map<string, number>; epoch: number; ageMs: number }
  | { ok: false; reason: string };

/** The defense validator's last published weights, or why there are none to use. */
export async function readDefenseWeights(
  redis: Redis,
  prefix: string,
  validator: string,
  now = Date.now(),
): Promise<DefenseWeightsRead> {
  const key = defenseWeightsKey(prefix, validator);
  const raw = await redis.get(key);
  if (raw === null) return { ok: false, reason: `no defense weights published at ${key}` };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reason: `${key} is not JSON` };
  }
  const parsed = publishedWeightsSchema.safeParse(json);
  if (!parsed.success)
    return {
      ok: false,
      reason: `${key} is not a weights record (at, weights: {miner: number ≥ 0}): ${formatIssues(parsed.error).join('; ')}`,
    };
  const body = parsed.data;
  const entries = Object.entries(body.weights);
  const ageMs = now - body.at;
  if (ageMs > DEFENSE_WEIGHTS_MAX_AGE_MS)
    return { ok: false, reason: `defense weights at ${key} are ${Math.round(ageMs / 1000)} s old` };
  return { ok: true, weights: new Map(entries), epoch: body.epoch, ageMs };
}

/**
 * Combines Patrol weights and defense weights by a split (share of defense, 0..1), each side
 * normalised first so neither dominates by scale; the result sums to 1 when either side has weight.
 * Also returns the share defense really got: a side with no weight gives its share to the other.
 */
export function combineWeights(
  patrol: Map<string, number>,
  defense: Map<string, number>,
  defenseShare: number,
): { weights: Map<string, number>; defenseShare: number } {
  if (!(defenseShare >= 0 && defenseShare <= 1))
    throw new RangeError(`defense share must be in [0, 1], got ${defenseShare}`);
  const norm = (m: Map<string, number>) => {
    const t = [...m.values()].reduce((s, v) => s + Math.max(0, v), 0);
    return { t, get: (k: string) => (t > 0 ? Math.max(0, m.get(k) ?? 0) / t : 0) };
  };
  const p = norm(patrol);
  const d = norm(defense);
  // A side with no weight at all gives its share to the other.
  const share = p.t === 0 ? 1 : d.t === 0 ? 0 : defenseShare;
  const weights = new Map<string, number>();
  for (const k of new Set([...patrol.keys(), ...defense.keys()]))
    weights.set(k, (1 - share) * p.get(k) + share * d.get(k));
  return { weights, defenseShare: d.t === 0 ? 0 : share };
}

/**
 * The weights to set on chain for the subnet's neurons: combined by hotkey, then scaled to u16,
 * with the share defense really got and how many defense ids matched no neuron. Those are left
 * out before combining, so their share is not lost.
 */
export function chainWeights(
  neurons: { uid: number; hotkey: string }[],
  patrol: Map<string, number>,
  defense: Map<string, number>,
  defenseShare: number,
): { uids: number[]; weights: number[]; defenseShare: number; unmatched: number } {
  const hotkeys = new Set(neurons.map((n) => n.hotkey));
  const onChain = new Map([...defense].filter(([id]) => hotkeys.has(id)));
  const combined = combineWeights(patrol, onChain, defenseShare);
  return {
    uids: neurons.map((n) => n.uid),
    weights: toU16Weights(neurons.map((n) => combined.weights.get(n.hotkey) ?? 0)),
    defenseShare: combined.defenseShare,
    unmatched: defense.size - onChain.size,
  };
}
