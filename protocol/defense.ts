import type { KeyringPair } from '@polkadot/keyring/types';
import { z } from 'zod';
import { VigilError } from '../common/errors.ts';
import { CHAINS, SEVERITIES } from './model.ts';
import { formatIssues, parseWith } from './parse.ts';
import { isSs58, signValue, signatureValid } from './signing.ts';

/**
 * Messages of real-time defense (services/defense), names in keys.ts:
 *
 *   validator ──Challenge──▶ Redis stream defenseChallengeStream(prefix, minerId) (the miner's own)
 *   miner ──Answer──▶ Redis stream defenseAnswerStream(prefix, validatorId, minerId) (its own)
 *   miner ──Heartbeat──▶ Redis string defenseHeartbeatKey(prefix, minerId), signed Heartbeat JSON, with a TTL (its own)
 *   validator ──PublishedWeights──▶ Redis key defenseWeightsKey(prefix, validatorId)
 *   validator ──PauseClaim──▶ Redis key pauseClaimKey(prefix, chainId, contract, incident)
 *   ingest worker ──AlertEvent──▶ Redis pub/sub channel alertChannel(prefix) (GraphQL `alertRaised`)
 *
 * A stream entry's field `m` holds the message's JSON. Every key a miner reads or writes is its own,
 * and its Redis user may touch no other (queues/minerAccess.ts): no miner sees another's answer.
 * Challenges stay in the stream (a miner that starts late still sees them, and skips those past
 * their deadline); the validator times an answer by its arrival and deletes it once read: an answer
 * that arrives after the deadline is a missing vote anyway.
 *
 * Miners are identified by their sr25519 hotkey (ss58), registered on the subnet: answers and
 * heartbeats are signed as protocol/signing.ts says; the validator runs `checkDefenseAnswer` and
 * `checkHeartbeat` on what arrives, and drops, with its reason, whatever fails.
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

/** A miner's hotkey: an ss58 address with a valid checksum (its sr25519 public key signs). */
const hotkey = z.string().max(64).refine(isSs58, 'expected an ss58 address (the miner hotkey)');
const signature = z
  .string()
  .regex(/^0x[0-9a-fA-F]{128}$/, 'expected a 0x-prefixed 64-byte sr25519 signature');

export const answerSchema = z
  .object({
    challengeId: id,
    /** The answering miner's hotkey (ss58): asked by the validator, and the key that signs. */
    miner: hotkey,
    /** The validator that asked (the challenge's `validator`): a vote for one is no vote for another. */
    validator: id,
    /** The block the miner simulated on (the challenge's, or its own newer head). */
    blockNumber: z.number().int(),
    txStatus: z.string().max(64),
    results: z
      .array(
        z
          .object({
            id: z.string().min(1).max(200),
            status: z.enum(VOTES),
            before: z.string().max(200).optional(),
            after: z.string().max(200).optional(),
            reason: z.string().max(2000).optional(),
          })
          .strict(),
      )
      .max(1000),
    /** Time the miner spent from taking the job to sending the answer. */
    latencyMs: z.number().nonnegative(),
    /** sr25519 signature by `miner` of every other field (see `signedAnswer`), 0x hex. */
    signature,
  })
  .strict();

export type Challenge = z.infer<typeof challengeSchema>;
export type ChallengeInput = z.input<typeof challengeSchema>;
export type Answer = z.infer<typeof answerSchema>;
export type UnsignedAnswer = Omit<Answer, 'signature'>;

export const parseChallenge = (data: unknown): Challenge => parseWith(challengeSchema, data);
export const parseAnswer = (data: unknown): Answer => parseWith(answerSchema, data);

/**
 * What an answer signs (protocol/signing.ts: RFC 8785 JSON → blake2-256 → sr25519): the answer
 * without its `signature`, i.e. exactly `{blockNumber, challengeId, latencyMs, miner, results,
 * txStatus, validator}` with each result's fields as sent (absent optional fields left out).
 */
export const signedAnswer = (a: UnsignedAnswer): UnsignedAnswer => ({
  challengeId: a.challengeId,
  miner: a.miner,
  validator: a.validator,
  blockNumber: a.blockNumber,
  txStatus: a.txStatus,
  results: a.results,
  latencyMs: a.latencyMs,
});

/** The miner's signed answer; `a.miner` must be `pair`'s address. */
export function signDefenseAnswer(pair: KeyringPair, a: UnsignedAnswer): Answer {
  if (a.miner !== pair.address)
    throw new VigilError(`answer names miner ${a.miner} but the signing hotkey is ${pair.address}`);
  const body = signedAnswer(a);
  return { ...body, signature: signValue(pair, body) };
}

/** Why an arriving defense answer was dropped: a metric label, and the sentence for the log. */
export type DefenseAnswerRejection =
  | 'malformed'
  | 'wrong_validator'
  | 'unknown_challenge'
  | 'not_asked'
  | 'bad_signature'
  | 'duplicate';
export type DefenseAnswerCheck =
  | { ok: true; answer: Answer }
  | { ok: false; kind: DefenseAnswerRejection; reason: string; miner?: string };

/** What the validator knows of its open rounds, for checking an answer on arrival. */
export interface OpenChallenges {
  validator: string;
  /** The open round of a challenge id: who was asked and who has answered; undefined when closed or unknown. */
  round(challengeId: string): { asked: readonly string[]; answered(miner: string): boolean } | undefined;
}

