import type { Redis } from 'ioredis';
import type { Driver } from 'neo4j-driver';
import pTimeout from 'p-timeout';
import { ServiceUnavailableError } from './errors.ts';
import type { Logger } from './logger.ts';
import { redactUrl } from './redact.ts';

/**
 * Readiness of a long-running service: one check per dependency it needs (Redis, Neo4j, a chain),
 * each bounded by a timeout and the whole report cached briefly, so /health stays cheap and answers
 * even while a dependency hangs. A monitor runs the checks in the background and logs each change
 * (down with the reason and the variable that points at the dependency, up again), so a service
 * that lost Redis says so in its log without anyone asking /health.
 */

/** Resolves when the dependency answers, throws why not. */
export type Check = () => Promise<unknown>;

export interface Dependency {
  check: Check;
  /** The setting that points at it and its value (redacted here), for the log: e.g. REDIS_URL. */
  variable?: string;
  url?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<string, { ok: boolean; error?: string }>;
}

export interface Health {
  report(): Promise<HealthReport>;
  stop(): void;
}

export function createHealth(
  deps: Record<string, Dependency>,
  opts: { log?: Logger; timeoutMs?: number; cacheMs?: number; monitorMs?: number } = {},
): Health {
  const timeoutMs = opts.timeoutMs ?? 1500;
  const cacheMs = opts.cacheMs ?? 1000;
  let cached: { at: number; report: Promise<HealthReport> } | undefined;
  const wasOk = new Map<string, boolean>();

  const runAll = async (): Promise<HealthReport> => {
    const names = Object.keys(deps);
    const results = await Promise.all(names.map((n) => bounded(deps[n]!.check, timeoutMs)));
    const checks: HealthReport['checks'] = {};
    names.forEach((n, i) => {
      const error = results[i];
      checks[n] = error === undefined ? { ok: true } : { ok: false, error };
      logChange(n, error);
    });
    const ok = Object.values(checks).every((c) => c.ok);
    return { status: ok ? 'ok' : 'degraded', checks };
  };

  const logChange = (name: string, error: string | undefined) => {
    const ok = error === undefined;
    const before = wasOk.get(name);
    wasOk.set(name, ok);
    if (before === ok || (before === undefined && ok)) return;
    const d = deps[name]!;
    const where = d.variable ? { variable: d.variable, url: d.url ? redactUrl(d.url) : undefined } : {};
    if (ok) opts.log?.info({ dependency: name, ...where }, `${name} answers again: ready`);
    else
      opts.log?.warn(
        { dependency: name, ...where, err: error },
        `${name} does not answer${d.variable ? ` (check ${d.variable})` : ''}: degraded, retrying by itself`,
      );
  };

  const report = () => {
    const now = Date.now();
    if (!cached || now - cached.at >= cacheMs) cached = { at: now, report: runAll() };
    return cached.report;
  };

  const timer = setInterval(() => void report(), opts.monitorMs ?? 5000);
  timer.unref();
  void report();
  return { report, stop: () => clearInterval(timer) };
}

/** undefined when the check passed within timeoutMs, else why not. */
async function bounded(check: Check, timeoutMs: number): Promise<string | undefined> {
  try {
    await pTimeout(check(), { milliseconds: timeoutMs, message: `no answer within ${timeoutMs} ms` });
    return undefined;
  } catch (err) {
    return ((err as Error).message || String(err)).slice(0, 300);
  }
}

/**
 * Redis answers on this connection. A connection that is not ready fails at once with its state
 * and last error (a PING would wait in the offline queue of a worker connection).
 */
export function redisCheck(conn: Redis): Check {
  let lastError = '';
  conn.on('error', (err: Error) => {
    lastError = err.message;
  });
  return async () => {
    if (conn.status !== 'ready')
      throw new ServiceUnavailableError(`not connected (${conn.status})${lastError ? `: ${lastError}` : ''}`);
    await conn.ping();
  };
}

/** Neo4j answers on the driver (the message is the driver's, without the URI). */
export function neo4jCheck(graph: { driver: Driver; database: string }): Check {
  return () => graph.driver.verifyConnectivity({ database: graph.database });
}
