import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { type DocumentNode, getOperationAST } from 'graphql';
import { createYoga } from 'graphql-yoga';
import type { Registry } from 'prom-client';
import type { ApiKey } from '../../common/config.ts';
import { createHealth, neo4jCheck } from '../../common/health.ts';
import type { Logger } from '../../common/logger.ts';
import { type HealthCheck, createServiceHttpHandler, listen } from '../../common/serviceHttp.ts';
import type { Graph } from '../../graph/driver.ts';
import { type NeighborMemory, createNeighborMemory } from '../../graph/wallets/index.ts';
import type { AlertPubSub } from '../defense/alertFeed.ts';
import { type AdmissionSettings, DEFAULT_ADMISSION, callerOf, createAdmission } from './admission.ts';
import { nodeHeaders, presentedKey, requireRead, roleFromRequest } from './auth.ts';
import { useBodyLimit } from './bodyLimit.ts';
import { createConsoleHandler } from './console.ts';
import type { ApiContext } from './context.ts';
import { type DoorDeps, createDoor } from './door.ts';
import { useRequestBudget, useShapeGuards, useShortErrorMessages } from './guards.ts';
import { DEFAULT_LIMITS, type Limits, useQueryLimits } from './limits.ts';
import { useRequestReads } from './requestReads.ts';
import { caseResolvers } from './resolvers/cases.ts';
import { crossChainResolvers } from './resolvers/crossChain.ts';
import { defenseResolvers } from './resolvers/defense.ts';
import { investigateResolvers } from './resolvers/investigate.ts';
import { type OperatorSource, operatorResolvers } from './resolvers/operators.ts';
import { walletResolvers } from './resolvers/wallets.ts';
import { type ReadyReport, warmUntilAnswered } from './warmup.ts';

/** The SDL is the source of truth: every `schema/*.graphql` file, merged (features `extend type`). */
export const SCHEMA_DIR = path.resolve(import.meta.dirname, '../../schema');

/** One resolver map per feature; add a feature's map here. */
const RESOLVERS = [
  walletResolvers,
  investigateResolvers,
  crossChainResolvers,
  defenseResolvers,
  operatorResolvers,
  caseResolvers,
];

export function createApiSchema() {
  const typeDefs = readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => readFileSync(path.join(SCHEMA_DIR, f), 'utf8'));
  return makeExecutableSchema<ApiContext>({ typeDefs, resolvers: RESOLVERS });
}

export interface ApiDeps {
  graph: Graph;
  log: Logger;
  version: string;
  /** API keys and their roles; none means reads are open and writes refused. */
  keys?: ApiKey[];
  readsNeedKey?: boolean;
  /** Query depth, cost, time-out and size limits; defaults in services/api/limits.ts. */
  limits?: Partial<Limits>;
  /** Live alerts for `alertRaised` (fed from Redis by services/defense/alertFeed.ts startAlertFeed). */
  pubsub?: AlertPubSub;
  /** Where validators publish their state for subnet operators (Redis); absent: those fields say UNAVAILABLE. */
  operators?: Omit<OperatorSource, 'log'>;
  /** Compile queries and mutations with graphql-jit (default true); false runs graphql-js. */
  jit?: boolean;
  /** Per-caller cost budget and the expensive-request lane; defaults in services/api/admission.ts. */
  admission?: Partial<AdmissionSettings>;
  /** Where the admission metrics go (refusals, the expensive lane). */
  registry?: Registry;
  /** What neighbor pages remember of dense wallets; default: a new one for this API. */
  neighborMemory?: NeighborMemory;
}

export interface ApiServerDeps extends ApiDeps {
  host: string;
  port: number;
  registry: Registry;
  /** Readiness for /health (common/health.ts); default: Neo4j only. `vigil api` adds Redis. */
  health?: HealthCheck;
  /** How long readiness waits for the common questions to answer (default 120 s). */
  warmUpBoundMs?: number;
  /** Serve the web console at /console (default true; built on its first request). */
  console?: boolean;
  /** How the door throttles a spent caller's connection (door.ts; defaults there). */
  door?: Pick<DoorDeps, 'holdMs' | 'maxHeld'>;
}

