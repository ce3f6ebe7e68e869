import type { GraphQLResolveInfo, ValueNode } from 'graphql';

/**
 * Look-ahead from a field to one of its subfields' arguments, so that a resolver can read what
 * that subfield will need in the same Neo4j query (the `wallet` lookup reads the first neighbors
 * page with it: one round trip instead of two). Only plain selections are read: a subfield under
 * a fragment, asked twice, under @include/@skip, or with an object literal argument gives null,
 * and the subfield then reads for itself. What is read is only a guess to be checked: the
 * subfield's resolver compares it with its real arguments (see `argumentsKey`).
 */
export function subfieldArguments(info: GraphQLResolveInfo, name: string): Record<string, unknown> | null {
  if (info.fieldNodes.length !== 1) return null;
  const selections = info.fieldNodes[0]!.selectionSet?.selections ?? [];
  if (selections.some((s) => s.kind !== 'Field')) return null;
  const asked = selections.filter((s) => s.kind === 'Field' && s.name.value === name);
  const node = asked[0];
  if (asked.length !== 1 || node?.kind !== 'Field' || node.directives?.length) return null;
  // Defaults by shape, not by instanceof (the schema may come from another copy of graphql).
  const returned = namedType(info.returnType) as { getFields?: () => Record<string, unknown> };
  const field = returned.getFields?.()[name] as
    | { args: { name: string; defaultValue: unknown }[] }
    | undefined;
  if (!field) return null;
  const args: Record<string, unknown> = {};
  for (const a of field.args) if (a.defaultValue !== undefined) args[a.name] = a.defaultValue;
  for (const a of node.arguments ?? []) {
    const v = literal(a.value, info.variableValues);
    if (v === UNREADABLE) return null;
    if (v !== undefined) args[a.name.value] = v;
  }
  return args;
}

/** The same arguments, in one string whatever their order (absent and null alike). */
export function argumentsKey(args: Record<string, unknown>, names: readonly string[]): string {
  return JSON.stringify(names.map((n) => args[n] ?? null));
}

const UNREADABLE = Symbol('unreadable');

function literal(v: ValueNode, variables: Record<string, unknown>): unknown {
  switch (v.kind) {
    case 'Variable':
      return variables[v.name.value];
    case 'IntValue':
      return Number.parseInt(v.value, 10);
    case 'FloatValue':
      return Number.parseFloat(v.value);
    case 'StringValue':
    case 'EnumValue':
      return v.value;
    case 'BooleanValue':
      return v.value;
    case 'NullValue':
      return null;
    case 'ListValue': {
      const items = v.values.map((x) => literal(x, variables));
      return items.includes(UNREADABLE) ? UNREADABLE : items;
    }
    default:
      return UNREADABLE;
  }
}

function namedType(t: unknown): unknown {
  let cur = t as { ofType?: unknown };
  while (cur.ofType) cur = cur.ofType as { ofType?: unknown };
  return cur;
}
