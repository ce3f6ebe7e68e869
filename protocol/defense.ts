import { z } from 'zod';
import { CHAINS, SEVERITIES } from './model.ts';
import { parseWith } from './parse.ts';

/**
 * Messages of real-time defense (services/defense), names in keys.ts:
 *
 *   validator ──Challenge──▶ Redis stream defenseChallengeStream(prefix, minerId) (the miner's own)
 *   miner ──Answer──▶ Redis stream defenseAnswerStream(prefix, validatorId, minerId) (its own)
 *   miner ──Heartbeat──▶ Redis string defenseHeartbeatKey(prefix, minerId) with a TTL (its own)
 *   validator ──PublishedWeights──▶ Redis key defenseWeightsKey(prefix, validatorId)
 *   validator ──PauseClaim──▶ Redis key pauseClaimKey(prefix, chainId, contract, incident)
 *   ingest worker ──AlertEvent──▶ Redis pub/sub channel alertChannel(prefix) (GraphQL `alertRaised`)
 *
 * A stream entry's field `m` holds the message's JSON. Every key a miner reads or writes is its own,
 * and its Redis user may touch no other (queues/minerAccess.ts): no miner sees another's answer.
 * Challenges stay in the stream (a miner that starts late still sees them, and skips those past
 * their deadline); the validator times an answer by its arrival and deletes it once read: an answer
 * that arrives after the deadline is a missing vote anyway.
 */

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte hex address');
const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, 'expected 0x-prefixed hex');
const id = z.string().min(1).max(200);

/** A transaction as the node returns it (eth_getTransactionByHash), `from` included. Extra fields pass through. */
export const rpcTxSchema = z
  .object({
    hash: z
      .string()
      .regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte hex hash')
      .optional(),
    from: address,
    to: address.nullable().optional(),
    nonce: hex,
    gas: hex,
    input: hex.optional(),
    value: hex.optional(),
    type: hex.optional(),
  })
  .passthrough();

export const challengeSchema = z
  .object({
    challengeId: id,
    chainId: z.number().int().positive(),
    /** Simulate on top of this block (the validator's head when it saw the tx). */
    blockNumber: z.number().int().nonnegative(),
    tx: rpcTxSchema,
    /** Engine invariant definitions (services/engine/invariants.ts input schema), validated by the miner. */
    invariants: z.array(z.record(z.unknown())).min(1),
    /** The sender's earlier pending txs, applied first in nonce order. */
    priorTxs: z.array(rpcTxSchema).default([]),
    validator: id,
    /** Epoch ms after which the answer is not counted; a miner skips a challenge already past it. */
    deadline: z.number().int().positive(),
    /** Epoch ms when the validator sent it. */
    sentAt: z.number().int().positive(),
  })
  .strict();

export const VOTES = ['holds', 'violated', 'error'] as const;
export type Vote = (typeof VOTES)[number];

export const answerSchema = z
  .object({
    challengeId: id,
    miner: id,
    blockNumber: z.number().int(),
    txStatus: z.string(),
    results: z.array(
      z
        .object({
          id: z.string().min(1),
          status: z.enum(VOTES),
          before: z.string().optional(),
          after: z.string().optional(),
          reason: z.string().optional(),
        })
        .strict(),
    ),
    /** Time the miner spent from taking the job to sending the answer. */
    latencyMs: z.number().nonnegative(),
  })
  .strict();

export type Challenge = z.infer<typeof challengeSchema>;
export type ChallengeInput = z.input<typeof challengeSchema>;
export type Answer = z.infer<typeof answerSchema>;

export const parseChallenge = (data: unknown): Challenge => parseWith(challengeSchema, data);
export const parseAnswer = (data: unknown): Answer => parseWith(answerSchema, data);

/** A heartbeat: the value of a miner's defenseHeartbeatKey, epoch ms as a decimal string. */
export const heartbeatSchema = z.coerce.number().int().positive();

/** A defense validator's miner weights, as published for the Patrol validator to mix in. */
export const publishedWeightsSchema = z
  .object({
    validator: id,
    /** The validator's reward epoch these weights close. */
    epoch: z.number().int().nonnegative(),
    /** Epoch ms when published. */
    at: z.number().int().nonnegative(),
    /** Miner id (a hotkey, to be paid on chain) → weight ≥ 0. */
    weights: z.record(z.number().nonnegative()),
  })
  .strict();
export type PublishedWeights = z.infer<typeof publishedWeightsSchema>;

/**
 * The value of a pauseClaimKey: `sending:<uuid>` while a validator holds the claim and sends, then
 * the pause transaction's hash once sent.
 */
export const pauseClaimSchema = z.union([
  z.string().regex(/^sending:[0-9a-f-]{36}$/, 'expected sending:<uuid>'),
  z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte tx hash'),
]);
export type PauseClaim = z.infer<typeof pauseClaimSchema>;

/** An alert as stored in Neo4j (graph/alerts.ts ALERT_FIELDS), announced on alertChannel. */
export const alertEventSchema = z
  .object({
    /** protocol/ids.ts alertId: ethereum:<chainId>:<txHash>:<invariant id>. */
    id: z.string().min(1),
    chain: z.enum(CHAINS),
    chainId: z.number().int().positive(),
    severity: z.enum(SEVERITIES),
    txHash: z.string().min(1),
    contract: z.string().min(1),
    sender: z.string().min(1),
    invariantId: z.string().min(1),
    invariantKind: z.string().min(1),
    description: z.string(),
    /** Observed value before and after the transaction (decimal or hex text), null when unknown. */
    before: z.string().nullable(),
    after: z.string().nullable(),
    votesViolated: z.number().int().nonnegative(),
    votesTotal: z.number().int().positive(),
    miners: z.array(z.string()),
    validator: z.string(),
    /** ISO-8601 time the validator raised it. */
    raisedAt: z.string().min(1),
  })
  .passthrough();
export type AlertEvent = z.infer<typeof alertEventSchema>;
