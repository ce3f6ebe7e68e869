/**
 * Vigil's wire contract: every message and key that crosses Redis, in one folder. A miner or
 * validator written in another language reads these files to learn the protocol; each message is
 * a zod schema (field by field, with comments) whose TypeScript type is inferred from it, and
 * every receiver parses what arrives with it.
 *
 *   keys.ts     every queue, key and channel name
 *   model.ts    the shared vocabulary: chains, node/relationship types, severities, evidence, edges
 *   ids.ts      identities derived from evidence (relationship, alert, ingest job)
 *   signing.ts  how miners sign: RFC 8785 canonical JSON, blake2-256, sr25519 (Patrol and defense)
 *   patrol.ts   Patrol Challenge and Answer, its size caps, the answer's signature, score history entries
 *   defense.ts  BitDefense Challenge and Answer, Heartbeat, PublishedWeights, PauseClaim, AlertEvent
 *   trail.ts    TrailRequest: a decided violation's attacker addresses, defense validator to Patrol validator
 *   operators.ts  what validators publish for subnet operators (Patrol round, defense epoch)
 *   ingest.ts   the `ingest` queue's SubgraphJob and FindingJob, the nodes-and-edges schema Patrol
 *               answers share, and the checks a subgraph must pass
 *   parse.ts    parsing with rejections that name the field
 *
 * Patrol and defense both name a `Challenge` and an `Answer`: import them from their own file,
 * or through the namespaces below.
 */
export * as defense from './defense.ts';
export * from './ids.ts';
export * as ingest from './ingest.ts';
export * as operators from './operators.ts';
export * from './keys.ts';
export * from './model.ts';
export * from './parse.ts';
export * as patrol from './patrol.ts';
export * as signing from './signing.ts';
export * as trail from './trail.ts';
