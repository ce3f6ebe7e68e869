import type { KeyringPair } from '@polkadot/keyring/types';
import { z } from 'zod';
import { JOB_LIMITS, subgraphContentSchema } from './ingest.ts';
import { blockNumberSchema, ethAddressSchema } from './model.ts';
import { formatIssues } from './parse.ts';
import { signValue, signatureValid } from './signing.ts';

/**
 * What a Patrol validator asks and a miner answers, over Redis streams of the miner's own (one
 * writer, one reader; a miner's ACL user reaches no other miner's): the validator appends a
 * `Challenge` to keys.ts patrolChallengeStream(prefix, miner), the miner appends its `Answer` to
 * the challenge's `replyTo`, keys.ts patrolAnswerStream(prefix, validator, miner). Each entry's
 * field `m` holds the message's JSON. A challenge names its chain (required: miners and
 * validators ship together); both chains' challenges come on the same per-miner streams.
 */
const challengeCommon = {
  id: z.string().min(1),
  round: z.number().int().nonnegative(),
  validator: z.string().min(1),
  /** The miner this challenge is for; an answer for it must be signed by this hotkey. */
  miner: z.string().min(1),
  depth: z.number().int().min(1).max(6),
  /** Epoch ms after which the validator no longer accepts an answer. */
  deadline: z.number().int(),
  /** The stream the answer goes to: keys.ts patrolAnswerStream(prefix, validator, miner). */
  replyTo: z.string().min(1),
};

/**
 * Bittensor: build the subgraph around `target` (ss58) from the events of blocks
 * [targetBlock - window, min(targetBlock + window, maxBlock)], to `depth` hops either way.
 */
export const bittensorChallengeSchema = z
  .object({
    ...challengeCommon,
    chain: z.literal('bittensor'),
    target: z.string().min(1),
    targetBlock: z.number().int().nonnegative(),
    window: z.number().int().positive(),
    maxBlock: z.number().int().nonnegative(),
  })
  .strict();
export type BittensorChallenge = z.infer<typeof bittensorChallengeSchema>;

/** The widest Ethereum window a challenge may ask for (blocks, both ends included). */
export const ETHEREUM_MAX_WINDOW = 5_000;