export const WARM_UP_BOUND_MS = 120_000;

/** What /health says while the common questions are still being asked. */
const WARMING = 'warming up: asking the common questions once, so the first investigators do not wait';

/** Adds the warm-up to readiness: /health is 503 until the common questions answered. */
function withWarmUp(health: HealthCheck, warm: () => boolean): HealthCheck {
  return async () => {
    const report = await health();
    if (warm()) return report;
    return { status: 'degraded', checks: { ...report.checks, warmUp: { ok: false, error: WARMING } } };
  };
}

/**
 * graphql-jit compiles queries and mutations only: its compiled subscriptions hand the subscribe resolver empty
 * arguments (graphql-hive/envelop#2008), so `alertRaised(filter:)` would deliver every alert.
 */
const notSubscription = (args: { document: DocumentNode; operationName?: string | null }) =>
  getOperationAST(args.document, args.operationName)?.operation !== 'subscription';

/**
 * The API's own in-process questions (the warm-up) read with this in yoga's server context: HTTP
 * requests cannot set it (their server context is node's req and res), so it opens nothing to them.
 */
const INTERNAL_READER = Symbol('vigil internal reader');
interface ServerContext {
  internal?: symbol;
  /** node:http's request, when served over HTTP: the client's address keys anonymous budgets. */
  req?: http.IncomingMessage;
}

/** A fetch into the handler with the read role, whatever VIGIL_API_READS_NEED_KEY says. */
export const internalFetch =
  (yoga: ApiHandler) =>
  (url: string, init: RequestInit): Promise<Response> | Response =>
    yoga.fetch(url, init, { internal: INTERNAL_READER });

/** Who pays for a request: its API key, else the client's address; nobody for the API's own questions. */
const callerOfRequest = (request: Request, { internal, req }: ServerContext): string | undefined =>
  internal === INTERNAL_READER
    ? undefined
    : callerOf(presentedKey(request.headers), req?.socket.remoteAddress);

/** The GraphQL handler (GraphiQL on at /graphql); tests call `yoga.fetch` with no port opened. */
export function createApi(deps: ApiDeps) {
  return createApiHandler(deps).yoga;
}

/** The GraphQL handler and its admission (whose budget the HTTP server's door also reads). */
function createApiHandler(deps: ApiDeps) {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const neighborMemory = deps.neighborMemory ?? createNeighborMemory();
  const admission = createAdmission<ServerContext>(
    { ...DEFAULT_ADMISSION, ...deps.admission },
    { waitMs: limits.requestTimeoutMs, log: deps.log, registry: deps.registry, callerOfRequest },
  );
  const yoga = createYoga<ServerContext, ApiContext>({
    schema: createApiSchema(),
    context: ({ request, internal, req }) => {
      const own = internal === INTERNAL_READER;
      const role = own ? 'read' : roleFromRequest(request.headers, deps.keys ?? []);
      requireRead(role, deps.readsNeedKey ?? false);
      const caller = callerOfRequest(request, { internal, req });
      const ctx: Omit<ApiContext, 'reads'> = {
        graph: deps.graph,
        neighborMemory,
        version: deps.version,
        role,
        limits: deps.limits,
        pubsub: deps.pubsub,
        operators: deps.operators && { ...deps.operators, log: deps.log },
        caller,
      };
      // `reads` are added as the operation executes (useRequestReads), on the context it runs with.
      return ctx as ApiContext;
    },
    plugins: [
      ...useShapeGuards(limits),
      useQueryLimits(limits),
      ...(deps.jit === false ? [] : [useGraphQlJit({}, { enableIf: notSubscription })]),
      useRequestBudget(limits),
      useRequestReads(),
      // After the execution plugins: its lane wraps what they built, and only what passed them is charged.
      admission.plugin,
      useBodyLimit(),
      useShortErrorMessages(),
    ],
    maxRequestBodySize: false, // useBodyLimit instead
    graphiql: { title: 'Vigil' },
    // GraphiQL's scripts and styles inlined from the package, not a CDN: the page works offline.
    renderGraphiQL,
    logging: {
      debug: (...a) => deps.log.debug(a.map(String).join(' ')),
      info: (...a) => deps.log.info(a.map(String).join(' ')),
      warn: (...a) => deps.log.warn(a.map(String).join(' ')),
      error: (...a) => deps.log.error(a.map(String).join(' ')),
    },
  });
  return { yoga, admission };
}

