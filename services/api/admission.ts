import { createHash } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import PQueue from 'p-queue';
import { Counter, Gauge, type Registry } from 'prom-client';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../../common/config.ts';
import type { Logger } from '../../common/logger.ts';
import type { Graph } from '../../graph/driver.ts';
import { userError } from './errors.ts';
import { createLane } from './lane.ts';

/**
 * Who may run what, once a request has passed the per-request limits (limits.ts, guards.ts):
 * - a cost budget per caller: each request spends its priced cost (limits.ts `analyzeOperation`)
 *   from the caller's budget for the current window (rate-limiter-flexible, in memory); once spent,
 *   the caller is refused with HTTP 429 and Retry-After until the window ends, while other callers
 *   are served as before;
 * - a lane for expensive requests: a request costing `expensiveCost` or more waits for one of
 *   `expensiveSlots` (p-queue), so however many callers send the heaviest requests allowed, at most
 *   that many run at once and cheap questions never queue behind them. A request that cannot start
 *   within its time budget, or finds `expensiveQueue` others waiting, is refused with HTTP 503;
 *   after a request ran t ms its slot rests `expensiveRest`·t ms (lane.ts: a duty cycle);
 * - while it runs, an expensive request has at most `expensiveNeo4jCalls` Neo4j statements in
 *   flight, any other `neo4jCallsPerRequest`: resolvers run side by side (4 aliased hub pages read
 *   400 degrees), and without a cap they take Neo4j's threads and the driver's connections from
 *   every other request.
 * Why: each request was bounded, but two loops of the heaviest allowed requests slowed every
 * investigator's p99 six-fold (docs/benchmarks.md, bench:abuse); the cost of a request is paid
 * mostly on the shared Neo4j and the API's single event loop.
 */
/** The settings, as config parses them (one definition: common/config.ts). */
export type AdmissionSettings = Config['api']['admission'];

export const DEFAULT_ADMISSION: AdmissionSettings = {
  costBudget: 100_000,
  costWindowSeconds: 60,
  expensiveCost: 1000,
  expensiveSlots: 1,
  expensiveQueue: 32,
  expensiveNeo4jCalls: 2,
  expensiveRest: 2,
  neo4jCallsPerRequest: 8,
};

/** `graph` with at most `calls` statements (query, read, write) of this request in flight. */
export function throttledGraph(graph: Graph, calls: number): Graph {
  const q = new PQueue({ concurrency: calls });
  return {
    driver: graph.driver,
    database: graph.database,
    query: (cypher, params, o) => q.add(() => graph.query(cypher, params, o)),
    read: (work, o) => q.add(() => graph.read(work, o)),
    write: (work, o) => q.add(() => graph.write(work, o)),
    verify: (o) => graph.verify(o),
    close: () => graph.close(),
  };
}

/**
 * A caller's identity for the budget: its API key (hashed: the map never holds keys) or, for an
 * anonymous request, the client's address. `undefined` is the API's own warm-up: not budgeted.
 * Behind a proxy every anonymous caller has the proxy's address: give investigators keys.
 */
export function callerOf(apiKey: string | undefined, address: string | undefined): string {
  if (apiKey) return `API key ${createHash('sha256').update(apiKey).digest('hex').slice(0, 8)}…`;
  return `address ${address ?? 'unknown'}`;
}

interface AdmissionContext {
  graph: Graph;
  /** Set by the context factory; absent for the API's own questions. */
  caller?: string;
  /** Set by useQueryLimits: the request's priced cost. */
  cost?: number;
}

/** A refusal ready to send: status, headers and JSON body (the shape yoga's errors have). */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** When the caller may ask again. */
  msBeforeNext: number;
}

// biome-ignore lint/suspicious/noExplicitAny: as yoga's Plugin
export interface Admission<ServerContext extends Record<string, any>> {
  plugin: Plugin<AdmissionContext, ServerContext>;
  /** A caller already over its cost budget, as its 429 (door.ts); absent when there is no budget. */
  spentRefusal?: (caller: string) => Promise<Refusal | null>;
}

