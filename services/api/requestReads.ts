import DataLoader from 'dataloader';
import type { Plugin } from 'graphql-yoga';
import type { Graph } from '../../graph/driver.ts';
import { type ActionOutcomeRecord, getAlertOutcomes } from '../../graph/outcomes.ts';
import {
  type DegreeCount,
  type GetNeighborsParameters,
  type NeighborMemory,
  type NeighborPage,
  type WalletActivity,
  type WalletKey,
  type WalletRecord,
  getActivity,
  getDegrees,
  getNeighbors,
  getWallet,
} from '../../graph/wallets/index.ts';
import { checkDeadline } from './guards.ts';
import { DEFAULT_LIMITS, type Limits, withTimeoutError } from './limits.ts';

/**
 * Reads that several fields (or aliases) of one request repeat, each run once per request: a
 * DataLoader per read, made for each request (`useRequestReads`) and carried on its context.
 * Each read checks the request's time budget when it starts, not when it is served again, and is
 * bounded by the read time-out.
 */
export interface RequestReads {
  wallet(key: WalletKey): Promise<WalletRecord | null>;
  /** Shared by `degree` and `degreeTotal`. */
  degrees(key: WalletKey): Promise<DegreeCount[]>;
  /** One activity scan, shared by `totals`, `firstSeenAt` and `lastSeenAt`. */
  activity(key: WalletKey): Promise<WalletActivity>;
  /**
   * A neighbors page: the `wallet` field starts it when its `neighbors` is asked (look-ahead), and
   * the `neighbors` field takes it under the same question. A failed page stays failed for the
   * request (the field reports the error the look-ahead met, without a second read).
   */
  neighbors(q: NeighborQuestion): Promise<NeighborPage>;
  /** Whether Neo4j answers (`health`, however often it is aliased). */
  neo4jUp(): Promise<boolean>;
  /** An alert's action outcomes: the alerts of one page are read together, in one query. */
  alertOutcomes(alertId: string): Promise<ActionOutcomeRecord[]>;
}

/** A neighbors question, parsed (its time-out is the request's). */
export type NeighborQuestion = Omit<GetNeighborsParameters, 'timeoutMs'>;

/** What the reads need of the request's context. */
export interface ReadContext {
  graph: Graph;
  neighborMemory: NeighborMemory;
  limits?: Partial<Limits>;
  /** Set by useRequestBudget when the operation starts executing. */
  deadline?: number;
}

/** A read started now, bounded by the read time-out, its time-out as a QUERY_TIMEOUT error. */
export function boundedRead<T>(
  ctx: ReadContext,
  what: string,
  work: (timeoutMs: number) => Promise<T>,
): Promise<T> {
  checkDeadline(ctx.deadline);
  const { readTimeoutMs } = { ...DEFAULT_LIMITS, ...ctx.limits };
  return withTimeoutError(what, readTimeoutMs, () => work(readTimeoutMs));
}

const walletKey = (k: WalletKey) => `${k.chain}\n${k.address}`;

/** A read's outcome, kept by the loader. */
type Outcome<V> = { ok: true; value: V } | { ok: false; error: unknown };

/**
 * A loader that reads each key once and keeps its outcome, failures included (DataLoader would
 * clear a failed key and read it again). `readMany` answers its keys in order; with `batch` the
 * keys asked in one tick come together, else one at a time.
 */
function kept<K, V>(
  readMany: (keys: readonly K[]) => Promise<V[]>,
  options: { batch: boolean; cacheKeyFn: (key: K) => string },
): (key: K) => Promise<V> {
  let loader: DataLoader<K, Outcome<V>, string> | undefined;
  // Made on first use: most requests use one or two of a request's loaders.
  const make = () =>
    new DataLoader<K, Outcome<V>, string>(
      async (keys) => {
        // In here: a read that throws at once (past the deadline) is the keys' outcome, not a
        // failed dispatch (which DataLoader words as its own TypeError).
        try {
          return (await readMany(keys)).map((value): Outcome<V> => ({ ok: true, value }));
        } catch (error) {
          return keys.map((): Outcome<V> => ({ ok: false, error }));
        }
      },
      { ...options, maxBatchSize: 100 },
    );
  return async (key) => {
    loader ??= make();
    const r = await loader.load(key);
    if (r.ok) return r.value;
    throw r.error;
  };
}

/** Every read here but alertOutcomes is one key's query: nothing to batch, each on the next tick. */
const once = <K, V>(read: (key: K) => Promise<V>, cacheKeyFn: (key: K) => string) =>
  kept<K, V>(async ([key]) => [await read(key!)], { batch: false, cacheKeyFn });

export function createRequestReads(ctx: ReadContext): RequestReads {
  // ctx.graph is read at each read, not now: admission swaps in a throttled one for an expensive
  // request after this is made (services/api/admission.ts).
  const up = once(
    async () => {
      checkDeadline(ctx.deadline);
      return ctx.graph.verify().then(
        () => true,
        () => false,
      );
    },
    (k: string) => k,
  );
  return {
    wallet: once(
      (k) => boundedRead(ctx, 'the wallet', (timeoutMs) => getWallet(ctx.graph, { ...k, timeoutMs })),
      walletKey,
    ),
    degrees: once(
      (k) => boundedRead(ctx, 'the degree', (timeoutMs) => getDegrees(ctx.graph, { ...k, timeoutMs })),
      walletKey,
    ),
    activity: once(
      (k) =>
        boundedRead(ctx, 'the wallet totals', (timeoutMs) => getActivity(ctx.graph, { ...k, timeoutMs })),
      walletKey,
    ),
    // The question's key: its fields in the order NeighborQuestion's one builder sets them.
    neighbors: once(
      (q) =>
        boundedRead(ctx, 'the neighbors', (timeoutMs) =>
          getNeighbors(ctx.graph, { ...q, timeoutMs }, ctx.neighborMemory),
        ),
      (q) => JSON.stringify(q),
    ),
    neo4jUp: () => up('neo4j'),
    alertOutcomes: kept(
      async (ids: readonly string[]) => {
        const byAlert = await boundedRead(ctx, 'the alert actions', (timeoutMs) =>
          getAlertOutcomes(ctx.graph, ids, { timeoutMs }),
        );
        return ids.map((id) => byAlert.get(id) ?? []);
      },
      { batch: true, cacheKeyFn: (id) => id },
    ),
  };
}

/**
 * Gives each operation its RequestReads (`ctx.reads`), made on the context it executes with (so
 * they see the deadline useRequestBudget sets there).
 */
export function useRequestReads(): Plugin<ReadContext & { reads?: RequestReads }> {
  return {
    onExecute({ args }) {
      args.contextValue.reads = createRequestReads(args.contextValue);
    },
  };
}
