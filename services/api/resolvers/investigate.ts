import type { EdgeRecord } from '../../../graph/investigate/expand.ts';
import { type ExportRow, exportRows } from '../../../graph/investigate/export.ts';
import { type EdgeFilter, NATIVE_TOKEN } from '../../../graph/investigate/filters.ts';
import { traceFlow } from '../../../graph/investigate/flow.ts';
import { findPaths } from '../../../graph/investigate/paths.ts';
import { addTag, removeTag } from '../../../graph/investigate/tags.ts';
import type { Chain, RelationshipType } from '../../../graph/model.ts';
import { type Direction, getNeighbors } from '../../../graph/wallets/index.ts';
import { requireWrite } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { addressArg, quote, userError } from '../errors.ts';
import { checkDeadline } from '../guards.ts';
import { DEFAULT_LIMITS, type Limits, boundedInt, withTimeoutError } from '../limits.ts';

/** Resolvers for schema/investigate.graphql: paths, flow, export, tags. Thin: graph/investigate does the work. */

export type GqlChain = 'BITTENSOR' | 'ETHEREUM';
export const toChain = (c: GqlChain): Chain => (c === 'BITTENSOR' ? 'bittensor' : 'ethereum');
/**
 * The limits of this request. Every resolver that reaches Neo4j asks them first, so past the
 * request's time budget this refuses (REQUEST_TIMEOUT) before more Neo4j work starts.
 */
export const limitsOf = (ctx: ApiContext): Limits => {
  checkDeadline(ctx.deadline);
  return { ...DEFAULT_LIMITS, ...ctx.limits };
};

export interface WindowInput {
  fromBlock?: number | null;
  toBlock?: number | null;
  fromTime?: string | null;
  toTime?: string | null;
}

function parseTime(name: string, v: string | null | undefined): number | null {
  if (v == null) return null;
  const ms = Date.parse(v);
  if (Number.isNaN(ms))
    throw userError(`${name} must be an ISO-8601 time, got ${quote(v)}`, 'BAD_USER_INPUT', {
      argument: name,
    });
  return ms;
}

function parseAmount(name: string, v: string | null | undefined): string | null {
  if (v == null) return null;
  if (!/^[0-9]{1,80}$/.test(v))
    throw userError(
      `${name} must be a non-negative integer in a decimal string, got ${quote(v)}`,
      'BAD_USER_INPUT',
      { argument: name },
    );
  // Stored amounts have no leading zeros, and the exact comparison relies on it: "007" means 7.
  return BigInt(v).toString();
}

/** GraphQL filter arguments → an EdgeFilter, checked. */
export function edgeFilter(a: {
  types?: RelationshipType[] | null;
  minAmount?: string | null;
  maxAmount?: string | null;
  window?: WindowInput | null;
  token?: string | null;
}): EdgeFilter {
  const w = a.window ?? {};
  const f: EdgeFilter = {
    types: a.types?.length ? a.types : null,
    minAmount: parseAmount('minAmount', a.minAmount),
    maxAmount: parseAmount('maxAmount', a.maxAmount),
    fromBlock: w.fromBlock ?? null,
    toBlock: w.toBlock ?? null,
    fromTime: parseTime('window.fromTime', w.fromTime),
    toTime: parseTime('window.toTime', w.toTime),
    token: parseToken(a.token),
  };
  if (f.fromBlock != null && f.toBlock != null && f.fromBlock > f.toBlock) {
    throw userError('window.fromBlock must not be after window.toBlock', 'BAD_USER_INPUT');
  }
  if (f.fromTime != null && f.toTime != null && f.fromTime > f.toTime) {
    throw userError('window.fromTime must not be after window.toTime', 'BAD_USER_INPUT');
  }
  if (f.minAmount != null && f.maxAmount != null && BigInt(f.minAmount) > BigInt(f.maxAmount)) {
    throw userError('minAmount must not be above maxAmount', 'BAD_USER_INPUT');
  }
  return f;
}

/** `"ETH"` (native) or an ERC-20 contract address, lower-cased; anything else is refused by name. */
function parseToken(t: string | null | undefined): string | null {
  if (t == null) return null;
  if (t.toUpperCase() === NATIVE_TOKEN) return NATIVE_TOKEN;
  if (!/^0x[0-9a-fA-F]{40}$/.test(t))
    throw userError(
      `token must be "ETH" or an ERC-20 contract address (0x + 40 hex), got "${t.slice(0, 80)}"`,
      'BAD_USER_INPUT',
      {
        argument: 'token',
      },
    );
  return t.toLowerCase();
}