// biome-ignore lint/suspicious/noExplicitAny: yoga's Plugin constrains its server context to Record<string, any>
export function createAdmission<ServerContext extends Record<string, any>>(
  settings: AdmissionSettings,
  opts: {
    waitMs: number;
    log: Logger;
    registry?: Registry;
    /** Who pays for a request (callerOf), read before it is parsed; undefined for the API's own. */
    callerOfRequest?: (request: Request, serverContext: ServerContext) => string | undefined;
  },
): Admission<ServerContext> {
  const budget =
    settings.costBudget > 0
      ? new RateLimiterMemory({ points: settings.costBudget, duration: settings.costWindowSeconds })
      : undefined;
  const lane = createLane({ slots: settings.expensiveSlots, restFactor: settings.expensiveRest });
  const refused = new Counter({
    name: 'vigil_api_requests_refused_total',
    help: 'GraphQL requests refused by admission: a caller over its cost budget, or the expensive lane full or too slow',
    labelNames: ['reason'],
    registers: opts.registry ? [opts.registry] : [],
  });
  new Gauge({
    name: 'vigil_api_expensive_lane',
    help: 'Expensive lane: slots running a request or resting after one (state=running), requests waiting for their lane (state=waiting)',
    labelNames: ['state'],
    registers: opts.registry ? [opts.registry] : [],
    collect() {
      this.set({ state: 'running' }, lane.busy);
      this.set({ state: 'waiting' }, lane.waiting);
    },
  });

  /** Spends `cost` of the caller's budget; a refusal names the budget and when it refills. */
  const spend = async (caller: string, cost: number) => {
    if (!budget) return undefined;
    try {
      await budget.consume(caller, cost);
      return undefined;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      refused.inc({ reason: 'cost_budget' });
      // Logged once per caller and window: when this request crossed the budget.
      if (res.consumedPoints - cost <= settings.costBudget)
        opts.log.warn(
          { caller, budget: settings.costBudget, windowSeconds: settings.costWindowSeconds, retryAfter },
          'API caller spent its cost budget: refused (429) until the window ends',
        );
      return userError(
        `cost budget spent: this caller (${caller}) may spend ${settings.costBudget} per ${settings.costWindowSeconds} s and this request costs ${cost}; retry after ${retryAfter} s`,
        'COST_BUDGET_SPENT',
        {
          cost,
          budget: settings.costBudget,
          windowSeconds: settings.costWindowSeconds,
          retryAfterSeconds: retryAfter,
          http: { status: 429, headers: { 'retry-after': String(retryAfter) } },
        },
      );
    }
  };

  const busy = (message: string, reason: string) => {
    refused.inc({ reason });
    return userError(message, 'EXPENSIVE_LANE_BUSY', {
      retryAfterSeconds: 1,
      http: { status: 503, headers: { 'retry-after': '1' } },
    });
  };

  /**
   * A caller already over its budget, as a 429 to send before its request is read, parsed or
   * priced (null: within budget). Refused floods kept the API at ~80 % of a core doing that work
   * (bench:abuse, quiet machine, 29,000 refusals in 20 s), which is what slowed the investigators;
   * the HTTP server asks this at its door (door.ts), before graphql-yoga, and onRequest below for
   * requests handed to yoga directly (yoga.fetch).
   */
  const spentRefusal = async (caller: string): Promise<Refusal | null> => {
    const used = budget ? await budget.get(caller) : null;
    if (!used || used.consumedPoints <= settings.costBudget) return null;
    const retryAfter = Math.max(1, Math.ceil(used.msBeforeNext / 1000));
    refused.inc({ reason: 'cost_budget' });
    const message = `cost budget spent: this caller (${caller}) may spend ${settings.costBudget} per ${settings.costWindowSeconds} s; retry after ${retryAfter} s`;
    const extensions = {
      code: 'COST_BUDGET_SPENT',
      budget: settings.costBudget,
      windowSeconds: settings.costWindowSeconds,
      retryAfterSeconds: retryAfter,
    };
    return {
      status: 429,
      headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(retryAfter) },
      body: JSON.stringify({ errors: [{ message, extensions }] }),
      msBeforeNext: used.msBeforeNext,
    };
  };

  const plugin: Plugin<AdmissionContext, ServerContext> = {
    async onRequest({ request, serverContext, fetchAPI, endResponse }) {
      if (!budget || !opts.callerOfRequest) return;
      const caller = opts.callerOfRequest(request, serverContext);
      if (caller === undefined) return;
      const refusal = await spentRefusal(caller);
      if (refusal)
        endResponse(
          new fetchAPI.Response(refusal.body, { status: refusal.status, headers: refusal.headers }),
        );
    },
    async onExecute({ args, executeFn, setExecuteFn, setResultAndStopExecution }) {
      const { caller, cost = 0 } = args.contextValue;
      if (caller === undefined) return; // the API's own warm-up
      const over = await spend(caller, Math.max(1, cost));
      if (over) return setResultAndStopExecution({ errors: [over] });
      if (settings.expensiveCost <= 0 || cost < settings.expensiveCost) {
        // Just under the lane, a request may still start ~80 reads at once (a page of neighbors
        // with their degrees): capped too, more loosely (a dense wallet's groups, a path search's
        // slices are read side by side).
        args.contextValue.graph = throttledGraph(args.contextValue.graph, settings.neo4jCallsPerRequest);
        return;
      }
      if (lane.waiting >= settings.expensiveQueue)
        return setResultAndStopExecution({
          errors: [
            busy(
              `too many expensive requests waiting (${lane.waiting}; cost ${cost} ≥ ${settings.expensiveCost}): retry after 1 s, or ask a cheaper question`,
              'lane_full',
            ),
          ],
        });
      args.contextValue.graph = throttledGraph(args.contextValue.graph, settings.expensiveNeo4jCalls);
      setExecuteFn(async (a) => {
        // Bounds the wait only: p-queue also races a running task with its signal, and a task
        // given up on while it runs would free its slot with its work still going.
        const waiting = new AbortController();
        const timer = setTimeout(() => waiting.abort(new Error('lane wait')), opts.waitMs);
        try {
          const run = async () => {
            clearTimeout(timer);
            // Between two expensive requests, the I/O that arrived meanwhile (cheap questions,
            // /health) is served first: the lane starts its next task from a promise callback,
            // which would otherwise run before them.
            await new Promise((r) => setImmediate(r));
            return executeFn(a);
          };
          return (await lane.run(run, waiting.signal)) as Awaited<ReturnType<typeof executeFn>>;
        } catch (err) {
          clearTimeout(timer);
          if (!waiting.signal.aborted || err !== waiting.signal.reason) throw err;
          return {
            errors: [
              busy(
                `this expensive request (cost ${cost} ≥ ${settings.expensiveCost}) waited ${opts.waitMs} ms for its lane without starting: retry later, or ask a cheaper question`,
                'lane_timeout',
              ),
            ],
          };
        }
      });
    },
  };
  return { plugin, spentRefusal: budget ? spentRefusal : undefined };
}