/**
 * The one check of an arriving defense answer (the raw text from the transport), before it can
 * count: its JSON and shape (field named), that it is for this validator and an open challenge,
 * from a miner that challenge asked, signed by that miner's hotkey, and its first answer there.
 */
export function checkDefenseAnswer(data: string, open: OpenChallenges): DefenseAnswerCheck {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (e) {
    return { ok: false, kind: 'malformed', reason: `answer is not JSON: ${(e as Error).message}` };
  }
  const claimed =
    typeof (json as { miner?: unknown })?.miner === 'string' ? (json as { miner: string }).miner : undefined;
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) {
    const reason = `malformed answer: ${formatIssues(parsed.error).join('; ')}`;
    return { ok: false, kind: 'malformed', reason, ...(claimed ? { miner: claimed } : {}) };
  }
  const a = parsed.data;
  const miner = a.miner;
  if (a.validator !== open.validator)
    return {
      ok: false,
      kind: 'wrong_validator',
      reason: `answer is for validator ${a.validator}, this is ${open.validator}`,
      miner,
    };
  const round = open.round(a.challengeId);
  if (!round)
    return {
      ok: false,
      kind: 'unknown_challenge',
      reason: `challenge ${a.challengeId} is not open (closed at its deadline, or never sent)`,
      miner,
    };
  if (!round.asked.includes(miner))
    return {
      ok: false,
      kind: 'not_asked',
      reason: `miner ${miner} was not asked challenge ${a.challengeId}`,
      miner,
    };
  if (!signatureValid(signedAnswer(a), a.signature, miner))
    return {
      ok: false,
      kind: 'bad_signature',
      reason: `signature is not valid for the miner hotkey ${miner}`,
      miner,
    };
  if (round.answered(miner))
    return {
      ok: false,
      kind: 'duplicate',
      reason: `miner ${miner} already answered challenge ${a.challengeId}`,
      miner,
    };
  return { ok: true, answer: a };
}

/**
 * A heartbeat: a miner's "I am up", the value it writes for itself (keys.ts), as JSON text.
 * Signed over `{at, miner}` (RFC 8785 → blake2-256 → sr25519), so only the hotkey can say it is
 * up, and with its time, so an old heartbeat cannot be replayed past `maxAgeMs`.
 */
export const heartbeatSchema = z
  .object({
    /** The miner's hotkey (ss58). */
    miner: hotkey,
    /** Epoch ms when the miner wrote it. */
    at: z.number().int().positive(),
    signature,
  })
  .strict();
export type Heartbeat = z.infer<typeof heartbeatSchema>;

/** How far ahead of the validator's clock a heartbeat may be (clock skew between machines). */
export const HEARTBEAT_MAX_SKEW_MS = 2_000;

export function signHeartbeat(pair: KeyringPair, at: number): Heartbeat {
  return { miner: pair.address, at, signature: signValue(pair, { miner: pair.address, at }) };
}

export type HeartbeatRejection = 'malformed' | 'wrong_miner' | 'bad_signature' | 'stale' | 'future';
export type HeartbeatCheck =
  | { ok: true; heartbeat: Heartbeat }
  | { ok: false; kind: HeartbeatRejection; reason: string };

/**
 * The one check of a heartbeat value read for `hotkey`: shape, that it names that hotkey, its
 * signature, and its time within [now − maxAgeMs, now + maxSkewMs].
 */
export function checkHeartbeat(
  data: string,
  hotkey: string,
  now: number,
  { maxAgeMs, maxSkewMs = HEARTBEAT_MAX_SKEW_MS }: { maxAgeMs: number; maxSkewMs?: number },
): HeartbeatCheck {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, kind: 'malformed', reason: `heartbeat of ${hotkey} is not JSON` };
  }
  const parsed = heartbeatSchema.safeParse(json);
  if (!parsed.success)
    return {
      ok: false,
      kind: 'malformed',
      reason: `malformed heartbeat of ${hotkey}: ${formatIssues(parsed.error).join('; ')}`,
    };
  const h = parsed.data;
  if (h.miner !== hotkey)
    return { ok: false, kind: 'wrong_miner', reason: `heartbeat stored for ${hotkey} names ${h.miner}` };
  if (!signatureValid({ miner: h.miner, at: h.at }, h.signature, hotkey))
    return { ok: false, kind: 'bad_signature', reason: `heartbeat signature is not valid for ${hotkey}` };
  if (h.at > now + maxSkewMs)
    return { ok: false, kind: 'future', reason: `heartbeat of ${hotkey} is ${h.at - now} ms in the future` };
  if (now - h.at >= maxAgeMs)
    return { ok: false, kind: 'stale', reason: `heartbeat of ${hotkey} is ${now - h.at} ms old` };
  return { ok: true, heartbeat: h };
}

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

/**
 * A defense validator's check that could not start (no live miner, a Redis or RPC blip), kept in
 * its defenseDeferredKey hash (field: the tx hash) so that a restarted validator retries it or
 * gives up with the reason.
 */
export const deferredCheckSchema = z
  .object({
    tx: rpcTxSchema,
    /** Retry ticks spent so far. */
    attempts: z.number().int().nonnegative(),
    /** Why the last try could not start. */
    reason: z.string().max(2000),
    /** Epoch ms of the first deferral (the oldest is given up first beyond the bound). */
    since: z.number().int().nonnegative(),
  })
  .strict();
export type DeferredCheck = z.infer<typeof deferredCheckSchema>;

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
    /** Contracts the flagged tx calls besides the protected one (protocol/ingest.ts); absent on older alerts. */
    attackerContracts: z.array(z.string()).optional(),
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
