import neo4j, { type Driver, type ManagedTransaction, type QueryResult } from 'neo4j-driver';
import pTimeout from 'p-timeout';
import { ServiceUnavailableError } from '../common/errors.ts';
import { redactUrl } from '../common/redact.ts';

export interface GraphOptions {
  uri: string;
  user: string;
  /** Empty: connect without auth (the local dev server runs without). */
  password: string;
  database: string;
  /** How long a transaction that fails transiently (deadlock, lost connection) is tried again. */
  maxTransactionRetryTimeMs?: number;
  /**
   * Called each time a transaction's work is run again after a transient failure (a deadlock, a
   * leader switch, a lost connection). Services count them: the retries hide in latency otherwise.
   */
  onRetry?: (mode: 'read' | 'write', cause: unknown) => void;
}

/**
 * The one handle on Neo4j that data-access modules take. One session per unit of work,
 * always on the named database, closed in `finally`.
 */
export interface Graph {
  readonly driver: Driver;
  readonly database: string;
  read<T>(work: (tx: ManagedTransaction) => Promise<T>, opts?: { timeoutMs?: number }): Promise<T>;
  /**
   * One read statement in an auto-commit transaction: one round trip and less driver work than
   * `read`'s explicit transaction (no BEGIN/COMMIT), about 1.6× the reads per second here. Retried
   * on transient errors as `read` is. For hot single-statement reads (the API's).
   */
  query(cypher: string, params: Record<string, unknown>, opts?: { timeoutMs?: number }): Promise<QueryResult>;
  write<T>(work: (tx: ManagedTransaction) => Promise<T>, opts?: { timeoutMs?: number }): Promise<T>;
  /**
   * Throws ServiceUnavailableError naming NEO4J_URI (credentials masked) if the server does not
   * answer, within `timeoutMs` when given (the driver alone waits up to 30 s per connection).
   */
  verify(opts?: { timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

export function createGraph(opts: GraphOptions): Graph {
  const auth = opts.password ? neo4j.auth.basic(opts.user, opts.password) : undefined;
  const driver = neo4j.driver(opts.uri, auth, {
    // Block numbers, counts and indexes fit in a double; amounts are stored as strings.
    disableLosslessIntegers: true,
    connectionAcquisitionTimeout: 20_000,
  });
  const database = opts.database;
  const retryForMs = opts.maxTransactionRetryTimeMs ?? 30_000;

  /**
   * Runs `attempt` again on transient errors, for up to retryForMs. Ours rather than the driver's
   * managed-transaction retry: the driver waits 1 s before its first retry, and concurrent ingest
   * jobs deadlock on shared wallets often enough (Neo4j detects it at once) that those seconds
   * were a large share of ingestion time. Here the waits start at 25 ms and double up to 1 s.
   * Hand-written rather than p-retry (used for the migrations' retry): every read and write passes
   * here and nearly all succeed at once, and p-retry's set-up costs 4.0–5.7 µs per call against
   * the loop's 0.18–0.19 µs (`npm run bench:retry`, same run), 1.3–1.8 % of a 0.3 ms transaction.
   */
  const withRetry = async <T>(mode: 'read' | 'write', attempt: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (!neo4j.isRetriableError(err) || Date.now() - started > retryForMs) throw err;
        opts.onRetry?.(mode, err);
      }
      await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** n) * (0.8 + Math.random() * 0.4)));
    }
  };

  const session = (mode: 'read' | 'write') =>
    driver.session({
      database,
      defaultAccessMode: mode === 'read' ? neo4j.session.READ : neo4j.session.WRITE,
    });

  /** One explicit transaction: the work, then commit; rolled back if anything fails. */
  const transaction = async <T>(
    mode: 'read' | 'write',
    work: (tx: ManagedTransaction) => Promise<T>,
    timeoutMs?: number,
  ): Promise<T> => {
    const s = session(mode);
    try {
      const tx = s.beginTransaction(timeoutMs ? { timeout: timeoutMs } : undefined);
      try {
        // A Transaction offers everything a ManagedTransaction does (run), and commit on top.
        const out = await work(tx as unknown as ManagedTransaction);
        await tx.commit();
        return out;
      } catch (err) {
        if (tx.isOpen()) await tx.rollback().catch(() => {});
        throw err;
      }
    } finally {
      await s.close();
    }
  };

  const query = async (cypher: string, params: Record<string, unknown>, timeoutMs?: number) => {
    const s = session('read');
    try {
      return await s.run(cypher, params, timeoutMs ? { timeout: timeoutMs } : undefined);
    } finally {
      await s.close();
    }
  };
  return {
    driver,
    database,
    read: (work, o) => withRetry('read', () => transaction('read', work, o?.timeoutMs)),
    query: (cypher, params, o) => withRetry('read', () => query(cypher, params, o?.timeoutMs)),
    write: (work, o) => withRetry('write', () => transaction('write', work, o?.timeoutMs)),
    async verify(o) {
      const where = `Neo4j at ${redactUrl(opts.uri)} (NEO4J_URI)`;
      const answered = driver.verifyConnectivity({ database });
      try {
        await (o?.timeoutMs
          ? pTimeout(answered, {
              milliseconds: o.timeoutMs,
              message: `no answer within ${o.timeoutMs / 1000} s`,
            })
          : answered);
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (code.startsWith('Neo.ClientError.Security.')) {
          throw new ServiceUnavailableError(`${where} refused the credentials`, {
            details: 'Fix NEO4J_USER and NEO4J_PASSWORD (empty when the server runs without auth).',
            cause: err,
          });
        }
        throw new ServiceUnavailableError(`${where} does not answer: ${(err as Error).message}`, {
          details: 'Start it with: npx vigil infra up (or fix NEO4J_URI)',
          cause: err,
        });
      }
    },
    close: () => driver.close(),
  };
}
