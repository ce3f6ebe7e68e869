import type { Redis } from 'ioredis';
import type { Logger } from '../../common/logger.ts';
import type { Graph } from '../../graph/driver.ts';
import type { NeighborMemory } from '../../graph/wallets/index.ts';
import type { AlertPubSub } from '../defense/alertFeed.ts';
import type { Role } from './auth.ts';
import type { Limits } from './limits.ts';
import type { RequestReads } from './requestReads.ts';

/** Where the API reads the validators' published state (queues/operatorState.ts). */
export interface OperatorSource {
  redis: Redis;
  prefix: string;
  log: Logger;
}

/**
 * Per-request context: the handles resolvers need, nothing global. Features that need more
 * (a queue, a pub/sub) add optional fields here and their wiring in server.ts.
 */
export interface ApiContext {
  graph: Graph;
  /** The API's memory of dense wallets' pages (graph/wallets), built once in createApi. */
  neighborMemory: NeighborMemory;
  /**
   * This request's reads, each once (services/api/requestReads.ts); set as a query or mutation
   * executes. A subscription's events run without them.
   */
  reads: RequestReads;
  version: string;
  /** The caller's role from its API key (services/api/auth.ts); mutations call requireWrite(ctx.role). */
  role: Role;
  /** Overrides of the query limits (services/api/limits.ts DEFAULT_LIMITS). */
  limits?: Partial<Limits>;
  /** Live alert events for the `alertRaised` subscription; absent when the API runs without Redis. */
  pubsub?: AlertPubSub;
  /** The validators' published state for `patrolValidators` / `defenseValidators`; absent without Redis. */
  operators?: OperatorSource;
  /** Who pays for the request (admission.ts callerOf); absent for the API's own warm-up. */
  caller?: string;
  /** The request's priced cost (limits.ts analyzeOperation), set before it runs. */
  cost?: number;
  /** When the request's time budget ends (ms since epoch; services/api/guards.ts useRequestBudget). */
  deadline?: number;
}
