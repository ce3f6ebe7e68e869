import type { AlertRecord } from '../../../graph/alerts.ts';
import { getWalletAlerts } from '../../../graph/alerts.ts';
import type { Chain, RelationshipType } from '../../../graph/model.ts';
import { normalizeAddress } from '../../../graph/model.ts';
import type { ApiContext } from '../context.ts';
import { pageSize } from '../errors.ts';
import { type Direction, type RelationshipRecord, type WalletRecord, getNeighbors, getWallet } from '../../../graph/wallets.ts';


const toChain = (c: 'BITTENSOR' | 'ETHEREUM'): Chain => (c === 'BITTENSOR' ? 'bittensor' : 'ethereum');
const fromChain = (c: Chain) => c.toUpperCase();


/** Resolvers for wallets, their neighbors and their alerts (schema/vigil.graphql). */
export const walletResolvers = {
  Query: {
    health: async (_: unknown, __: unknown, ctx: ApiContext) => {
      const neo4j = await ctx.graph.verify().then(
        () => true,
        () => false,
      );
      return { ok: neo4j, neo4j, version: ctx.version };
    },
    wallet: (_: unknown, args: { chain: 'BITTENSOR' | 'ETHEREUM'; address: string }, ctx: ApiContext) => {
      const chain = toChain(args.chain);
      return getWallet(ctx.graph, chain, normalizeAddress(chain, args.address));
    },
  },
  Wallet: {
    chain: (w: WalletRecord) => fromChain(w.chain),
    neighbors: async (
      w: WalletRecord,
      args: { direction: Direction; types?: RelationshipType[] | null; first: number; after?: string | null },
      ctx: ApiContext,
    ) => {
      const page = await getNeighbors(ctx.graph, w.chain, w.address, {
        direction: args.direction,
        types: args.types?.length ? args.types : null,
        first: pageSize(args.first),
        after: args.after ?? null,
      });
      return {
        edges: page.edges,
        totalCount: page.totalCount,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.edges.at(-1)?.cursor ?? null },
      };
    },
    alerts: async (w: WalletRecord, args: { first: number; after?: string | null }, ctx: ApiContext) => {
      const page = await getWalletAlerts(ctx.graph, w.chain, w.address, {
        first: pageSize(args.first),
        after: args.after ?? null,
      });
      return {
        edges: page.alerts.map((a) => ({ cursor: a.cursor, node: a.alert })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.alerts.at(-1)?.cursor ?? null },
      };
    },
  },
  Relationship: {
    // Evidence fields live as relationship properties; expose them by name.
    ...Object.fromEntries(
      [
        'amount', 'alphaAmount', 'blockNumber', 'blockHash', 'eventIndex', 'extrinsicIndex', 'txHash', 'logIndex',
        'netuid', 'sourceNetuid', 'destinationNetuid', 'coldkey', 'hotkey', 'proportion',
      ].map((f) => [f, (r: RelationshipRecord) => r.props[f] ?? null]),
    ), // biome-ignore format: a list of names
    provenance: (r: RelationshipRecord) => ({
      miners: r.props.miners ?? [],
      validators: r.props.validators ?? [],
      firstAcceptedAt: r.props.firstAcceptedAt ?? null,
      lastAcceptedAt: r.props.lastAcceptedAt ?? null,
    }),
  },
  Alert: {
    chain: (a: AlertRecord) => fromChain(a.chain),
    severity: (a: AlertRecord) => a.severity.toUpperCase(),
  },
};
