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
import type { AlertPubSub } from '../defense/alertFeed.ts';
import { requireRead, roleFromRequest } from './auth.ts';
import { useBodyLimit } from './bodyLimit.ts';
import type { ApiContext } from './context.ts';
import { useRequestBudget, useShapeGuards, useShortErrorMessages } from './guards.ts';
import { DEFAULT_LIMITS, type Limits, useQueryLimits } from './limits.ts';
import { defenseResolvers } from './resolvers/defense.ts';
import { investigateResolvers } from './resolvers/investigate.ts';
import { walletResolvers } from './resolvers/wallets.ts';
import { warmUp } from './warmup.ts';

/** The SDL is the source of truth: every `schema/*.graphql` file, merged (features `extend type`). */
export const SCHEMA_DIR = path.resolve(import.meta.dirname, '../../schema');

/** One resolver map per feature; add a feature's map here. */
const RESOLVERS = [walletResolvers, investigateResolvers, defenseResolvers];

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
  /** Compile queries and mutations with graphql-jit (default true); false runs graphql-js. */
  jit?: boolean;
}

export interface ApiServerDeps extends ApiDeps {
  host: string;
  port: number;
  registry: Registry;
  /** Readiness for /health (common/health.ts); default: Neo4j only. `vigil api` adds Redis. */
  health?: HealthCheck;
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
}

/** A fetch into the handler with the read role, whatever VIGIL_API_READS_NEED_KEY says. */
export const internalFetch =
  (yoga: ApiHandler) =>
  (url: string, init: RequestInit): Promise<Response> | Response =>
    yoga.fetch(url, init, { internal: INTERNAL_READER });

/** The GraphQL handler (GraphiQL on at /graphql); tests call `yoga.fetch` with no port opened. */
export function createApi(deps: ApiDeps) {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  return createYoga<ServerContext, ApiContext>({
    schema: createApiSchema(),
    context: ({ request, internal }) => {
      const role = internal === INTERNAL_READER ? 'read' : roleFromRequest(request.headers, deps.keys ?? []);
      requireRead(role, deps.readsNeedKey ?? false);
      return { graph: deps.graph, version: deps.version, role, limits: deps.limits, pubsub: deps.pubsub };
    },
    plugins: [
      ...useShapeGuards(limits),
      useQueryLimits(limits),
      ...(deps.jit === false ? [] : [useGraphQlJit({}, { enableIf: notSubscription })]),
      useRequestBudget(limits),
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
}

/** The GraphQL handler createApi returns. */
export type ApiHandler = ReturnType<typeof createApi>;

/** Serves GraphQL at /graphql plus /health and /metrics on one port. */
export async function startApiServer(deps: ApiServerDeps): Promise<{ url: string; close(): Promise<void> }> {
  const yoga = createApi(deps);
  const ownHealth = deps.health ? undefined : createHealth({ neo4j: { check: neo4jCheck(deps.graph) } });
  const ops = createServiceHttpHandler({
    registry: deps.registry,
    health: deps.health ?? ownHealth!.report,
  });
  const server = http.createServer(async (req, res) => {
    if (await ops(req, res)) return;
    yoga(req, res);
  });
  const { url, close } = await listen(server, deps.host, deps.port);
  // In the background: the API answers from the start; until the warm-up ends, it shares the CPU.
  const stopWarmUp = new AbortController();
  const warming = warmUp({
    graph: deps.graph,
    fetch: internalFetch(yoga),
    log: deps.log,
    signal: stopWarmUp.signal,
  }).then(
    (r) => deps.log.info(r, 'query plans warmed up (the first questions after a Neo4j start)'),
    (err) => deps.log.warn({ err }, 'the query plan warm-up stopped; questions are planned as asked'),
  );
  return {
    url: `${url}/graphql`,
    async close() {
      ownHealth?.stop();
      stopWarmUp.abort();
      await close();
      // The warm-up stops at its next question; one stuck on a Neo4j that is down is not waited for.
      await Promise.race([warming, new Promise((r) => setTimeout(r, 2000).unref())]);
    },
  };
}
