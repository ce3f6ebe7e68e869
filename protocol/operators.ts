import { z } from 'zod';
import { CHAINS } from './model.ts';

/**
 * What subnet operators read of the validators (the console's operators page, through the API):
 * each validator publishes its latest state to one Redis key of its own (keys.ts
 * patrolStateKey / defenseStateKey, with a TTL) and indexes it in a sorted set by time
 * (operatorIndexKey), so the API reads the newest few without scanning. Everything here is public
 * already (hotkeys, scores, weights set on chain); canary calls never appear.
 */

/** Bounds of a published state: a subnet has at most 256 uids; reasons are cut, not refused. */
export const OPERATOR_LIMITS = {
  miners: 256,
  /** Last rejections kept per Patrol miner, newest first. */
  rejections: 5,
  reasonChars: 500,
  /** Validators the API reads per kind (newest first). */
  validators: 32,
  /** How long a state outlives its last publication. */
  ttlMs: 24 * 60 * 60_000,
} as const;

const id = z.string().min(1).max(128);
const share = z.number().min(0).max(1);
const count = z.number().int().nonnegative();
const epochMs = z.number().int().nonnegative();
const ratio = z.object({ agreed: count, seen: count }).strict();

/** A Patrol round's result for one miner, as the validator scored it (services/patrol/scoring.ts). */
export const patrolMinerStateSchema = z
  .object({
    hotkey: id,
    uid: count,
    accepted: z.boolean(),
    /** Score terms of the round (0 when the answer was rejected); completeness null when not measured. */
    volume: share,
    responsiveness: share,
    novelty: share,
    completeness: share.nullable(),
    /** The round's score and the moving average weights rest on. */
    total: share,
    average: share,
    edges: count,
    /** Seconds from challenge to answer; null when none arrived. */
    seconds: z.number().nonnegative().nullable(),
    /** The last rejections, newest first (kept across rounds). */
    rejections: z
      .array(z.object({ round: count, reason: z.string().max(OPERATOR_LIMITS.reasonChars) }).strict())
      .max(OPERATOR_LIMITS.rejections),
  })
  .strict();
export type PatrolMinerState = z.infer<typeof patrolMinerStateSchema>;

/** The weights a Patrol validator last set on chain (u16 per uid) and the share defense got. */
export const chainWeightsStateSchema = z
  .object({
    at: epochMs,
    block: count,
    uids: z.array(count).max(OPERATOR_LIMITS.miners),
    weights: z.array(z.number().int().min(0).max(65535)).max(OPERATOR_LIMITS.miners),
    defenseShare: share,
  })
  .strict()
  .refine((w) => w.uids.length === w.weights.length, { message: 'uids and weights differ in length' });

/** A Patrol round on another chain than the main one (Ethereum), with its own miners' results. */
export const patrolChainRoundSchema = z
  .object({
    chain: z.enum(CHAINS),
    /** Epoch ms when this chain's round was published. */
    at: epochMs,
    /** A round of an alert's trail (services/patrol/trail.ts), numbered by the trail loop. */
    trail: z.boolean().default(false),
    round: count,
    miners: z.array(patrolMinerStateSchema).max(OPERATOR_LIMITS.miners),
  })
  .strict();
export type PatrolChainRound = z.infer<typeof patrolChainRoundSchema>;

export const patrolStateSchema = z
  .object({
    validator: id,
    /** Epoch ms of publication. */
    at: epochMs,
    /** The chain of the main round (`round`, `miners`); states from before it are Bittensor's. */
    chain: z.enum(CHAINS).default('bittensor'),
    /** The last round played. */
    round: count,
    miners: z.array(patrolMinerStateSchema).max(OPERATOR_LIMITS.miners),
    /**
     * The last round on each other chain (Ethereum), kept until that chain plays again: its
     * scores and rejections are its own (a miner's Ethereum rejection never shows as a Bittensor one).
     */
    otherChains: z.array(patrolChainRoundSchema).max(CHAINS.length).default([]),
    /** Null until weights were set on chain once by this process. */
    weights: chainWeightsStateSchema.nullable(),
  })
  .strict();
export type PatrolState = z.infer<typeof patrolStateSchema>;

/** A BitDefense miner's scores of the settled epoch (services/defense/rewards.ts MinerScore). */
export const defenseMinerStateSchema = z
  .object({
    miner: id,
    txs: count,
    accuracy: share,
    l99Ms: z.number().nonnegative(),
    score: z.number().nonnegative(),
    /** Its share of the published weights. */
    share,
    holdsRecall: ratio,
    violatedRecall: ratio,
    canaries: ratio,
  })
  .strict();
export type DefenseMinerState = z.infer<typeof defenseMinerStateSchema>;

export const defenseStateSchema = z
  .object({
    validator: id,
    at: epochMs,
    /** The running epoch, when it started and how long epochs last. */
    epoch: count,
    epochStartedAt: epochMs,
    epochMs,
    /** The epoch `miners` are scored on (the last finished one; the running one before the first ends). */
    scoredEpoch: count,
    miners: z.array(defenseMinerStateSchema).max(OPERATOR_LIMITS.miners),
  })
  .strict();
export type DefenseState = z.infer<typeof defenseStateSchema>;

export const OPERATOR_SCHEMAS = { patrol: patrolStateSchema, defense: defenseStateSchema } as const;
export type OperatorKind = keyof typeof OPERATOR_SCHEMAS;
