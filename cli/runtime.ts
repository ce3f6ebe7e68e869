import type { Redis } from 'ioredis';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { type Config, loadConfig } from '../common/config.ts';
import { type Dependency, createHealth, neo4jCheck, redisCheck } from '../common/health.ts';
import { type Logger, cliDestination, createLogger } from '../common/logger.ts';
import { type Redactor, createRedactor } from '../common/redact.ts';
import { startServiceHttp } from '../common/serviceHttp.ts';
import { type Shutdown, createShutdown, exitOnSignals } from '../common/shutdown.ts';
import { type Graph, createGraph } from '../graph/driver.ts';

/** What every command gets: options parsed once, a logger, a shutdown registry, a metrics registry. */
export interface Runtime {
  config: Config;
  log: Logger;
  shutdown: Shutdown;
  registry: Registry;
  /** Masks configured secrets in a finished log line (common/redact.ts). */
  redact: Redactor;
}

export function createRuntime(service: string, env: NodeJS.ProcessEnv = process.env): Runtime {
  const config = loadConfig(env);
  const redact = createRedactor(env);
  const log = createLogger({ level: config.logLevel, name: service, redact });
  const shutdown = createShutdown(log.child({ component: 'shutdown' }));
  exitOnSignals(shutdown);
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return { config, log, shutdown, registry, redact };
}

/**
 * A logger whose lines a person reads as progress (`vigil infra up`, the demo): same fields and
 * redaction as rt.log, printed as `<prefix>msg key=value` on stdout; warnings and errors say so.
 * Progress always shows (info), as the plain prints it replaces did, even where LOG_LEVEL is
 * quieter (the demo defaults it to warn to hush chopsticks); LOG_LEVEL=debug adds debug lines.
 */
export function progressLogger(rt: Runtime, prefix: string): Logger {
  const level =
    rt.config.logLevel === 'debug' || rt.config.logLevel === 'trace' ? rt.config.logLevel : 'info';
  return createLogger({
    level,
    name: 'vigil',
    base: {},
    redact: rt.redact,
    destination: cliDestination(prefix),
  });
}

/**
 * How long a one-shot command waits for Redis or Neo4j before it fails naming the variable:
 * inside the 10 s the README promises, with room for a loaded machine.
 */
export const DEPENDENCY_WAIT_MS = 5000;

/** A graph that answered within DEPENDENCY_WAIT_MS: for one-shot commands (long-running services start degraded instead). */
export async function openVerifiedGraph(rt: Runtime): Promise<Graph> {
  const graph = openGraph(rt);
  await graph.verify({ timeoutMs: DEPENDENCY_WAIT_MS });
  return graph;
}

export function openGraph(rt: Runtime): Graph {
  const retries = new Counter({
    name: 'vigil_neo4j_transaction_retries_total',
    help: 'Neo4j transactions run again after a transient failure (deadlock, lost connection)',
    labelNames: ['mode'],
    registers: [rt.registry],
  });
  const graph = createGraph({
    ...rt.config.neo4j,
    onRetry: (mode, cause) => {
      retries.inc({ mode });
      const e = cause as { code?: string; message?: string };
      rt.log.debug(
        { mode, code: e.code ?? 'none', err: e.message?.slice(0, 300) },
        'Neo4j transaction retried',
      );
    },
  });
  rt.shutdown.add('neo4j driver', () => graph.close());
  return graph;
}

/**
 * /health (/health/ready), /health/live and /metrics of a long-running service on METRICS_PORT
 * (0 picks a free port), readiness from `deps` (common/health.ts; changes are logged). A port
 * already taken (several services on one host with the same METRICS_PORT) is logged, not fatal.
 */
export async function serveHealth(rt: Runtime, deps: Record<string, Dependency>): Promise<void> {
  const health = createHealth(deps, { log: rt.log });
  rt.shutdown.add('health monitor', () => health.stop());
  const http = await startServiceHttp({
    host: '127.0.0.1',
    port: rt.config.metricsPort,
    registry: rt.registry,
    health: health.report,
  }).catch((err) => {
    rt.log.warn(
      { err: (err as Error).message },
      'no /health server (port taken?): give each service on a host its own METRICS_PORT',
    );
    return null;
  });
  if (!http) return;
  rt.shutdown.add('health server', () => http.close());
  rt.log.info({ health: `${http.url}/health`, metrics: `${http.url}/metrics` }, 'health and metrics');
}

/** Redis as a dependency of this service's health, checked on `conn`. */
export const redisDependency = (rt: Runtime, conn: Redis): Dependency => ({
  check: redisCheck(conn),
  variable: 'REDIS_URL',
  url: rt.config.redisUrl,
});

/** Neo4j as a dependency of this service's health. */
export const neo4jDependency = (rt: Runtime, graph: Graph): Dependency => ({
  check: neo4jCheck(graph),
  variable: 'NEO4J_URI',
  url: rt.config.neo4j.uri,
});