export const isoTime = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

interface PathsArgs {
  chain: GqlChain;
  from: string;
  to: string;
  maxDepth: number;
  limit: number;
  directed: boolean;
  types?: RelationshipType[] | null;
  minAmount?: string | null;
  window?: WindowInput | null;
  token?: string | null;
}

interface FlowArgs {
  chain: GqlChain;
  from: string;
  direction: 'OUT' | 'IN';
  depth: number;
  types?: RelationshipType[] | null;
  minAmount?: string | null;
  window?: WindowInput | null;
  walletsPerHop?: number;
  token?: string | null;
}

interface NeighborsExportArgs {
  chain: GqlChain;
  address: string;
  direction: Direction;
  types?: RelationshipType[] | null;
  minAmount?: string | null;
  maxAmount?: string | null;
  window?: WindowInput | null;
}

async function runPaths(ctx: ApiContext, a: PathsArgs, hopRelationships?: number) {
  const limits = limitsOf(ctx);
  const chain = toChain(a.chain);
  const p = {
    chain,
    from: addressArg(chain, 'from', a.from),
    to: addressArg(chain, 'to', a.to),
    maxDepth: boundedInt('maxDepth', a.maxDepth ?? 4, 1, limits.maxPathDepth),
    limit: boundedInt('limit', a.limit ?? 3, 1, limits.maxPaths, 'PAGE_SIZE_LIMIT'),
    directed: a.directed ?? true,
    filter: edgeFilter(a),
    fanOut: limits.fanOut,
    timeoutMs: limits.searchTimeoutMs,
    hopRelationships,
  };
  return withTimeoutError('the path search', limits.searchTimeoutMs, () => findPaths(ctx.graph, p));
}

async function runFlow(ctx: ApiContext, a: FlowArgs) {
  const limits = limitsOf(ctx);
  const chain = toChain(a.chain);
  const p = {
    chain,
    source: addressArg(chain, 'from', a.from),
    direction: a.direction ?? 'OUT',
    depth: boundedInt('depth', a.depth ?? 3, 1, limits.maxFlowDepth),
    filter: edgeFilter(a),
    fanOut: limits.fanOut,
    walletsPerHop: boundedInt('walletsPerHop', a.walletsPerHop ?? 25, 1, 100, 'PAGE_SIZE_LIMIT'),
    timeoutMs: limits.searchTimeoutMs,
  };
  return withTimeoutError('the flow', limits.searchTimeoutMs, () => traceFlow(ctx.graph, p));
}

/** Every relationship of a neighborhood that passes the filters, up to the export cap. */
async function neighborRows(
  ctx: ApiContext,
  a: NeighborsExportArgs,
): Promise<{ rows: ExportRow[]; truncated: boolean }> {
  const limits = limitsOf(ctx);
  const chain = toChain(a.chain);
  const address = addressArg(chain, 'neighbors.address', a.address);
  const filter = edgeFilter(a);
  const rows: ExportRow[] = [];
  let after: string | null = null;
  for (;;) {
    const first = Math.min(1000, limits.maxExportRows - rows.length);
    const page = await withTimeoutError('the export', limits.searchTimeoutMs, () =>
      getNeighbors(
        ctx.graph,
        {
          chain,
          address,
          ...filter,
          direction: a.direction ?? 'BOTH',
          first,
          after,
          timeoutMs: limits.searchTimeoutMs,
        },
        ctx.neighborMemory,
      ),
    );
    for (const e of page.edges) {
      const p = e.relationship.props;
      rows.push({
        id: e.relationship.id,
        type: e.relationship.type,
        from: e.relationship.from,
        to: e.relationship.to,
        amount: (p.amount as string | undefined) ?? null,
        alphaAmount: (p.alphaAmount as string | undefined) ?? null,
        blockNumber: p.blockNumber as number,
        timestamp: (p.timestamp as number | undefined) ?? null,
        netuid: (p.netuid as number | undefined) ?? null,
        token: (p.token as string | undefined) ?? null,
        tokenSymbol: (p.tokenSymbol as string | undefined) ?? null,
        tokenDecimals: (p.tokenDecimals as number | undefined) ?? null,
        hop: null,
        path: null,
      });
    }
    if (!page.hasNextPage) return { rows, truncated: false };
    if (rows.length >= limits.maxExportRows) return { rows, truncated: true };
    after = page.endCursor;
  }
}

