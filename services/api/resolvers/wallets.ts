import type { GraphQLResolveInfo } from 'graphql';
import type { AlertRecord } from '../../../graph/alerts.ts';
import { getWalletAlerts } from '../../../graph/alerts.ts';
import { getTags } from '../../../graph/investigate/tags.ts';
import type { Chain, RelationshipType } from '../../../graph/model.ts';
import {
  type DegreeCount,
  type Direction,
  type NeighborPage,
  type RelationshipRecord,
  type WalletActivity,
  type WalletRecord,
  type WalletTotal,
  getActivity,
  getDegrees,
  getNeighbors,
  getStakeLinks,
  getWallet,
} from '../../../graph/wallets.ts';
import type { ApiContext } from '../context.ts';
import { addressArg, alertsAfter, neighborsAfter, pageSize } from '../errors.ts';
import { withTimeoutError } from '../limits.ts';
import { type GqlChain, type WindowInput, edgeFilter, isoTime, limitsOf, toChain } from './investigate.ts';
import { argumentsKey, subfieldArguments } from './lookahead.ts';

const fromChain = (c: Chain) => c.toUpperCase();

/** Reads shared by several fields of one wallet within one request (each runs once). */
const requestReads = new WeakMap<object, Map<string, Promise<unknown>>>();
function oncePerRequest<T>(ctx: ApiContext, key: string, load: () => Promise<T>): Promise<T> {
  let m = requestReads.get(ctx);
  if (!m) {
    m = new Map();
    requestReads.set(ctx, m);
  }
  let p = m.get(key) as Promise<T> | undefined;
  if (!p) {
    p = load();
    m.set(key, p);
  }
  return p;
}

/** One activity scan per wallet per request, shared by totals, firstSeenAt and lastSeenAt. */
const activity = (w: WalletRecord, ctx: ApiContext): Promise<WalletActivity> =>
  oncePerRequest(ctx, `activity:${w.chain}:${w.address}`, () =>
    read(ctx, 'the wallet totals', (timeoutMs) => getActivity(ctx.graph, w.chain, w.address, { timeoutMs })),
  );

/** One degree read per wallet per request, shared by degree and degreeTotal. */
const degrees = (w: WalletRecord, ctx: ApiContext): Promise<DegreeCount[]> =>
  oncePerRequest(ctx, `degrees:${w.chain}:${w.address}`, () =>
    read(ctx, 'the degree', (timeoutMs) => getDegrees(ctx.graph, w.chain, w.address, { timeoutMs })),
  );

/** A read bounded by the read time-out, its time-out as a QUERY_TIMEOUT error. */
function read<T>(ctx: ApiContext, what: string, work: (timeoutMs: number) => Promise<T>): Promise<T> {
  const { readTimeoutMs } = limitsOf(ctx);
  return withTimeoutError(what, readTimeoutMs, () => work(readTimeoutMs));
}

interface NeighborsArgs {
  direction: Direction;
  types?: RelationshipType[] | null;
  first: number;
  after?: string | null;
  minAmount?: string | null;
  maxAmount?: string | null;
  window?: WindowInput | null;
}
const NEIGHBORS_ARGS = ['direction', 'types', 'first', 'after', 'minAmount', 'maxAmount', 'window'] as const;
const neighborsKey = (chain: Chain, address: string, args: NeighborsArgs) =>
  `neighbors:${chain}:${address}:${argumentsKey(args as unknown as Record<string, unknown>, NEIGHBORS_ARGS)}`;

async function neighborsPage(
  ctx: ApiContext,
  chain: Chain,
  address: string,
  args: NeighborsArgs,
): Promise<NeighborPage> {
  const filter = edgeFilter(args);
  const first = pageSize(args.first);
  return read(ctx, 'the neighbors', (timeoutMs) =>
    getNeighbors(ctx.graph, chain, address, {
      ...filter,
      direction: args.direction,
      first,
      after: neighborsAfter(args.after),
      timeoutMs,
    }),
  );
}

