import type { Graph } from '../../graph/driver.ts';
import type { Role } from './auth.ts';

/**
 * Per-request context: the handles resolvers need, nothing global. Features that need more
 * (a queue, a pub/sub) add optional fields here and their wiring in server.ts.
 */
export interface ApiContext {
  graph: Graph;
  version: string;
  /** The caller's role from its API key (services/api/auth.ts); mutations call requireWrite(ctx.role). */
  role: Role;
}
