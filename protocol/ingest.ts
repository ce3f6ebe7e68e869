import { decodeAddress } from '@polkadot/util-crypto';
import { isAddress } from 'ethers';
import { z } from 'zod';
import { InvalidPayloadError } from '../common/errors.ts';
import {
  CHAINS,
  type Chain,
  type GraphEdge,
  type GraphNode,
  SEVERITIES,
  blockNumberSchema,
  edgeSchema,
  hashSchema,
  nodeSchema,
  normalizeAddress,
} from './model.ts';
import { formatIssues } from './parse.ts';

/**
 * Payloads of the `ingest` queue (protocol/keys.ts INGEST_QUEUE). Every job is validated here
 * before anything is written; a failure lists each problem with the path of the field it concerns.
 */

const isoTime = z.string().datetime({ offset: true });

/** A neuron as the queue names it: its hotkey, and its uid on the subnet when known. */
const neuron = z
  .object({ hotkey: z.string().min(1), uid: z.number().int().nonnegative().optional() })
  .strict();

/**
 * The nodes and edges of a subgraph as the graph stores them: the ONE definition that a Patrol
 * answer's `subgraph` (protocol/patrol.ts) and a `subgraph` job share, so an answer that parses
 * here can be stored, and an extra key or a `null` where a value belongs is refused at arrival.
 */
export const subgraphContentSchema = z
  .object({ nodes: z.array(nodeSchema).min(1), edges: z.array(edgeSchema) })
  .strict();

export const subgraphJobSchema = subgraphContentSchema
  .extend({
    kind: z.literal('subgraph'),
    chain: z.enum(CHAINS),
    /** Unique per accepted answer, e.g. `<round>:<miner hotkey>`; the job id derives from it. */
    submissionId: z.string().min(1).max(200),
    target: z.string().min(1),
    window: z.object({ from: blockNumberSchema, to: blockNumberSchema }).strict().optional(),
    miner: neuron,
    validator: neuron,
    acceptedAt: isoTime,
  })
  .strict();

export const findingJobSchema = z
  .object({
    kind: z.literal('finding'),
    chain: z.literal('ethereum'),
    chainId: z.number().int().positive(),
    severity: z.enum(SEVERITIES),
    invariant: z
      .object({
        id: z.string().min(1),
        contract: z.string(),
        kind: z.string().min(1),
        description: z.string().default(''),
      })
      .strict(),
    tx: z
      .object({
        hash: hashSchema,
        from: z.string(),
        to: z.string().nullable(),
        nonce: z.number().int().nonnegative(),
        blockNumber: blockNumberSchema.nullable().default(null),
      })
      .strict(),
    observed: z.object({ before: z.string().nullable(), after: z.string().nullable() }).strict(),
    /**
     * Contracts the flagged tx calls that are not the protected one (lower-case 0x addresses; see
     * attackerContractsOf). Findings from before this field carry none.
     */
    attackerContracts: z
      .array(z.string().regex(/^0x[0-9a-f]{40}$/, 'expected a lower-case 0x-prefixed 20-byte hex address'))
      .max(16)
      .default([]),
    consensus: z
      .object({
        violated: z.number().int().nonnegative(),
        total: z.number().int().positive(),
        miners: z.array(z.string()),
      })
      .strict(),
    validator: neuron,
    raisedAt: isoTime,
  })
  .strict();

/**
 * The contracts a flagged tx calls that are not protected: its `to` unless that is one of the
 * protected contracts (the invariant's, and those its pause actions pause) or the sender itself
 * (a creation has no `to`). Lower-case. Also the trail's callee (services/defense/trail.ts).
 */
export function attackerContractsOf(
  tx: { from: string; to?: string | null },
  protectedContracts: readonly string[],
): string[] {
  const to = tx.to?.toLowerCase();
  const guarded = new Set(protectedContracts.map((c) => c.toLowerCase()));
  if (!to || guarded.has(to) || to === tx.from.toLowerCase()) return [];
  return [to];
}

/** What a defense action can end as (docs/architecture.md "Action outcomes"). */
export const OUTCOME_STATUSES = {
  pause: ['sent', 'landed-first', 'landed-after', 'reverted', 'not-mined', 'failed'],
  webhook: ['delivered', 'failed'],
  telegram: ['delivered', 'failed'],
} as const;
export type OutcomeKind = keyof typeof OUTCOME_STATUSES;

