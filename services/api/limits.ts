import type {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLField,
  GraphQLSchema,
  GraphQLType,
  OperationDefinitionNode,
  SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { SEARCH_TIMED_OUT } from '../../graph/investigate/expand.ts';
import { userError } from './errors.ts';

/**
 * Guard rails of the investigation API: how deep and how costly one operation may be (checked
 * before anything runs, with the caller's variables), how long one Neo4j transaction may take,
 * and the caps on page sizes, depths and fan-out. Every limit hit is a GraphQL error with a code.
 */
export interface Limits {
  /** Nesting of fields in one operation (introspection not counted). @defaultValue 10 */
  maxQueryDepth: number;
  /** Estimated cost of one operation, see `estimateCost`. @defaultValue 5000 */
  maxQueryCost: number;
  /** Per Neo4j transaction of a wallet or neighbors read. @defaultValue 3000 */
  readTimeoutMs: number;
  /** Per Neo4j transaction of a paths, flow or export read. @defaultValue 10000 */
  searchTimeoutMs: number;
  /** Hops of a path search. @defaultValue 6 */
  maxPathDepth: number;
  /** Paths returned by one search. @defaultValue 25 */
  maxPaths: number;
  /** Hops of a flow. @defaultValue 6 */
  maxFlowDepth: number;
  /** Relationships followed per wallet per hop (paths, flow). @defaultValue 100 (max 500) */
  fanOut: number;
  /** Rows in one export. @defaultValue 10000 */
  maxExportRows: number;
  /** Aliased fields in one operation (`__typename` free), graphql-armor max-aliases. @defaultValue 15 */
  maxAliases: number;
  /** Lexical tokens in one document, graphql-armor max-tokens. @defaultValue 2000 */
  maxTokens: number;
  /** Directives in one operation, graphql-armor max-directives. @defaultValue 50 */
  maxDirectives: number;
  /** Bytes of one answer (JSON); a bigger one is replaced by RESPONSE_TOO_LARGE. @defaultValue 10 MB */
  maxResponseBytes: number;
  /** Wall time of one operation; past it, no more Neo4j work starts (REQUEST_TIMEOUT). @defaultValue 20000 */
  requestTimeoutMs: number;
  /** `keyed`: introspection (`__schema`, `__type`) needs an API key. @defaultValue 'open' */
  introspection: 'open' | 'keyed';
}

export const DEFAULT_LIMITS: Limits = {
  maxQueryDepth: 10,
  maxQueryCost: 5000,
  readTimeoutMs: 3000,
  searchTimeoutMs: 10_000,
  maxPathDepth: 6,
  maxPaths: 25,
  maxFlowDepth: 6,
  fanOut: 100,
  maxExportRows: 10_000,
  maxAliases: 15,
  maxTokens: 2000,
  maxDirectives: 50,
  maxResponseBytes: 10 * 1024 * 1024,
  requestTimeoutMs: 20_000,
  introspection: 'open',
};

/**
 * Cost of a field: its weight (Neo4j work it starts) plus its children's cost times how many
 * times they run (`first`, `limit`, `depth` or `walletsPerHop` when given, 10 for other lists).
 * Every field whose resolver calls Neo4j weighs at least NEO4J_CALL (services/api/cost.test.ts
 * checks each resolver is listed here or in NO_NEO4J); aliases repeat a field's weight.
 */
export const NEO4J_CALL = 10;
export const FIELD_WEIGHTS: Record<string, number> = {
  'Query.health': NEO4J_CALL,
  'Query.wallet': NEO4J_CALL,
  'Query.paths': 200,
  'Query.flow': 200,
  'Wallet.flow': 200,
  // Two path searches per holder link tried (× `links`, below).
  'Query.crossChainPaths': 400,
  'Query.export': 500,
  'Query.alerts': NEO4J_CALL,
  'Query.invariants': NEO4J_CALL,
  'Query.invariant': NEO4J_CALL,
  'Mutation.addTag': NEO4J_CALL,
  'Mutation.removeTag': NEO4J_CALL,
  'Mutation.addInvariant': NEO4J_CALL,
  'Mutation.removeInvariant': NEO4J_CALL,
  'Query.case': NEO4J_CALL,
  'Query.cases': NEO4J_CALL,
  'Mutation.saveCase': NEO4J_CALL,
  'Mutation.deleteCase': NEO4J_CALL,
  // Two Redis reads of at most 32 small values each.
  'Query.patrolValidators': NEO4J_CALL,
  'Query.defenseValidators': NEO4J_CALL,
  // The alert's sender read as a Wallet (one lookup per alert).
  'Alert.attacker': NEO4J_CALL,
  // One read: the named contracts and the sender's DEPLOYED edges.
  'Alert.attackerContracts': NEO4J_CALL,
  // One read of the alert's ActionOutcome nodes (a handful per alert).
  'Alert.actions': NEO4J_CALL,
  'Wallet.neighbors': 2 * NEO4J_CALL,
  'NeighborConnection.totalCount': 2 * NEO4J_CALL,
  'Wallet.degree': NEO4J_CALL,
  'Wallet.degreeTotal': NEO4J_CALL,
  'Wallet.totals': 20,
  'Wallet.firstSeenAt': 20,
  'Wallet.lastSeenAt': 20,
  'Wallet.owner': NEO4J_CALL,
  'Wallet.hotkeys': NEO4J_CALL,
  'Wallet.parents': NEO4J_CALL,
  'Wallet.children': NEO4J_CALL,
  'Wallet.tags': NEO4J_CALL,
  'Wallet.alerts': NEO4J_CALL,
};

/**
 * Introspection runs in memory but its answer is the schema (`__schema`: ~80 KB with every
 * description): priced so that the cost limit allows a few, not thousands. Its nesting is bounded
 * by graphql's MaxIntrospectionDepthRule (a specified rule), not by maxQueryDepth, so that
 * GraphiQL's own introspection query (TypeRef nests `ofType` 9 deep) still works.
 */
export const INTROSPECTION_WEIGHTS: Record<string, number> = { __schema: 1000, __type: 50 };
const MULTIPLIER_ARGS = ['first', 'limit', 'walletsPerHop', 'depth'];
const DEFAULT_LIST_SIZE = 10;
/** No field takes more (page sizes, walletsPerHop ≤ 100): a bigger value is the field's own error. */
const MAX_MULTIPLIER = 100;

// No instanceof checks (isListType, getArgumentValues…): under vitest the schema may come from
// another copy of `graphql` (ESM vs CJS), so types are read by shape.
function unwrap(t: GraphQLType): { name: string; list: boolean } {
  let cur = t as unknown as { ofType?: unknown; name?: string; toString(): string };
  const list = cur.toString().replace(/!$/, '').startsWith('[');
  while (cur.ofType) cur = cur.ofType as typeof cur;
  return { name: cur.name ?? '', list };
}

/** Integer arguments of a field: literals, variables, else the SDL default. */
function intArgs(
  def: GraphQLField<unknown, unknown>,
  node: FieldNode,
  variables: Record<string, unknown>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of def.args) if (typeof a.defaultValue === 'number') out[a.name] = a.defaultValue;
  for (const arg of node.arguments ?? []) {
    const v = arg.value;
    const value =
      v.kind === 'IntValue' ? Number(v.value) : v.kind === 'Variable' ? variables[v.name.value] : undefined;
    if (typeof value === 'number') out[arg.name.value] = value;
  }
  return out;
}

