import type { KeyringPair } from '@polkadot/keyring/types';
import { u8aToHex } from '@polkadot/util';
import { blake2AsU8a, decodeAddress, sr25519Verify } from '@polkadot/util-crypto';
import { z } from 'zod';
import { edgeSchema, nodeSchema } from './model.ts';
import { formatIssues } from './parse.ts';

/**
 * What a Patrol validator asks and a miner answers, over Redis streams of the miner's own (one
 * writer, one reader; a miner's ACL user reaches no other miner's): the validator appends a
 * `Challenge` to keys.ts patrolChallengeStream(prefix, miner), the miner appends its `Answer` to
 * the challenge's `replyTo`, keys.ts patrolAnswerStream(prefix, validator, miner). Each entry's
 * field `m` holds the message's JSON.
 * Challenge: build the subgraph around `target` from the events of blocks
 * [targetBlock - window, min(targetBlock + window, maxBlock)], to `depth` hops.
 */
export const challengeSchema = z
  .object({
    id: z.string().min(1),
    round: z.number().int().nonnegative(),
    validator: z.string().min(1),
    /** The miner this challenge is for; an answer for it must be signed by this hotkey. */
    miner: z.string().min(1),
    target: z.string().min(1),
    targetBlock: z.number().int().nonnegative(),
    window: z.number().int().positive(),
    maxBlock: z.number().int().nonnegative(),
    depth: z.number().int().min(1).max(6),
    /** Epoch ms after which the validator no longer accepts an answer. */
    deadline: z.number().int(),
    /** The stream the answer goes to: keys.ts patrolAnswerStream(prefix, validator, miner). */
    replyTo: z.string().min(1),
  })
  .strict();
export type Challenge = z.infer<typeof challengeSchema>;

export function challengeWindow(c: Pick<Challenge, 'targetBlock' | 'window' | 'maxBlock'>): {
  from: number;
  to: number;
} {
  return { from: Math.max(0, c.targetBlock - c.window), to: Math.min(c.targetBlock + c.window, c.maxBlock) };
}

/** The subgraph a miner answers with: the same node and edge shapes the ingest queue stores. */
export const subgraphSchema = z.object({ nodes: z.array(nodeSchema), edges: z.array(edgeSchema) }).strict();
export type Subgraph = z.infer<typeof subgraphSchema>;

export const answerSchema = z
  .object({
    challengeId: z.string().min(1),
    /** The answering miner's hotkey (ss58); must be the challenge's `miner`. */
    miner: z.string().min(1),
    subgraph: subgraphSchema,
    /** sr25519 signature by `miner` over blake2-256(canonicalJson({challengeId, miner, subgraph})), 0x hex. */
    signature: z.string(),
    /** Epoch ms when the miner sent it (the validator times answers by their arrival, not this). */
    sentAt: z.number(),
  })
  .strict();
export type Answer = z.infer<typeof answerSchema>;

/** A Redis list entry of keys.ts patrolScoresKey: one round's score in [0, 1], as a decimal string. */
export const scoreEntrySchema = z.string().trim().min(1).pipe(z.coerce.number().min(0).max(1));

/**
 * JSON with sorted keys, so signer and verifier hash the same bytes whatever the transport did.
 * Written directly (no intermediate sorted copies): it runs over every edge of every answer.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const keys = Object.keys(value).sort();
  let out = '';
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined || typeof v === 'function') continue;
    out += `${out ? ',' : ''}${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `{${out}}`;
}

/**
 * What is signed: the blake2-256 digest of the canonical answer, so verifying costs one hash of
 * the answer and one sr25519 check whatever its size.
 */
const signedDigest = (a: Pick<Answer, 'challengeId' | 'miner' | 'subgraph'>) =>
  blake2AsU8a(canonicalJson({ challengeId: a.challengeId, miner: a.miner, subgraph: a.subgraph }), 256);

export function signAnswer(pair: KeyringPair, challengeId: string, subgraph: Subgraph): Answer {
  const unsigned = { challengeId, miner: pair.address, subgraph };
  return { ...unsigned, signature: u8aToHex(pair.sign(signedDigest(unsigned))), sentAt: Date.now() };
}

export function answerSignatureValid(a: Answer): boolean {
  try {
    return sr25519Verify(signedDigest(a), a.signature, decodeAddress(a.miner));
  } catch {
    return false;
  }
}

/** Why an answer was refused before any chain work: a metric label, and the sentence for the log. */
export type AnswerRejection = 'malformed' | 'wrong_challenge' | 'impersonation' | 'bad_signature';
export type AnswerCheck = { ok: true; answer: Answer } | { ok: false; kind: AnswerRejection; reason: string };

/**
 * The one check of an arriving answer, before any chain work: its shape (field named), that it
 * answers the expected challenge as the challenged miner, and its signature. The validator runs it
 * on arrival; verify.ts's content checks then trust it.
 */
export function checkAnswer(data: unknown, expected: { challengeId: string; miner: string }): AnswerCheck {
  const parsed = answerSchema.safeParse(data);
  if (!parsed.success)
    return {
      ok: false,
      kind: 'malformed',
      reason: `malformed answer: ${formatIssues(parsed.error).join('; ')}`,
    };
  const answer = parsed.data;
  if (answer.challengeId !== expected.challengeId) {
    const reason = `answer names challenge ${answer.challengeId}, expected ${expected.challengeId}`;
    return { ok: false, kind: 'wrong_challenge', reason };
  }
  if (answer.miner !== expected.miner) {
    const reason = `answer for miner ${expected.miner} came signed as ${answer.miner} (impersonation)`;
    return { ok: false, kind: 'impersonation', reason };
  }
  if (!answer.signature || !answerSignatureValid(answer))
    return {
      ok: false,
      kind: 'bad_signature',
      reason: 'signature missing or not valid for the miner hotkey',
    };
  return { ok: true, answer };
}