/**
 * How one defense action of an alert ended, as the validator saw it. One per (alert, action
 * index); a pause is recorded when sent, then again when its receipt decides how it landed.
 */
export const outcomeJobSchema = z
  .object({
    kind: z.literal('outcome'),
    alertId: z.string().min(1).max(300),
    /** The action's position in the invariant's actions (an invariant may have two webhooks). */
    index: z.number().int().nonnegative().max(63),
    action: z.enum(['pause', 'webhook', 'telegram']),
    status: z.string().min(1),
    txHash: hashSchema.nullable().default(null),
    landedFirst: z.boolean().nullable().default(null),
    /** Human-readable: the HTTP status and attempts, the block, or why it failed. Never a secret. */
    detail: z.string().max(500).default(''),
    validator: neuron,
    at: isoTime,
  })
  .strict();

export type SubgraphJob = z.infer<typeof subgraphJobSchema>;
export type FindingJob = z.infer<typeof findingJobSchema>;
export type OutcomeJob = z.infer<typeof outcomeJobSchema>;
export type IngestJob = SubgraphJob | FindingJob | OutcomeJob;

/**
 * ss58 addresses already found valid. Decoding one (base58 and a blake2 checksum) costs ~15 µs,
 * 80% of parsing a job, and the same wallets come back job after job. Bounded: emptied when full.
 */
const validSs58 = new Set<string>();
const VALID_SS58_CAP = 500_000;

export function isValidAddress(chain: Chain, address: string): boolean {
  if (chain === 'ethereum') return isAddress(address);
  if (validSs58.has(address)) return true;
  // decodeAddress takes any hex as raw bytes: only a 32-byte public key is a Bittensor account
  // (a pasted 20-byte Ethereum address would otherwise pass, and match nothing).
  if (address.startsWith('0x') && address.length !== 66) return false;
  try {
    decodeAddress(address);
  } catch {
    return false;
  }
  if (validSs58.size >= VALID_SS58_CAP) validSs58.clear();
  validSs58.add(address);
  return true;
}

/**
 * The most one subgraph job may hold. A job is written in one Neo4j transaction (all or nothing,
 * graph/ingest.ts), whose memory in Neo4j grows with the job; larger answers are split by the
 * sender. Checked at enqueue and again by the worker (a job put on the queue by other means).
 */
export const JOB_LIMITS = { edges: 50_000, nodes: 100_000, bytes: 16 * 1024 * 1024 } as const;

/** Throws InvalidPayloadError naming each cap a job exceeds, with its size; counts first (cheap). */
export function checkJobSize(data: unknown): void {
  const d = data as { edges?: unknown; nodes?: unknown } | null;
  const problems: string[] = [];
  for (const field of ['edges', 'nodes'] as const) {
    const list = d?.[field];
    if (Array.isArray(list) && list.length > JOB_LIMITS[field]) {
      problems.push(
        `${field}: ${list.length} exceed the cap of ${JOB_LIMITS[field]} per job; split the answer`,
      );
    }
  }
  if (problems.length === 0) {
    const bytes = Buffer.byteLength(JSON.stringify(data) ?? '');
    if (bytes > JOB_LIMITS.bytes) {
      problems.push(
        `job: ${bytes} bytes exceed the cap of ${JOB_LIMITS.bytes} bytes per job; split the answer`,
      );
    }
  }
  if (problems.length > 0) throw new InvalidPayloadError(problems);
}

/**
 * Parses and checks a job: shape, addresses, and that every edge joins nodes of the payload
 * and carries the evidence its identity needs. Returns a normalised copy (lower-cased 0x addresses).
 * Throws InvalidPayloadError listing every problem found.
 */
export function parseIngestJob(data: unknown): IngestJob {
  const kind = (data as { kind?: unknown } | null)?.kind;
  if (kind === 'finding') return parseFinding(data);
  if (kind === 'outcome') return parseOutcome(data);
  if (kind !== 'subgraph') {
    throw new InvalidPayloadError([
      `kind: expected "subgraph", "finding" or "outcome", got ${JSON.stringify(kind)}`,
    ]);
  }
  checkJobSize(data);
  const parsed = subgraphJobSchema.safeParse(data);
  if (!parsed.success) throw new InvalidPayloadError(formatIssues(parsed.error));
  return storableSubgraphJob(parsed.data);
}