export const investigateResolvers = {
  Query: {
    paths: (_: unknown, a: PathsArgs, ctx: ApiContext) => runPaths(ctx, a),
    flow: (_: unknown, a: FlowArgs, ctx: ApiContext) => runFlow(ctx, a),
    export: async (
      _: unknown,
      a: { format: 'CSV' | 'JSON'; neighbors?: NeighborsExportArgs; paths?: PathsArgs; flow?: FlowArgs },
      ctx: ApiContext,
    ) => {
      const given = [a.neighbors && 'neighbors', a.paths && 'paths', a.flow && 'flow'].filter(Boolean) as (
        | 'neighbors'
        | 'paths'
        | 'flow'
      )[];
      if (given.length !== 1) throw userError('give exactly one of neighbors, paths, flow', 'BAD_USER_INPUT');
      const kind = given[0]!;
      const format = a.format === 'CSV' ? 'csv' : 'json';
      const limits = limitsOf(ctx);
      let rows: ExportRow[];
      let truncated = false;
      let chain: Chain;
      if (kind === 'neighbors') {
        chain = toChain(a.neighbors!.chain);
        ({ rows, truncated } = await neighborRows(ctx, a.neighbors!));
      } else if (kind === 'paths') {
        chain = toChain(a.paths!.chain);
        // Every relationship of every hop (up to the export cap), not the five a query lists.
        const res = await runPaths(ctx, a.paths!, limits.maxExportRows + 1);
        rows = res.paths.flatMap((p, path) =>
          p.hops.flatMap((h, hop) => h.relationships.map((e) => ({ ...e, path, hop: hop + 1 }))),
        );
        truncated =
          res.truncated || res.paths.some((p) => p.hops.some((h) => h.relationships.length < h.count));
      } else {
        chain = toChain(a.flow!.chain);
        const res = await runFlow(ctx, a.flow!);
        rows = res.edges.map((e) => ({ ...e, path: null }));
        truncated = res.truncated;
      }
      if (rows.length > limits.maxExportRows) {
        rows = rows.slice(0, limits.maxExportRows);
        truncated = true;
      }
      const doc = exportRows(
        { chain, kind, format, query: (a[kind] ?? {}) as unknown as Record<string, unknown> },
        rows,
      );
      return { ...doc, format: a.format, truncated };
    },
  },
  Mutation: {
    addTag: async (
      _: unknown,
      a: { chain: GqlChain; address: string; label: string; source: string },
      ctx: ApiContext,
    ) => {
      requireWrite(ctx.role);
      const tag = checkTag(a);
      const res = await addTag(ctx.graph, tag);
      if (res.kind === 'no-wallet')
        throw userError(`no ${tag.chain} wallet ${tag.address} in Vigil's graph`, 'NOT_FOUND');
      return res.tag;
    },
    removeTag: async (
      _: unknown,
      a: { chain: GqlChain; address: string; label: string; source: string },
      ctx: ApiContext,
    ) => {
      requireWrite(ctx.role);
      return removeTag(ctx.graph, checkTag(a));
    },
  },
  Edge: {
    timestamp: (e: EdgeRecord) => isoTime(e.timestamp),
  },
  Path: {
    length: (p: { wallets: string[] }) => p.wallets.length - 1,
  },
  Wallet: {
    flow: (w: { chain: Chain; address: string }, a: Omit<FlowArgs, 'chain' | 'from'>, ctx: ApiContext) =>
      runFlow(ctx, { ...a, chain: w.chain === 'bittensor' ? 'BITTENSOR' : 'ETHEREUM', from: w.address }),
  },
};

function checkTag(a: { chain: GqlChain; address: string; label: string; source: string }) {
  const chain = toChain(a.chain);
  const label = a.label.trim();
  const source = a.source.trim();
  for (const [name, v] of [
    ['label', label],
    ['source', source],
  ] as const) {
    if (v.length < 1 || v.length > 200)
      throw userError(`${name} must be 1 to 200 characters`, 'BAD_USER_INPUT', { argument: name });
    const control = /\p{Cc}/u.exec(v);
    if (control)
      throw userError(
        `${name} must not contain control characters, found U+${control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at position ${control.index}`,
        'BAD_USER_INPUT',
        { argument: name },
      );
  }
  return { chain, address: addressArg(chain, 'address', a.address), label, source };
}
