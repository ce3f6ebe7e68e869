/**
 * The investigation API in a process of its own, for benches: the same `startApiServer` as
 * `vigil api` (less the Redis alert feed, which no bench question reads), so that the bench's
 * clients do not share the API's event loop, as investigators' clients never do.
 *
 * Parent: `startApiProcess(neo4jUri, options)` spawns this file with `--serve`, hands it the
 * options on stdin (API keys stay out of the process list), waits for its URL, and stops it with
 * SIGTERM. Child: serves until SIGTERM, then closes the server and the driver.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ApiKey } from '../common/config.ts';
import type { AdmissionSettings } from '../services/api/admission.ts';

export interface ApiProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** What the API is started with beyond its defaults. */
export interface ApiProcessOptions {
  keys?: ApiKey[];
  admission?: Partial<AdmissionSettings>;
  /** Node flags for the API process (e.g. --cpu-prof: where its time goes). */
  nodeArgs?: string[];
}

export function startApiProcess(neo4jUri: string, options: ApiProcessOptions = {}): Promise<ApiProcess> {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', fileURLToPath(import.meta.url), '--serve', neo4jUri],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  child.stdin!.end(JSON.stringify({ keys: options.keys, admission: options.admission }));
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
  const input: Buffer[] = [];
  for await (const chunk of process.stdin) input.push(chunk as Buffer);
  const options = JSON.parse(Buffer.concat(input).toString('utf8') || '{}') as ApiProcessOptions;
  const { Registry, collectDefaultMetrics } = await import('prom-client');
  const { createLogger } = await import('../common/logger.ts');
  const { createGraph } = await import('../graph/driver.ts');
  const { startApiServer } = await import('../services/api/server.ts');
  const graph = createGraph({ uri: neo4jUri, user: 'neo4j', password: '', database: 'neo4j' });
  await graph.verify();
  // Node's default metrics include the event loop's delay (p99, max; reset at each scrape): the
  // bench reads them per phase to tell time spent waiting on the API's loop from time in Neo4j.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const api = await startApiServer({
    graph,
    log: createLogger({ level: 'warn', name: 'bench-api' }),
    version: 'bench',
    host: '127.0.0.1',
    port: 0,
    registry,
    keys: options.keys,
    // Unless the caller says otherwise: bench:graphql's 16 clients are one caller (127.0.0.1) asking
    // thousands of questions a minute, which the per-caller cost budget (admission.ts) would refuse.
    admission: options.admission ?? { costBudget: Number.MAX_SAFE_INTEGER },
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