const subgraphJobWrapperSchema = subgraphJobSchema.omit({ nodes: true, edges: true });

/**
 * parseIngestJob for a job whose nodes and edges were already parsed by subgraphContentSchema
 * (a Patrol answer, on arrival): the same checks, less parsing every node and edge a second time
 * with the same schema (~30 % of a warm verification). The Patrol validator runs it on the job it
 * is about to enqueue, so what it accepts is what the worker stores. Throws as parseIngestJob does.
 */
export function checkBuiltSubgraphJob(job: SubgraphJob): SubgraphJob {
  checkJobSize(job);
  const { nodes: _nodes, edges: _edges, ...wrapper } = job;
  const parsed = subgraphJobWrapperSchema.safeParse(wrapper);
  if (!parsed.success) throw new InvalidPayloadError(formatIssues(parsed.error));
  return storableSubgraphJob(job);
}

/** The checks beyond shape (checkSubgraph), and the normalised job. */
function storableSubgraphJob(job: SubgraphJob): SubgraphJob {
  const checked = checkSubgraph(job.chain, job.target, job.nodes, job.edges);
  if (checked.problems.length > 0) throw new InvalidPayloadError(checked.problems);
  return { ...job, target: checked.target, nodes: checked.nodes, edges: checked.edges };
}

/**
 * What a subgraph must be to be stored, beyond its shape: valid addresses, no duplicate nodes,
 * the target among the nodes, every edge between nodes and with the evidence its identity and type
 * need. Shared by the ingest worker and the Patrol validator (an answer it accepts can be stored).
 * Returns the problems found by field path, and a normalised copy (lower-cased 0x addresses).
 */
export function checkSubgraph(
  chain: Chain,
  targetAddress: string,
  inputNodes: GraphNode[],
  inputEdges: GraphEdge[],
): { problems: string[]; target: string; nodes: GraphNode[]; edges: GraphEdge[] } {
  const problems: string[] = [];
  const target = normalizeAddress(chain, targetAddress);
  if (!isValidAddress(chain, targetAddress))
    problems.push(`target: "${targetAddress}" is not a valid ${chain} address`);
  const known = new Set<string>();
  const nodes = inputNodes.map((n, i) => {
    const address = normalizeAddress(chain, n.address);
    if (!isValidAddress(chain, n.address)) {
      problems.push(`nodes.${i}.address: "${n.address}" is not a valid ${chain} address`);
    } else if (known.has(address)) {
      problems.push(`nodes.${i}.address: duplicate node ${n.address}`);
    } else known.add(address);
    return { ...n, address };
  });
  if (!known.has(target)) problems.push(`target: ${targetAddress} is not among the nodes`);
  // Endpoints that are known nodes were validated above: only strangers need the (costly) check.
  const endpoint = (where: string, a: string) => {
    const normalized = normalizeAddress(chain, a);
    if (known.has(normalized)) return normalized;
    if (isValidAddress(chain, a)) problems.push(`${where}: ${a} is not among the nodes`);
    else problems.push(`${where}: "${a}" is not a valid ${chain} address`);
    return normalized;
  };
  const edges = inputEdges.map((e, i) => {
    const from = endpoint(`edges.${i}.from`, e.from);
    const to = endpoint(`edges.${i}.to`, e.to);
    const ev = e.evidence;
    if (chain === 'bittensor' && e.type !== 'OWNS_HOTKEY' && ev.eventIndex === undefined) {
      problems.push(`edges.${i}.evidence.eventIndex: required for a ${e.type} edge on bittensor`);
    }
    if (chain === 'ethereum') problems.push(...ethereumEdgeProblems(e, `edges.${i}`));
    else if (ev.txHash !== undefined || ev.callPath !== undefined || ev.token !== undefined)
      problems.push(`edges.${i}.evidence: txHash, callPath and token are Ethereum evidence, not ${chain}`);
    if (AMOUNT_REQUIRED.has(e.type) && ev.amount === undefined) {
      problems.push(`edges.${i}.evidence.amount: required for a ${e.type} edge`);
    }
    return { ...e, from, to };
  });
  return { problems, target, nodes, edges };
}