/** Which edges a walk follows from an address: `in` = who paid or deployed it, `out` = where it sent. */
export const DIRECTIONS = ['in', 'out', 'both'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/**
 * Ethereum: build the subgraph around `target` from blocks [fromBlock, toBlock] (both included,
 * at most ETHEREUM_MAX_WINDOW), to `depth` hops, following edges in `direction` from the target
 * outwards (absent = both): `in` walks edges backwards (sender ← receiver: who funded it), `out`
 * forwards (where the proceeds go). Edges are TRANSFER (native ETH: the tx's value and internal
 * calls' value from callTracer; ERC-20 Transfer logs of any contract) and DEPLOYED (deployer →
 * contract), each with its evidence (protocol/model.ts); ids in protocol/ids.ts.
 */
export const ethereumChallengeSchema = z
  .object({
    ...challengeCommon,
    chain: z.literal('ethereum'),
    target: ethAddressSchema,
    fromBlock: blockNumberSchema,
    toBlock: blockNumberSchema,
    direction: z.enum(DIRECTIONS).optional(),
  })
  .strict();
export type EthereumChallenge = z.infer<typeof ethereumChallengeSchema>;

export const challengeSchema = z
  .discriminatedUnion('chain', [bittensorChallengeSchema, ethereumChallengeSchema])
  .superRefine((c, ctx) => {
    if (c.chain !== 'ethereum') return;
    if (c.toBlock < c.fromBlock)
      ctx.addIssue({
        code: 'custom',
        path: ['toBlock'],
        message: `must be at least fromBlock (${c.fromBlock})`,
      });
    else if (c.toBlock - c.fromBlock + 1 > ETHEREUM_MAX_WINDOW)
      ctx.addIssue({
        code: 'custom',
        path: ['toBlock'],
        message: `window of ${c.toBlock - c.fromBlock + 1} blocks exceeds the cap of ${ETHEREUM_MAX_WINDOW}`,
      });
  });
export type Challenge = z.infer<typeof challengeSchema>;

/** The blocks a challenge covers, both ends included. */
export function challengeWindow(
  c:
    | Pick<BittensorChallenge, 'targetBlock' | 'window' | 'maxBlock'>
    | Pick<EthereumChallenge, 'chain' | 'fromBlock' | 'toBlock'>,
): { from: number; to: number } {
  if ('fromBlock' in c) return { from: c.fromBlock, to: c.toBlock };
  return { from: Math.max(0, c.targetBlock - c.window), to: Math.min(c.targetBlock + c.window, c.maxBlock) };
}

/** The direction an Ethereum challenge walks (absent = both). */
export const challengeDirection = (c: Pick<EthereumChallenge, 'direction'>): Direction =>
  c.direction ?? 'both';

/**
 * The subgraph a miner answers with: the ingest job's own nodes-and-edges schema (one definition,
 * protocol/ingest.ts), so an answer the validator accepts is one the ingest worker can store.
 */
export const subgraphSchema = subgraphContentSchema;
export type Subgraph = z.infer<typeof subgraphSchema>;

/**
 * The most one answer may hold, checked on the raw message before anything else (parsing,
 * canonical JSON, hashing, the signature, the chain): a 200,000-edge answer was hashed and walked
 * first, and held a round for 16 s instead of 0.3 s.
 * - edges: half of an ingest job's cap (JOB_LIMITS.edges, 50,000), so an accepted answer always
 *   fits one job (one Neo4j transaction), and verifying it stays near a second at the 20,000
 *   edges/s the validator reaches on a warm cache. A depth-3 window of 101 blocks around even a
 *   busy exchange wallet holds far fewer.
 * - nodes: an answer must be connected to its target, so it has at most one node more than edges.
 * - bytes: the answer's JSON; 25,000 edges of the widest evidence (~400 bytes) and their nodes
 *   (~70 bytes) make ~12 MB, and an ingest job (JOB_LIMITS.bytes, 16 MiB) adds under 1 KiB to the
 *   answer's nodes and edges. Measured by a walk that stops as soon as the cap is passed.
 */
export const ANSWER_LIMITS = {
  edges: JOB_LIMITS.edges / 2,
  nodes: JOB_LIMITS.edges / 2 + 1,
  bytes: 12 * 1024 * 1024,
} as const;

export const answerSchema = z
  .object({
    challengeId: z.string().min(1),
    /** The answering miner's hotkey (ss58); must be the challenge's `miner`. */
    miner: z.string().min(1),
    subgraph: subgraphSchema,
    /** sr25519 signature by `miner` of {challengeId, miner, subgraph}, as protocol/signing.ts says (RFC 8785, blake2-256), 0x hex. */
    signature: z.string(),
    /** Epoch ms when the miner sent it (the validator times answers by their arrival, not this). */
    sentAt: z.number(),
  })
  .strict();
export type Answer = z.infer<typeof answerSchema>;

/** A Redis list entry of keys.ts patrolScoresKey: one round's score in [0, 1], as a decimal string. */
export const scoreEntrySchema = z.string().trim().min(1).pipe(z.coerce.number().min(0).max(1));

/** What a Patrol answer signs (protocol/signing.ts): everything the validator uses from it. */
const signedPart = (a: Pick<Answer, 'challengeId' | 'miner' | 'subgraph'>) => ({
  challengeId: a.challengeId,
  miner: a.miner,
  subgraph: a.subgraph,
});

export function signAnswer(pair: KeyringPair, challengeId: string, subgraph: Subgraph): Answer {
  const unsigned = { challengeId, miner: pair.address, subgraph };
  return { ...unsigned, signature: signValue(pair, signedPart(unsigned)), sentAt: Date.now() };
}

export function answerSignatureValid(a: Answer): boolean {
  return signatureValid(signedPart(a), a.signature, a.miner);
}

/**
 * JSON size of `value` in bytes (UTF-8, without the escapes a string may need), counted by a walk
 * that stops once past `limit`: it costs a visit per value up to the cap, never a serialisation.
 * Returns a number > limit when the cap is passed.
 */
export function jsonSizeWithin(value: unknown, limit: number): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && size <= limit) {
    const v = stack.pop();
    if (typeof v === 'string') size += Buffer.byteLength(v) + 2;
    else if (typeof v === 'number' || typeof v === 'boolean') size += String(v).length;
    else if (v === null || v === undefined) size += 4;
    else if (Array.isArray(v)) {
      size += 1 + v.length;
      for (const x of v) stack.push(x);
    } else if (typeof v === 'object') {
      size += 1;
      for (const k in v) {
        size += Buffer.byteLength(k) + 4;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  return size;
}

/**
 * Whether an answer, as it arrived, stays within ANSWER_LIMITS: counts first (free), then its
 * bytes (`rawBytes` when the transport knows them, else the bounded walk). Returns the reason a
 * miner operator reads, or null. Runs before the schema, so it reads the message defensively.
 */
export function answerSizeProblem(data: unknown, rawBytes?: number): string | null {
  const sub = (data as { subgraph?: { nodes?: unknown; edges?: unknown } } | null)?.subgraph;
  for (const field of ['edges', 'nodes'] as const) {
    const list = sub?.[field];
    if (Array.isArray(list) && list.length > ANSWER_LIMITS[field])
      return `answer too large: ${list.length} ${field}, over the cap of ${ANSWER_LIMITS[field]} per answer`;
  }
  const bytes = rawBytes ?? jsonSizeWithin(data, ANSWER_LIMITS.bytes);
  if (bytes > ANSWER_LIMITS.bytes)
    return `answer too large: ${rawBytes === undefined ? 'its JSON is' : `${bytes} bytes,`} over the cap of ${ANSWER_LIMITS.bytes} bytes per answer`;
  return null;
}

/** Why an answer was refused before any chain work: a metric label, and the sentence for the log. */
export type AnswerRejection =
  | 'oversize'
  | 'malformed'
  | 'wrong_challenge'
  | 'impersonation'
  | 'bad_signature';
export type AnswerCheck = { ok: true; answer: Answer } | { ok: false; kind: AnswerRejection; reason: string };

/**
 * The one check of an arriving answer, before any chain work: its size (ANSWER_LIMITS, before
 * anything else), its shape (field named, by the ingest job's own schema), that it
 * answers the expected challenge as the challenged miner, and its signature. The validator runs it
 * on arrival; verify.ts's content checks then trust it.
 */
export function checkAnswer(
  data: unknown,
  expected: { challengeId: string; miner: string },
  rawBytes?: number,
): AnswerCheck {
  // Size first: everything after it costs time in proportion to the answer.
  const tooLarge = answerSizeProblem(data, rawBytes);
  if (tooLarge) return { ok: false, kind: 'oversize', reason: tooLarge };
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
