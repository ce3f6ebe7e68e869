import type { GraphQLResolveInfo } from 'graphql';
import { type AlertRecord, getAttackerContracts, getWalletAlerts } from '../../../graph/alerts.ts';
import { getTags } from '../../../graph/investigate/tags.ts';
import type { Chain, RelationshipType } from '../../../graph/model.ts';
import { type ActionOutcomeRecord, getAlertOutcomes } from '../../../graph/outcomes.ts';
import {
  type Direction,
  type RelationshipRecord,
  type WalletKey,
  type WalletRecord,
  type WalletTotal,
  getStakeLinks,
} from '../../../graph/wallets/index.ts';
import type { ApiContext } from '../context.ts';
import { addressArg, alertsAfter, neighborsAfter, pageSize } from '../errors.ts';
import { type NeighborQuestion, type RequestReads, boundedRead as read } from '../requestReads.ts';
import { type GqlChain, type WindowInput, edgeFilter, isoTime, toChain } from './investigate.ts';
import { subfieldArguments } from './lookahead.ts';

const fromChain = (c: Chain) => c.toUpperCase();
/** Beyond this many, an alert's attacker contracts are cut (an attacker deploying hundreds is a lead in itself). */
const MAX_ATTACKER_CONTRACTS = 100;

/** The wallet a field's parent is, as a read's key (not the whole record: one key per wallet). */
const keyOf = (w: WalletRecord): WalletKey => ({ chain: w.chain, address: w.address });

interface NeighborsArgs {
  direction: Direction;
  types?: RelationshipType[] | null;
  first: number;
  after?: string | null;
  minAmount?: string | null;
  maxAmount?: string | null;
  window?: WindowInput | null;
  token?: string | null;
}

/**
 * The neighbors field's arguments, checked, as the question the request's reads key on. The one
 * builder of a NeighborQuestion: its fields are always set in this order (the key is its JSON).
 */
function neighborQuestion(chain: Chain, address: string, args: NeighborsArgs): NeighborQuestion {
  const filter = edgeFilter(args);
  return {
    chain,
    address,
    ...filter,
    direction: args.direction,
    first: pageSize(args.first),
    after: neighborsAfter(args.after),
  };
}

/** Resolvers for wallets, their neighbors and their alerts (schema/vigil.graphql, schema/investigate.graphql). */
export const walletResolvers = {
  Query: {
    health: async (_: unknown, __: unknown, ctx: ApiContext) => {
      // Once per request however often it is aliased.
      const neo4j = await ctx.reads.neo4jUp();
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
      const plain = () => ctx.reads.wallet({ chain, address });
      // Asked with its neighbors (the investigators' usual question): the wallet comes with the
      // first page, in one query. The neighbors field takes that page if its arguments match, and
      // reports its error if it failed (or its arguments are wrong); the wallet is then read alone.
      const asked = subfieldArguments(info, 'neighbors') as NeighborsArgs | null;
      if (!asked) return plain();
      let q: NeighborQuestion;
      try {
        q = neighborQuestion(chain, address, asked);
      } catch {
        return plain();
      }
      return ctx.reads.neighbors(q).then((p) => p.wallet, plain);
    },
  },
  Wallet: {
    chain: (w: WalletRecord) => fromChain(w.chain),
    neighbors: async (w: WalletRecord, args: NeighborsArgs, ctx: ApiContext) => {
      const page = await ctx.reads.neighbors(neighborQuestion(w.chain, w.address, args));
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
      isoTime((await ctx.reads.activity(keyOf(w))).firstSeenAt),
    lastSeenAt: async (w: WalletRecord, _: unknown, ctx: ApiContext) =>
      isoTime((await ctx.reads.activity(keyOf(w))).lastSeenAt),
    totals: async (w: WalletRecord, _: unknown, ctx: ApiContext) =>
      (await ctx.reads.activity(keyOf(w))).totals.map((t: WalletTotal) => ({
        ...t,
        // Per token: an ERC-20's total is its own row, named by its contract.
        asset: t.token ?? (w.chain === 'bittensor' ? 'TAO' : 'ETH'),
      })),
    degree: (w: WalletRecord, _: unknown, ctx: ApiContext) => ctx.reads.degrees(keyOf(w)),
    degreeTotal: async (w: WalletRecord, _: unknown, ctx: ApiContext) =>
      (await ctx.reads.degrees(keyOf(w))).reduce((s, d) => s + d.count, 0),
    owner: async (w: WalletRecord, _: unknown, ctx: ApiContext) => {
      const [o] = await read(ctx, 'the owner', (timeoutMs) =>
        getStakeLinks(ctx.graph, { ...keyOf(w), kind: 'owners', limit: 1, timeoutMs }),
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
        'netuid', 'sourceNetuid', 'destinationNetuid', 'coldkey', 'hotkey', 'proportion', 'token', 'tokenSymbol',
        'tokenDecimals',
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
    // The flagged tx's sender as a wallet of the graph (null when it is not stored), so an
    // investigation goes from the alert straight to flow/paths/neighbors of the attacker.
    attacker: (a: AlertRecord, _: unknown, ctx: ApiContext) =>
      a.chain === 'ethereum' && a.sender
        ? ctx.reads.wallet({ chain: 'ethereum', address: a.sender.toLowerCase() })
        : null,
    // The contracts the flagged tx calls besides the protected one (stored with the finding) and
    // those the sender deployed as far as the graph knows; [] for older findings with neither.
    attackerContracts: (a: AlertRecord, _: unknown, ctx: ApiContext) => {
      const named = Array.isArray(a.attackerContracts) ? (a.attackerContracts as string[]) : [];
      if (a.chain !== 'ethereum' || !a.sender) return [];
      return read(ctx, 'the attacker contracts', (timeoutMs) =>
        getAttackerContracts(ctx.graph, {
          sender: a.sender.toLowerCase(),
          protectedContract: a.contract.toLowerCase(),
          named,
          limit: MAX_ATTACKER_CONTRACTS,
          timeoutMs,
        }),
      );
    },
    actions: (a: AlertRecord, _: unknown, ctx: ApiContext) => alertActions(ctx, a.id),
  },
  ActionOutcome: {
    kind: (o: ActionOutcomeRecord) => o.action.toUpperCase(),
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
    getStakeLinks(ctx.graph, { ...keyOf(w), kind, limit, timeoutMs }),
  );
}

/**
 * An alert's action outcomes. A page of alerts reads them in one query (request reads); an
 * `alertRaised` event has no request reads (they are made per executed query, and a re-sent alert
 * must not be served its first event's outcomes): one read for its one alert.
 */
async function alertActions(ctx: ApiContext, alertId: string): Promise<ActionOutcomeRecord[]> {
  const reads = ctx.reads as RequestReads | undefined;
  if (reads) return reads.alertOutcomes(alertId);
  const byAlert = await read(ctx, 'the alert actions', (timeoutMs) =>
    getAlertOutcomes(ctx.graph, [alertId], { timeoutMs }),
  );
  return byAlert.get(alertId) ?? [];
}
