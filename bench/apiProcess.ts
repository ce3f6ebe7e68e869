/**
 * The investigation API in a process of its own, for benches: the same `startApiServer` as
 * `vigil api` (less the Redis alert feed, which no bench question reads), so that the bench's
 * clients do not share the API's event loop, as investigators' clients never do.
 *
 * Parent: `startApiProcess(neo4jUri)` spawns this file with `--serve`, waits for its URL, and
 * stops it with SIGTERM. Child: serves until SIGTERM, then closes the server and the driver.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface ApiProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export function startApiProcess(neo4jUri: string): Promise<ApiProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', neo4jUri],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const fail = (why: string) => reject(new Error(`bench API process: ${why}`));
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`exited before listening (${signal ?? `code ${code}`})`));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      const { url } = JSON.parse(line) as { url: string };
      resolve({
        url,
        pid: child.pid!,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

async function serve(neo4jUri: string): Promise<void> {
  const { Registry } = await import('prom-client');
  const { createLogger } = await import('../common/logger.ts');
  const { createGraph } = await import('../graph/driver.ts');
  const { startApiServer } = await import('../services/api/server.ts');
  const graph = createGraph({ uri: neo4jUri, user: 'neo4j', password: '', database: 'neo4j' });
  await graph.verify();
  const api = await startApiServer({
    graph,
    log: createLogger({ level: 'warn', name: 'bench-api' }),
    version: 'bench',
    host: '127.0.0.1',
    port: 0,
    registry: new Registry(),
    // The bench's 16 clients are one caller (127.0.0.1) asking thousands of questions a minute: the
    // per-caller cost budget (services/api/admission.ts) would refuse them after the warm-up.
    admission: { costBudget: Number.MAX_SAFE_INTEGER },
  });
  process.once('SIGTERM', () => {
    void api
      .close()
      .then(() => graph.close())
      .finally(() => process.exit(0));
  });
  process.stdout.write(`${JSON.stringify({ url: api.url })}\n`);
}

if (process.argv[2] === '--serve') await serve(process.argv[3]!);
