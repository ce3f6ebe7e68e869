import http from 'node:http';
import type { Registry } from 'prom-client';

export type HealthCheck = () => Promise<Record<string, boolean>>;

/**
 * /health (200 when every dependency answers, 503 otherwise, JSON either way) and /metrics
 * (Prometheus text) for a long-running service.
 */
export function createServiceHttpHandler(deps: { health: HealthCheck; registry: Registry }) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const url = req.url?.split('?')[0];
    if (url === '/health') {
      const checks = await deps.health().catch(() => ({ health: false }));
      const ok = Object.values(checks).every(Boolean);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'ok' : 'degraded', checks }));
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
