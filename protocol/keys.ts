/**
 * Every name Vigil uses on Redis. BullMQ queues are named here and live under the deployment's
 * prefix (`VIGIL_QUEUE_PREFIX`, BullMQ's `prefix` option: keys `<prefix>:<queue>:…`); plain keys
 * and channels carry the prefix themselves.
 */

/** BullMQ: accepted subgraphs and findings waiting to be merged into Neo4j (protocol/ingest.ts). */
export const INGEST_QUEUE = 'ingest';

/** BullMQ: Patrol challenges for one miner (protocol/patrol.ts `Challenge`). */
export const patrolChallengeQueue = (minerHotkey: string) => `patrol-challenges-${minerHotkey}`;
/** BullMQ: Patrol answers to one validator (protocol/patrol.ts `Answer`); a challenge's `replyTo`. */
export const patrolAnswerQueue = (validatorHotkey: string) => `patrol-answers-${validatorHotkey}`;
/** Redis list: a Patrol validator's last round scores of one miner, oldest first (`ScoreEntry`). */
export const patrolScoresKey = (prefix: string, validatorHotkey: string, minerHotkey: string) =>
  `${prefix}:patrol:${validatorHotkey}:scores:${minerHotkey}`;

/** BullMQ: defense challenges for one miner (protocol/defense.ts `Challenge`). */
export const defenseChallengeQueue = (minerId: string) => `defense-challenges-${minerId}`;
/** Redis pub/sub: defense answers to one validator (protocol/defense.ts `Answer`). */
export const defenseAnswerChannel = (prefix: string, validatorId: string) =>
  `${prefix}:defense:answers:${validatorId}`;
/** Redis hash: defense miner id → its last heartbeat (`Heartbeat`, epoch ms). */
export const defenseMinersKey = (prefix: string) => `${prefix}:defense:miners`;
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
