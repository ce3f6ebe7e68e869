import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { InvalidPayloadError } from '../common/errors.ts';

/**
 * Queues and payloads of real-time defense (services/defense):
 *
 *   validator ──challenge──▶ BullMQ queue `defense-challenges-<minerId>` (one per miner)
 *   miner ──answer──▶ Redis pub/sub channel `<prefix>:defense:answers:<validatorId>`
 *   miner ──heartbeat──▶ Redis hash `<prefix>:defense:miners` (minerId → last seen, epoch ms)
 *   ingest worker ──alert──▶ Redis pub/sub channel `<prefix>:alerts` (GraphQL `alertRaised`)
 *
 * Challenges are durable jobs (a miner that starts late still sees them, and skips those past their
 * deadline); answers are ephemeral: an answer that arrives after the deadline is a missing vote anyway.
 */

export const challengeQueueName = (minerId: string) => `defense-challenges-${minerId}`;
export const answerChannel = (prefix: string, validatorId: string) =>
  `${prefix}:defense:answers:${validatorId}`;
export const minersKey = (prefix: string) => `${prefix}:defense:miners`;
export const alertChannel = (prefix: string) => `${prefix}:alerts`;

/** A challenge is worth nothing after its deadline: one attempt, gone once done. */
export const CHALLENGE_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: { count: 1000 },
};

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

function issues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}

export function parseChallenge(data: unknown): Challenge {
  const r = challengeSchema.safeParse(data);
  if (!r.success) throw new InvalidPayloadError(issues(r.error));
  return r.data;
}

export function parseAnswer(data: unknown): Answer {
  const r = answerSchema.safeParse(data);
  if (!r.success) throw new InvalidPayloadError(issues(r.error));
  return r.data;
}

export type ChallengeQueue = Queue<Challenge, unknown, 'challenge'>;

export function createChallengeQueue(connection: Redis, prefix: string, minerId: string): ChallengeQueue {
  return new Queue(challengeQueueName(minerId), {
    connection,
    prefix,
    defaultJobOptions: CHALLENGE_JOB_OPTIONS,
  });
}
