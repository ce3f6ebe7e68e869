/**
 * Every name Vigil uses on Redis. BullMQ queues are named here and live under the deployment's
 * prefix (`VIGIL_QUEUE_PREFIX`, BullMQ's `prefix` option: keys `<prefix>:<queue>:…`); plain keys
 * and channels carry the prefix themselves.
 */

/** BullMQ: accepted subgraphs and findings waiting to be merged into Neo4j (protocol/ingest.ts). */
export const INGEST_QUEUE = 'ingest';

/*
 * Miners are untrusted and reach Redis as ACL users of their own (queues/minerAccess.ts): every
 * key a miner touches ends in its hotkey, so a per-miner key pattern grants exactly its own keys.
 * Miners use no BullMQ queue and no Lua (a miner allowed EVAL could stall Redis for everyone), only
 * XREAD of its challenge stream, XADD to its answer streams and SET/DEL of its heartbeat.
 * A stream message is one field `m` holding the JSON of the message.
 */

/** Redis stream, read by one miner only: Patrol challenges for it (protocol/patrol.ts `Challenge`). */
export const patrolChallengeStream = (prefix: string, minerHotkey: string) =>
  `${prefix}:patrol:challenges:${minerHotkey}`;
/**
 * Redis stream, written by one miner only, read (and emptied) by one validator: that miner's Patrol
 * answers to that validator (protocol/patrol.ts `Answer`); a challenge's `replyTo`.
 */
export const patrolAnswerStream = (prefix: string, validatorHotkey: string, minerHotkey: string) =>
  `${prefix}:patrol:answers:${validatorHotkey}:${minerHotkey}`;
/** Redis stream the validator itself writes to wake its answer reader when the set of streams changes. */
export const patrolWakeStream = (prefix: string, validatorHotkey: string) =>
  `${prefix}:patrol:wake:${validatorHotkey}`;
/** Redis list: a Patrol validator's last round scores of one miner, oldest first (`ScoreEntry`). */
export const patrolScoresKey = (prefix: string, validatorHotkey: string, minerHotkey: string) =>
  `${prefix}:patrol:${validatorHotkey}:scores:${minerHotkey}`;

/** Redis stream, read by one miner only: defense challenges for it (protocol/defense.ts `Challenge`). */
export const defenseChallengeStream = (prefix: string, minerId: string) =>
  `${prefix}:defense:challenges:${minerId}`;
/**
 * Redis stream, written by one miner only, read (and emptied) by one validator: that miner's
 * defense answers to that validator (protocol/defense.ts `Answer`). Nobody else can read it, so no
 * miner sees another's answer.
 */
export const defenseAnswerStream = (prefix: string, validatorId: string, minerId: string) =>
  `${prefix}:defense:answers:${validatorId}:${minerId}`;
/** Redis stream the validator itself writes to wake its answer reader when the set of streams changes. */
export const defenseWakeStream = (prefix: string, validatorId: string) =>
  `${prefix}:defense:wake:${validatorId}`;
/** Redis string with a TTL, written by one miner only: its last heartbeat (`Heartbeat`). */
export const defenseHeartbeatKey = (prefix: string, minerId: string) =>
  `${prefix}:defense:heartbeat:${minerId}`;
/** Redis hash, the validator's own: its deferred tx checks by tx hash (`DeferredCheck`). */
export const defenseDeferredKey = (prefix: string, validatorId: string) =>
  `${prefix}:defense:deferred:${validatorId}`;
/** Redis string with a TTL: a defense validator's published miner weights (`PublishedWeights`). */
export const defenseWeightsKey = (prefix: string, validatorId: string) =>
  `${prefix}:defense:weights:${validatorId}`;
/**
 * Redis string with a TTL: one pause per (chain, contract, incident) across validators. Holds a
 * claim (`sending:<uuid>`) while a validator sends, then the pause transaction's hash (`PauseClaim`).
 */
export const pauseClaimKey = (prefix: string, chainId: number, contract: string, incident: string) =>
  `${prefix}:defense:pause:${chainId}:${contract.toLowerCase()}:${incident.toLowerCase()}`;

/** Redis pub/sub: every alert as stored, published by the ingest worker (protocol/defense.ts `AlertEvent`). */
export const alertChannel = (prefix: string) => `${prefix}:alerts`;

/** Redis string with a TTL: a Patrol validator's last round and weights (protocol/operators.ts `PatrolState`). */
export const patrolStateKey = (prefix: string, validatorHotkey: string) =>
  `${prefix}:patrol:state:${validatorHotkey}`;
/** Redis string with a TTL: a defense validator's epoch and miner scores (protocol/operators.ts `DefenseState`). */
export const defenseStateKey = (prefix: string, validatorId: string) =>
  `${prefix}:defense:state:${validatorId}`;
/** Redis sorted set: validators of a kind that published a state, scored by when (newest read first). */
export const operatorIndexKey = (prefix: string, kind: 'patrol' | 'defense') => `${prefix}:operators:${kind}`;

/**
 * Redis stream, validator to validator (both the operator's own processes; no miner's ACL grants
 * it): trail requests a defense validator writes on each decided violation (protocol/trail.ts
 * `TrailRequest`), read by the Patrol validator of the same operator (same DEFENSE_VALIDATOR_ID).
 */
export const trailStream = (prefix: string, defenseValidatorId: string) =>
  `${prefix}:trail:requests:${defenseValidatorId}`;
/** Redis string: the id of the last trail request a Patrol validator took from that stream (a restart resumes after it). */
export const trailOffsetKey = (prefix: string, patrolValidatorHotkey: string, defenseValidatorId: string) =>
  `${prefix}:trail:offset:${patrolValidatorHotkey}:${defenseValidatorId}`;
