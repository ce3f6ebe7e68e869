import { filter, pipe } from 'graphql-yoga';
import { type AlertFilter, type AlertRecord, alertMatches, searchAlerts } from '../../../graph/alerts.ts';
import {
  getInvariant,
  listInvariants,
  removeInvariant,
  upsertInvariant,
} from '../../defense/invariantStore.ts';
import {
  type DefenseAction,
  InvalidRegistrationError,
  type RegisteredInvariant,
  validateRegistration,
} from '../../defense/registry.ts';
import { requireWrite } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { addressArg, alertsAfter, pageSize, quote, userError } from '../errors.ts';
import { withTimeoutError } from '../limits.ts';
import { type GqlChain, limitsOf, toChain } from './investigate.ts';

type Sev = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

interface AlertFilterInput {
  contract?: string | null;
  invariant?: string | null;
  severity?: Sev[] | null;
  chain?: GqlChain | null;
  chainId?: number | null;
  from?: string | null;
  to?: string | null;
  txHash?: string | null;
  wallet?: string | null;
}

interface InvariantInput {
  chainId: number;
  severity: Sev;
  definition: string;
  actions: {
    kind: 'WEBHOOK' | 'TELEGRAM' | 'PAUSE';
    url?: string | null;
    chatId?: string | null;
    contract?: string | null;
    signature?: string | null;
  }[];
  canaries?: { to: string; data: string; value?: string | null }[] | null;
}

function isoOrError(v: string | null | undefined, field: string): string | null {
  if (v == null) return null;
  if (Number.isNaN(Date.parse(v)))
    throw userError(`filter.${field} must be an ISO-8601 time, got ${quote(v)}`, 'BAD_USER_INPUT', {
      argument: `filter.${field}`,
    });
  return new Date(v).toISOString();
}

const addr = (v: string | null | undefined) => (v ? v.toLowerCase() : null);
/** Alerts are raised on EVM contracts: a filter's addresses are 0x addresses. */
const evmAddress = (v: string | null | undefined, field: string) =>
  v ? addressArg('ethereum', `filter.${field}`, v) : null;

export function toAlertFilter(f: AlertFilterInput | null | undefined): AlertFilter {
  if (!f) return {};
  return {
    contract: evmAddress(f.contract, 'contract'),
    invariant: f.invariant ?? null,
    severities: f.severity?.map((s) => s.toLowerCase()) ?? null,
    chain: f.chain ? toChain(f.chain) : null,
    chainId: f.chainId ?? null,
    from: isoOrError(f.from, 'from'),
    to: isoOrError(f.to, 'to'),
    txHash: addr(f.txHash),
    wallet: evmAddress(f.wallet, 'wallet'),
  };
}

/** GraphQL input → the registry's input shape; only the fields each action kind takes. */
function toRegistration(input: InvariantInput): unknown {
  let definition: unknown;
  try {
    definition = JSON.parse(input.definition);
  } catch (e) {
    throw userError(`definition is not valid JSON: ${(e as Error).message}`, 'BAD_USER_INPUT');
  }
  const clean = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v != null));
  return {
    chainId: input.chainId,
    severity: input.severity.toLowerCase(),
    definition,
    actions: (input.actions ?? []).map((a) =>
      a.kind === 'WEBHOOK'
        ? clean({ kind: 'webhook', url: a.url })
        : a.kind === 'TELEGRAM'
          ? clean({ kind: 'telegram', chatId: a.chatId })
          : clean({ kind: 'pause', contract: a.contract, signature: a.signature }),
    ),
    canaries: (input.canaries ?? []).map((c) => clean({ ...c })),
  };
}

const read = <T>(ctx: ApiContext, what: string, work: (timeoutMs: number) => Promise<T>) => {
  const { readTimeoutMs } = limitsOf(ctx);
  return withTimeoutError(what, readTimeoutMs, () => work(readTimeoutMs));
};

/** Resolvers of schema/defense.graphql. */
export const defenseResolvers = {
  Query: {
    alerts: async (
      _: unknown,
      args: { filter?: AlertFilterInput | null; first: number; after?: string | null },
      ctx: ApiContext,
    ) => {
      const f = toAlertFilter(args.filter);
      const first = pageSize(args.first);
      const after = alertsAfter(args.after);
      const page = await read(ctx, 'the alerts', (timeoutMs) =>
        searchAlerts(ctx.graph, f, { first, after, timeoutMs }),
      );
      return {
        edges: page.alerts.map((a) => ({ cursor: a.cursor, node: a.alert })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.alerts.at(-1)?.cursor ?? null },
      };
    },
    invariants: (_: unknown, args: { chainId?: number | null; contract?: string | null }, ctx: ApiContext) =>
      read(ctx, 'the invariants', () =>
        listInvariants(ctx.graph, { chainId: args.chainId, contract: args.contract }),
      ),
    invariant: (_: unknown, args: { id: string }, ctx: ApiContext) =>
      read(ctx, 'the invariant', () => getInvariant(ctx.graph, args.id)),
  },
  Mutation: {
    addInvariant: async (_: unknown, args: { input: InvariantInput }, ctx: ApiContext) => {
      requireWrite(ctx.role);
      try {
        const { registration, invariant } = validateRegistration(toRegistration(args.input));
        return await upsertInvariant(ctx.graph, registration, invariant);
      } catch (e) {
        if (e instanceof InvalidRegistrationError)
          throw userError(e.message, 'INVALID_INVARIANT', { issues: e.issues });
        throw e;
      }
    },
    removeInvariant: (_: unknown, args: { id: string }, ctx: ApiContext) => {
      requireWrite(ctx.role);
      return removeInvariant(ctx.graph, args.id);
    },
  },
  Subscription: {
    alertRaised: {
      subscribe: (_: unknown, args: { filter?: AlertFilterInput | null }, ctx: ApiContext) => {
        if (!ctx.pubsub)
          throw userError(
            'live alerts are not available: this API runs without Redis pub/sub',
            'UNAVAILABLE',
          );
        const f = toAlertFilter(args.filter);
        return pipe(
          ctx.pubsub.subscribe('alertRaised'),
          filter((a: AlertRecord) => alertMatches(a, f)),
        );
      },
      resolve: (a: AlertRecord) => a,
    },
  },
  RegisteredInvariant: {
    severity: (i: RegisteredInvariant) => i.severity.toUpperCase(),
    definition: (i: RegisteredInvariant) => JSON.stringify(i.definition),
  },
  DefenseAction: {
    kind: (a: DefenseAction) => a.kind.toUpperCase(),
  },
};
