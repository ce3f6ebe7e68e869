import http from 'node:http';
import type { Registry } from 'prom-client';
import type { HealthReport } from './health.ts';

export type HealthCheck = () => Promise<HealthReport>;

/**
 * Liveness, readiness and metrics of a long-running service:
 * - /health/live: 200 while the process runs (restart it only if this stops answering);
 * - /health/ready and /health: 200 `{status:'ok', checks}` when every dependency answers, else 503
 *   `{status:'degraded', checks: {redis: {ok: false, error}, …}}` (see common/health.ts);
 * - /metrics: Prometheus text.
 */
export function createServiceHttpHandler(deps: { health: HealthCheck; registry: Registry }) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const url = req.url?.split('?')[0];
    if (url === '/health/live') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'live' }));
      return true;
    }
    if (url === '/health' || url === '/health/ready') {
      const report = await deps.health().catch(
        (err): HealthReport => ({
          status: 'degraded',
          checks: { health: { ok: false, error: (err as Error).message } },
        }),
      );
      res.writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(report));
      return true;
    }
    if (url === '/metrics') {
      res.writeHead(200, { 'content-type': deps.registry.contentType });
      res.end(await deps.registry.metrics());
      return true;
    }
    return false;
  };
}

export async function startServiceHttp(deps: {
  host: string;
  port: number;
  health: HealthCheck;
  registry: Registry;
}): Promise<{ url: string; close(): Promise<void> }> {
  const handle = createServiceHttpHandler(deps);
  const server = http.createServer(async (req, res) => {
    if (!(await handle(req, res))) {
      res.writeHead(404);
      res.end();
    }
  });
  const { url, close } = await listen(server, deps.host, deps.port);
  return { url, close };
}

/** Starts `server` on host:port (0 = a free port); rejects if the port is taken. */
export async function listen(
  server: http.Server,
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  return {
    url: `http://${host}:${bound}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