/** Depth (introspection not counted), estimated cost, and how many introspection roots it asks. */
export interface OperationShape {
  depth: number;
  cost: number;
  introspection: number;
}

export function analyzeOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): OperationShape {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const d of document.definitions) {
    if (d.kind === 'FragmentDefinition') fragments.set(d.name.value, d);
    else if (d.kind === 'OperationDefinition' && (!operationName || d.name?.value === operationName))
      operation ??= d;
  }
  if (!operation) return { depth: 0, cost: 0, introspection: 0 };
  const root =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (!root) return { depth: 0, cost: 0, introspection: 0 };

  const walk = (set: SelectionSetNode, typeName: string, seen: Set<string>): OperationShape => {
    let depth = 0;
    let cost = 0;
    let introspection = 0;
    const type = schema.getType(typeName);
    for (const sel of set.selections) {
      if (sel.kind === 'Field') {
        const meta = INTROSPECTION_WEIGHTS[sel.name.value];
        if (meta) {
          cost += meta;
          introspection++;
        }
        if (sel.name.value.startsWith('__')) continue;
        const fields =
          type && 'getFields' in type
            ? (type.getFields() as Record<string, GraphQLField<unknown, unknown>>)
            : {};
        const def = fields[sel.name.value];
        if (!def) continue; // validation reports unknown fields
        const key = `${typeName}.${def.name}`;
        const { name: named, list } = unwrap(def.type);
        let weight = FIELD_WEIGHTS[key] ?? (sel.selectionSet ? 1 : 0);
        let child: OperationShape = { depth: 0, cost: 0, introspection: 0 };
        if (sel.selectionSet) child = walk(sel.selectionSet, named, seen);
        const args = intArgs(def, sel, variables);
        // A connection's `first` already counts its edges.
        let times = list && !typeName.endsWith('Connection') ? DEFAULT_LIST_SIZE : 1;
        for (const a of MULTIPLIER_ARGS)
          if (typeof args[a] === 'number') times = Math.max(1, Math.min(args[a], MAX_MULTIPLIER));
        if (key === 'Query.paths' && typeof args.maxDepth === 'number') weight *= args.maxDepth;
        if (key === 'Query.crossChainPaths') weight *= typeof args.links === 'number' ? args.links : 4;
        depth = Math.max(depth, 1 + child.depth);
        cost += weight + times * child.cost;
        introspection += child.introspection;
      } else {
        const frag = sel.kind === 'FragmentSpread' ? fragments.get(sel.name.value) : sel;
        if (!frag) continue;
        const name = sel.kind === 'FragmentSpread' ? sel.name.value : '';
        if (name && seen.has(name)) continue; // cycles are a validation error
        const next = name ? new Set([...seen, name]) : seen;
        const sub = walk(frag.selectionSet, frag.typeCondition?.name.value ?? typeName, next);
        depth = Math.max(depth, sub.depth);
        cost += sub.cost;
        introspection += sub.introspection;
      }
    }
    return { depth, cost, introspection };
  };
  return walk(operation.selectionSet, root.name, new Set());
}

