import neo4j, { type Driver, type ManagedTransaction } from 'neo4j-driver';
import { ServiceUnavailableError } from '../common/errors.ts';

export interface GraphOptions {
  uri: string;
  user: string;
  /** Empty: connect without auth (the local dev server runs without). */
  password: string;
  database: string;
  /** How long the driver itself keeps retrying a transient failure of one transaction. */
  maxTransactionRetryTimeMs?: number;
}

/**
 * The one handle on Neo4j that data-access modules take. One session per unit of work,
 * always on the named database, closed in `finally`.
 */
export interface Graph {
  readonly driver: Driver;
  readonly database: string;
  read<T>(work: (tx: ManagedTransaction) => Promise<T>, opts?: { timeoutMs?: number }): Promise<T>;
  write<T>(work: (tx: ManagedTransaction) => Promise<T>, opts?: { timeoutMs?: number }): Promise<T>;
  /** Throws ServiceUnavailableError naming the URI if the server does not answer. */
  verify(): Promise<void>;
  close(): Promise<void>;
}

export function createGraph(opts: GraphOptions): Graph {
  const auth = opts.password ? neo4j.auth.basic(opts.user, opts.password) : undefined;
  const driver = neo4j.driver(opts.uri, auth, {
    // Block numbers, counts and indexes fit in a double; amounts are stored as strings.
    disableLosslessIntegers: true,
    maxTransactionRetryTime: opts.maxTransactionRetryTimeMs ?? 30_000,
    connectionAcquisitionTimeout: 20_000,
  });
  const database = opts.database;
  const run = async <T>(
    mode: 'READ' | 'WRITE',
    work: (tx: ManagedTransaction) => Promise<T>,
    timeoutMs?: number,
  ) => {
    const session = driver.session({
      database,
      defaultAccessMode: mode === 'READ' ? neo4j.session.READ : neo4j.session.WRITE,
    });
    try {
      const config = timeoutMs ? { timeout: timeoutMs } : undefined;
      return mode === 'READ'
        ? await session.executeRead(work, config)
        : await session.executeWrite(work, config);
    } finally {
      await session.close();
    }
  };
  return {
    driver,
    database,
    read: (work, o) => run('READ', work, o?.timeoutMs),
    write: (work, o) => run('WRITE', work, o?.timeoutMs),
    async verify() {
      try {
        await driver.verifyConnectivity({ database });
      } catch (err) {
        throw new ServiceUnavailableError(`Neo4j at ${opts.uri} does not answer`, {
          details: `${(err as Error).message}\nStart it with: npx vigil infra up (or set NEO4J_URI)`,
          cause: err,
        });
      }
    },
    close: () => driver.close(),
  };
}