const AMOUNT_REQUIRED = new Set(['TRANSFER', 'STAKE_ADD', 'STAKE_REMOVE', 'STAKE_TRANSFER']);

/**
 * What an Ethereum edge's evidence must hold for its identity (protocol/ids.ts) to mean one fact:
 * a TRANSFER is either an ERC-20 log (logIndex and token) or native ETH (callPath, no token); a
 * DEPLOYED edge moves no value. Only TRANSFER and DEPLOYED exist on Ethereum.
 */
function ethereumEdgeProblems(e: GraphEdge, at: string): string[] {
  const ev = e.evidence;
  const problems: string[] = [];
  if (ev.txHash === undefined) problems.push(`${at}.evidence.txHash: required on ethereum`);
  if (e.type === 'TRANSFER') {
    if ((ev.logIndex === undefined) === (ev.callPath === undefined))
      problems.push(
        `${at}.evidence: an ethereum TRANSFER needs exactly one of logIndex (ERC-20) and callPath (native ETH)`,
      );
    else if (ev.logIndex !== undefined && ev.token === undefined)
      problems.push(`${at}.evidence.token: required for an ERC-20 TRANSFER (logIndex given)`);
    else if (ev.callPath !== undefined && ev.token !== undefined)
      problems.push(`${at}.evidence.token: must be absent for a native ETH TRANSFER (callPath given)`);
  } else if (e.type === 'DEPLOYED') {
    for (const k of ['amount', 'logIndex', 'callPath', 'token'] as const)
      if (ev[k] !== undefined) problems.push(`${at}.evidence.${k}: a DEPLOYED edge moves no value`);
  } else problems.push(`${at}.type: ${e.type} does not exist on ethereum (TRANSFER, DEPLOYED)`);
  return problems;
}

function parseFinding(data: unknown): FindingJob {
  const parsed = findingJobSchema.safeParse(data);
  if (!parsed.success) throw new InvalidPayloadError(formatIssues(parsed.error));
  const f = parsed.data;
  const problems: string[] = [];
  for (const [where, a] of [
    ['invariant.contract', f.invariant.contract],
    ['tx.from', f.tx.from],
    ['tx.to', f.tx.to],
  ] as const) {
    if (a !== null && !isAddress(a)) problems.push(`${where}: "${a}" is not a valid ethereum address`);
  }
  if (f.consensus.violated > f.consensus.total)
    problems.push('consensus.violated: larger than consensus.total');
  if (problems.length > 0) throw new InvalidPayloadError(problems);
  return {
    ...f,
    invariant: { ...f.invariant, contract: f.invariant.contract.toLowerCase() },
    tx: {
      ...f.tx,
      hash: f.tx.hash.toLowerCase(),
      from: f.tx.from.toLowerCase(),
      to: f.tx.to?.toLowerCase() ?? null,
    },
  };
}

function parseOutcome(data: unknown): OutcomeJob {
  const parsed = outcomeJobSchema.safeParse(data);
  if (!parsed.success) throw new InvalidPayloadError(formatIssues(parsed.error));
  const o = parsed.data;
  const problems: string[] = [];
  const allowed: readonly string[] = OUTCOME_STATUSES[o.action];
  if (!allowed.includes(o.status))
    problems.push(`status: "${o.status}" is not an outcome of a ${o.action} (${allowed.join(', ')})`);
  if (o.action !== 'pause' && (o.txHash !== null || o.landedFirst !== null))
    problems.push(`txHash, landedFirst: only a pause has them, not a ${o.action}`);
  if (o.action === 'pause' && o.status !== 'failed' && o.txHash === null)
    problems.push(`txHash: required for a pause that was ${o.status}`);
  else if (o.action === 'pause' && o.status !== 'sent' && o.status !== 'failed') {
    // Mined or not: only a pause that landed first, and did not revert, protected anything.
    const first = o.status === 'landed-first';
    if (o.landedFirst !== first) problems.push(`landedFirst: must be ${first} for a pause ${o.status}`);
  }
  if (problems.length > 0) throw new InvalidPayloadError(problems);
  return { ...o, txHash: o.txHash?.toLowerCase() ?? null };
}
