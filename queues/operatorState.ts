import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { defenseStateKey, operatorIndexKey, patrolStateKey } from '../protocol/keys.ts';
import {
  type DefenseState,
  OPERATOR_LIMITS,
  OPERATOR_SCHEMAS,
  type OperatorKind,
  type PatrolState,
} from '../protocol/operators.ts';
import { formatIssues } from '../protocol/parse.ts';

/**
 * Validators' published state for subnet operators (protocol/operators.ts): one key per validator
 * with a TTL, indexed by time in a sorted set trimmed to the newest OPERATOR_LIMITS.validators.
 * The API reads it back with readOperatorStates; no second path.
 */

type StateOf<K extends OperatorKind> = K extends 'patrol' ? PatrolState : DefenseState;
/** What a publisher may give: fields with a default (a Patrol state's chain, otherChains) may be left out. */
type StateInputOf<K extends OperatorKind> = z.input<(typeof OPERATOR_SCHEMAS)[K]>;

const stateKey = (kind: OperatorKind, prefix: string, validator: string) =>
  kind === 'patrol' ? patrolStateKey(prefix, validator) : defenseStateKey(prefix, validator);

/** Writes a validator's state (checked by its schema first: nothing malformed is published). */
export async function publishOperatorState<K extends OperatorKind>(
  redis: Redis,
  prefix: string,
  kind: K,
  state: StateInputOf<K>,
): Promise<void> {
  const checked = OPERATOR_SCHEMAS[kind].safeParse(state);
  if (!checked.success)
    throw new Error(
      `${kind} operator state of ${state.validator}: ${formatIssues(checked.error).join('; ')}`,
    );
  const index = operatorIndexKey(prefix, kind);
  await redis
    .multi()
    .set(stateKey(kind, prefix, state.validator), JSON.stringify(checked.data), 'PX', OPERATOR_LIMITS.ttlMs)
    .zadd(index, state.at, state.validator)
    .zremrangebyrank(index, 0, -OPERATOR_LIMITS.validators - 1)
    .pexpire(index, OPERATOR_LIMITS.ttlMs)
    .exec();
}

export interface OperatorRead<K extends OperatorKind> {
  states: StateOf<K>[];
  /** States present but not readable, with why (the API logs them; a validator's bug, not the reader's). */
  refused: { validator: string; reason: string }[];
}

/** The newest states of a kind, newest first; expired ones are skipped, malformed ones refused. */
export async function readOperatorStates<K extends OperatorKind>(
  redis: Redis,
  prefix: string,
  kind: K,
): Promise<OperatorRead<K>> {
  const validators = await redis.zrevrange(operatorIndexKey(prefix, kind), 0, OPERATOR_LIMITS.validators - 1);
  if (validators.length === 0) return { states: [], refused: [] };
  const raws = await redis.mget(validators.map((v) => stateKey(kind, prefix, v)));
  const out: OperatorRead<K> = { states: [], refused: [] };
  raws.forEach((raw, i) => {
    if (raw === null) return; // expired
    const validator = validators[i]!;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      out.refused.push({ validator, reason: 'not JSON' });
      return;
    }
    const parsed = OPERATOR_SCHEMAS[kind].safeParse(json);
    if (parsed.success) out.states.push(parsed.data as StateOf<K>);
    else out.refused.push({ validator, reason: formatIssues(parsed.error).join('; ') });
  });
  return out;
}
