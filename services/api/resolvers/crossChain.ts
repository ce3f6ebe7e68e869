import {
  type CrossChainPath,
  type HolderLink,
  findCrossChainPaths,
  hopsOf,
} from '../../../graph/investigate/crossChain.ts';
import type { Chain } from '../../../graph/model.ts';
import type { ApiContext } from '../context.ts';
import { addressArg, userError } from '../errors.ts';
import { boundedInt, withTimeoutError } from '../limits.ts';
import { type GqlChain, limitsOf, toChain } from './investigate.ts';

/** Resolvers for schema/crossChain.graphql. Thin: graph/investigate/crossChain.ts does the work. */

interface CrossChainPathsArgs {
  fromChain: GqlChain;
  from: string;
  toChain: GqlChain;
  to: string;
  label?: string | null;
  maxDepth?: number;
  limit?: number;
  links?: number;
  directed?: boolean;
}

/** The most holder links one request may try: each is two path searches. */
export const MAX_HOLDER_LINKS = 10;

const toGqlChain = (c: Chain): GqlChain => (c === 'bittensor' ? 'BITTENSOR' : 'ETHEREUM');

async function runCrossChainPaths(ctx: ApiContext, a: CrossChainPathsArgs) {
  const limits = limitsOf(ctx);
  const [fromChain, toChain_] = [toChain(a.fromChain), toChain(a.toChain)];
  if (fromChain === toChain_)
    throw userError('fromChain and toChain are the same chain: use paths', 'BAD_USER_INPUT', {
      argument: 'toChain',
    });
  const label = a.label?.trim() || undefined;
  if (label && label.length > 200)
    throw userError('label must be at most 200 characters', 'BAD_USER_INPUT', { argument: 'label' });
  const p = {
    from: { chain: fromChain, address: addressArg(fromChain, 'from', a.from) },
    to: { chain: toChain_, address: addressArg(toChain_, 'to', a.to) },
    label,
    maxDepth: boundedInt('maxDepth', a.maxDepth ?? 4, 1, limits.maxPathDepth),
    limit: boundedInt('limit', a.limit ?? 3, 1, limits.maxPaths, 'PAGE_SIZE_LIMIT'),
    links: boundedInt('links', a.links ?? 4, 1, MAX_HOLDER_LINKS),
    directed: a.directed ?? true,
    fanOut: limits.fanOut,
    timeoutMs: limits.searchTimeoutMs,
  };
  return withTimeoutError('the cross-chain path search', limits.searchTimeoutMs, () =>
    findCrossChainPaths(ctx.graph, p),
  );
}

export const crossChainResolvers = {
  Query: {
    crossChainPaths: (_: unknown, a: CrossChainPathsArgs, ctx: ApiContext) => runCrossChainPaths(ctx, a),
  },
  CrossChainPath: {
    length: hopsOf,
  },
  HolderLink: {
    fromChain: (l: HolderLink) => toGqlChain(l.from.chain),
    fromAddress: (l: HolderLink) => l.from.address,
    toChain: (l: HolderLink) => toGqlChain(l.to.chain),
    toAddress: (l: HolderLink) => l.to.address,
  },
};