/**
 * Refuses operations deeper or costlier than the limits, and introspection from anonymous callers
 * when `introspection` is `keyed`, before any resolver runs. Hand-written rather than
 * graphql-armor's cost-limit: that one prices every field alike and cannot weigh a field by the
 * Neo4j work it starts nor multiply by `first` / `limit`.
 */
export function useQueryLimits(
  limits: Pick<Limits, 'maxQueryDepth' | 'maxQueryCost' | 'introspection'>,
): Plugin<{ role?: string; cost?: number }> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const { depth, cost, introspection } = analyzeOperation(
        args.schema,
        args.document,
        args.operationName,
        (args.variableValues ?? {}) as Record<string, unknown>,
      );
      args.contextValue.cost = cost; // what admission.ts charges the caller's budget
      const refuse = (message: string, code: string, extra: Record<string, unknown>) =>
        setResultAndStopExecution({ errors: [userError(message, code, extra)] });
      if (introspection > 0 && limits.introspection === 'keyed' && args.contextValue.role === 'anonymous') {
        refuse(
          'introspection needs an API key on this API (VIGIL_API_INTROSPECTION=keyed)',
          'INTROSPECTION_DISABLED',
          {},
        );
      } else if (depth > limits.maxQueryDepth) {
        refuse(`query depth ${depth} exceeds the limit of ${limits.maxQueryDepth}`, 'QUERY_DEPTH_LIMIT', {
          depth,
          max: limits.maxQueryDepth,
        });
      } else if (cost > limits.maxQueryCost) {
        refuse(`query cost ${cost} exceeds the limit of ${limits.maxQueryCost}`, 'QUERY_COST_LIMIT', {
          cost,
          max: limits.maxQueryCost,
        });
      }
    },
  };
}

/** An integer argument within bounds, else a coded error naming it. */
export function boundedInt(
  name: string,
  value: number,
  min: number,
  max: number,
  code = 'ARGUMENT_LIMIT',
): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw userError(`${name} must be between ${min} and ${max}, got ${value}`, code, { min, max });
  }
  return value;
}

const TIMEOUT_CODES = new Set([
  'Neo.ClientError.Transaction.TransactionTimedOut',
  'Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration',
  'Neo.TransientError.Transaction.LockClientStopped',
  SEARCH_TIMED_OUT,
]);

/** Runs a graph read; a Neo4j transaction time-out becomes a QUERY_TIMEOUT error. */
export async function withTimeoutError<T>(
  what: string,
  timeoutMs: number,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (TIMEOUT_CODES.has(code) || /terminated.*timeout|timed out/i.test((err as Error).message ?? '')) {
      throw userError(
        `${what} took longer than ${timeoutMs} ms; narrow it (types, amount, block or time window, depth)`,
        'QUERY_TIMEOUT',
        {
          timeoutMs,
        },
      );
    }
    throw err;
  }
}