/** Resolvers for wallets, their neighbors and their alerts (schema/vigil.graphql, schema/investigate.graphql). */
export const walletResolvers = {
  Query: {
    health: async (_: unknown, __: unknown, ctx: ApiContext) => {
      // Once per request however often it is aliased.
      const neo4j = await oncePerRequest(ctx, 'health', () => {
        limitsOf(ctx);
        return ctx.graph.verify().then(
          () => true,
          () => false,
        );
      });
      return { ok: neo4j, neo4j, version: ctx.version };
    },
    wallet: (
      _: unknown,
      args: { chain: GqlChain; address: string },
      ctx: ApiContext,
      info: GraphQLResolveInfo,
    ) => {
      const chain = toChain(args.chain);
      const address = addressArg(chain, 'address', args.address);
      const plain = () =>
        read(ctx, 'the wallet', (timeoutMs) => getWallet(ctx.graph, chain, address, { timeoutMs }));
      // Asked with its neighbors (the investigators' usual question): the wallet comes with the
      // first page, in one query. The neighbors field takes that page if its arguments match, and
      // reports its error if it failed; the wallet is then read alone.
      const asked = subfieldArguments(info, 'neighbors') as NeighborsArgs | null;
      if (!asked) return plain();
      const page = oncePerRequest(ctx, neighborsKey(chain, address, asked), () =>
        neighborsPage(ctx, chain, address, asked),
      );
      return page.then((p) => p.wallet, plain);
    },
  },
  Wallet: {
    chain: (w: WalletRecord) => fromChain(w.chain),
    neighbors: async (w: WalletRecord, args: NeighborsArgs, ctx: ApiContext) => {
      const page = await oncePerRequest(ctx, neighborsKey(w.chain, w.address, args), () =>
        neighborsPage(ctx, w.chain, w.address, args),
      );
      return {
        edges: page.edges,
        count: () => read(ctx, 'the neighbor count', () => page.totalCount()),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
      };
    },
    alerts: async (w: WalletRecord, args: { first: number; after?: string | null }, ctx: ApiContext) => {
      const page = await getWalletAlerts(ctx.graph, w.chain, w.address, {
        first: pageSize(args.first),
        after: alertsAfter(args.after),
      });
      return {
        edges: page.alerts.map((a) => ({ cursor: a.cursor, node: a.alert })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.alerts.at(-1)?.cursor ?? null },
      };
    },
    firstSeenAt: async (w: WalletRecord, _: unknown, ctx: ApiContext) =>
      isoTime((await activity(w, ctx)).firstSeenAt),
    lastSeenAt: async (w: WalletRecord, _: unknown, ctx: ApiContext) =>
      isoTime((await activity(w, ctx)).lastSeenAt),
    totals: async (w: WalletRecord, _: unknown, ctx: ApiContext) =>
      (await activity(w, ctx)).totals.map((t: WalletTotal) => ({
        ...t,
        asset: w.chain === 'bittensor' ? 'TAO' : 'ETH',
      })),
    degree: (w: WalletRecord, _: unknown, ctx: ApiContext) => degrees(w, ctx),
    degreeTotal: async (w: WalletRecord, _: unknown, ctx: ApiContext) =>
      (await degrees(w, ctx)).reduce((s, d) => s + d.count, 0),
    owner: async (w: WalletRecord, _: unknown, ctx: ApiContext) => {
      const [o] = await read(ctx, 'the owner', (timeoutMs) =>
        getStakeLinks(ctx.graph, w.chain, w.address, 'owners', { limit: 1, timeoutMs }),
      );
      return o?.wallet ?? null;
    },
    hotkeys: (w: WalletRecord, a: { first: number }, ctx: ApiContext) =>
      stakeLinks(w, 'hotkeys', a.first, ctx),
    parents: (w: WalletRecord, a: { first: number }, ctx: ApiContext) =>
      stakeLinks(w, 'parents', a.first, ctx),
    children: (w: WalletRecord, a: { first: number }, ctx: ApiContext) =>
      stakeLinks(w, 'children', a.first, ctx),
    tags: (w: WalletRecord, _: unknown, ctx: ApiContext) =>
      read(ctx, 'the tags', (timeoutMs) => getTags(ctx.graph, w.chain, w.address, { timeoutMs })),
  },
  Relationship: {
    // Evidence fields live as relationship properties; expose them by name.
    ...Object.fromEntries(
      [
        'amount', 'alphaAmount', 'blockNumber', 'blockHash', 'eventIndex', 'extrinsicIndex', 'txHash', 'logIndex',
        'netuid', 'sourceNetuid', 'destinationNetuid', 'coldkey', 'hotkey', 'proportion',
      ].map((f) => [f, (r: RelationshipRecord) => r.props[f] ?? null]),
    ), // biome-ignore format: a list of names
    timestamp: (r: RelationshipRecord) => isoTime(r.props.timestamp as number | undefined),
    provenance: (r: RelationshipRecord) => ({
      miners: r.props.miners ?? [],
      validators: r.props.validators ?? [],
      firstAcceptedAt: r.props.firstAcceptedAt ?? null,
      lastAcceptedAt: r.props.lastAcceptedAt ?? null,
    }),
  },
  NeighborConnection: {
    // Counted only when asked for: with filters on a supernode it reads every relationship.
    totalCount: (c: { count(): Promise<number> }) => c.count(),
  },
  Alert: {
    chain: (a: AlertRecord) => fromChain(a.chain),
    severity: (a: AlertRecord) => a.severity.toUpperCase(),
  },
};

function stakeLinks(
  w: WalletRecord,
  kind: 'hotkeys' | 'parents' | 'children',
  first: number,
  ctx: ApiContext,
) {
  const limit = pageSize(first);
  return read(ctx, `the ${kind}`, (timeoutMs) =>
    getStakeLinks(ctx.graph, w.chain, w.address, kind, { limit, timeoutMs }),
  );
}
