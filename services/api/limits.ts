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
};

/**
 * Cost of a field: its weight (Neo4j work it starts) plus its children's cost times how many
 * times they run (`first`, `limit`, `depth` or `walletsPerHop` when given, 10 for other lists).
 */
const FIELD_WEIGHTS: Record<string, number> = {
  'Query.wallet': 1,
  'Query.paths': 200,
  'Query.flow': 200,
  'Query.export': 500,
  'Wallet.neighbors': 5,
  'Wallet.degree': 2,
  'Wallet.totals': 20,
  'Wallet.firstSeenAt': 20,
  'Wallet.lastSeenAt': 20,
  'Wallet.owner': 2,
  'Wallet.hotkeys': 2,
  'Wallet.parents': 2,
  'Wallet.children': 2,
  'Wallet.tags': 1,
  'Wallet.alerts': 2,
};
const MULTIPLIER_ARGS = ['first', 'limit', 'walletsPerHop', 'depth'];
const DEFAULT_LIST_SIZE = 10;

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

export function analyzeOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): { depth: number; cost: number } {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const d of document.definitions) {
    if (d.kind === 'FragmentDefinition') fragments.set(d.name.value, d);
    else if (d.kind === 'OperationDefinition' && (!operationName || d.name?.value === operationName))
      operation ??= d;
  }
  if (!operation) return { depth: 0, cost: 0 };
  const root =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (!root) return { depth: 0, cost: 0 };

  const walk = (
    set: SelectionSetNode,
    typeName: string,
    seen: Set<string>,
  ): { depth: number; cost: number } => {
    let depth = 0;
    let cost = 0;
    const type = schema.getType(typeName);
    for (const sel of set.selections) {
      if (sel.kind === 'Field') {
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
        let child = { depth: 0, cost: 0 };
        if (sel.selectionSet) child = walk(sel.selectionSet, named, seen);
        const args = intArgs(def, sel, variables);
        // A connection's `first` already counts its edges.
        let times = list && !typeName.endsWith('Connection') ? DEFAULT_LIST_SIZE : 1;
        for (const a of MULTIPLIER_ARGS) if (typeof args[a] === 'number') times = Math.max(1, args[a]);
        if (key === 'Query.paths' && typeof args.maxDepth === 'number') weight *= args.maxDepth;
        depth = Math.max(depth, 1 + child.depth);
        cost += weight + times * child.cost;
      } else {
        const frag = sel.kind === 'FragmentSpread' ? fragments.get(sel.name.value) : sel;
        if (!frag) continue;
        const name = sel.kind === 'FragmentSpread' ? sel.name.value : '';
        if (name && seen.has(name)) continue; // cycles are a validation error
        const next = name ? new Set([...seen, name]) : seen;
        const sub = walk(frag.selectionSet, frag.typeCondition?.name.value ?? typeName, next);
        depth = Math.max(depth, sub.depth);
        cost += sub.cost;
      }
    }
    return { depth, cost };
  };
  return walk(operation.selectionSet, root.name, new Set());
}

/** Refuses operations deeper or costlier than the limits, before any resolver runs. */
export function useQueryLimits(limits: Pick<Limits, 'maxQueryDepth' | 'maxQueryCost'>): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const { depth, cost } = analyzeOperation(
        args.schema,
        args.document,
        args.operationName,
        (args.variableValues ?? {}) as Record<string, unknown>,
      );
      if (depth > limits.maxQueryDepth) {
        setResultAndStopExecution({
          errors: [
            userError(
              `query depth ${depth} exceeds the limit of ${limits.maxQueryDepth}`,
              'QUERY_DEPTH_LIMIT',
              { depth, max: limits.maxQueryDepth },
            ),
          ],
        });
      } else if (cost > limits.maxQueryCost) {
        setResultAndStopExecution({
          errors: [
            userError(`query cost ${cost} exceeds the limit of ${limits.maxQueryCost}`, 'QUERY_COST_LIMIT', {
              cost,
              max: limits.maxQueryCost,
            }),
          ],
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