/** The GraphQL handler createApi returns. */
export type ApiHandler = ReturnType<typeof createApi>;

/** Serves GraphQL at /graphql, the web console at /console, plus /health and /metrics on one port. */
export async function startApiServer(deps: ApiServerDeps): Promise<{
  url: string;
  /** The web console (served unless `console: false`). */
  consoleUrl: string;
  ready: Promise<ReadyReport | undefined>;
  close(): Promise<void>;
}> {
  const { yoga, admission } = createApiHandler(deps);
  // A caller over its cost budget is refused here, before yoga (door.ts).
  const door = admission.spentRefusal
    ? createDoor({
        callerOf: (req) => callerOf(presentedKey(nodeHeaders(req)), req.socket.remoteAddress),
        spentRefusal: admission.spentRefusal,
        ...deps.door,
      })
    : undefined;
  const ownHealth = deps.health ? undefined : createHealth({ neo4j: { check: neo4jCheck(deps.graph) } });
  let warmedUp = false;
  const ops = createServiceHttpHandler({
    registry: deps.registry,
    health: withWarmUp(deps.health ?? ownHealth!.report, () => warmedUp),
  });
  const webConsole = deps.console === false ? undefined : createConsoleHandler({ log: deps.log });
  const server = http.createServer(async (req, res) => {
    if (await ops(req, res)) return;
    if (webConsole && (await webConsole(req, res))) return;
    // The console's files spend no budget; GraphQL past here does, so a spent caller stops here.
    if (door && (await door(req, res))) return;
    yoga(req, res);
  });
  const { url, close } = await listen(server, deps.host, deps.port);
  // In the background: the API answers from the start; until the warm-up ends, it shares the CPU
  // and /health says it is not ready yet.
  const stopWarmUp = new AbortController();
  const boundMs = deps.warmUpBoundMs ?? WARM_UP_BOUND_MS;
  const ready = warmUntilAnswered({
    graph: deps.graph,
    fetch: internalFetch(yoga),
    log: deps.log,
    signal: stopWarmUp.signal,
    boundMs,
  }).then(
    (r) => {
      warmedUp = true;
      if (stopWarmUp.signal.aborted) return r; // closing, not ready
      if (r.warm) deps.log.info(r, 'API ready: the common questions answer (query plans warmed up)');
      else
        deps.log.warn(
          r,
          `API ready, but ${r.failed} of ${r.questions} common questions still failed after ${Math.round(boundMs / 1000)} s: first answers may time out (QUERY_TIMEOUT) until Neo4j has planned them; check Neo4j's load and NEO4J_URI`,
        );
      return r;
    },
    (err) => {
      warmedUp = true;
      deps.log.warn({ err }, 'API ready, but the warm-up stopped: questions are planned as asked');
      return undefined;
    },
  );
  return {
    url: `${url}/graphql`,
    consoleUrl: `${url}/console/`,
    ready,
    async close() {
      ownHealth?.stop();
      stopWarmUp.abort();
      await close();
      // The warm-up stops at its next question; one stuck on a Neo4j that is down is not waited for.
      await Promise.race([ready, new Promise((r) => setTimeout(r, 2000).unref())]);
    },
  };
}
