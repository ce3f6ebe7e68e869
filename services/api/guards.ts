import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLError, ValidationContext } from 'graphql';
import { type Plugin, createGraphQLError } from 'graphql-yoga';
import { quote, userError } from './errors.ts';
import type { Limits } from './limits.ts';

/**
 * Bounds on the shape and size of one request that graphql-armor checks before anything runs
 * (aliases, tokens, directives), and on what it may use while it runs (wall time, answer bytes).
 * Each refusal carries an `extensions.code`. Introspection nesting (`fields { type { fields …`)
 * is refused by graphql's own MaxIntrospectionDepthRule, one of its specified rules since 16.9.
 */

type GuardLimits = Pick<
  Limits,
  'maxAliases' | 'maxTokens' | 'maxDirectives' | 'maxResponseBytes' | 'requestTimeoutMs'
>;

/** graphql-armor's errors have no code: its rejection callback reports ours instead. */
function coded(code: string, what: string, max: number) {
  return {
    propagateOnRejection: false,
    onReject: [
      (ctx: ValidationContext | null, err: Error) => {
        const found = /found (\d+)/.exec(err.message)?.[1];
        const error = userError(
          `${what}: at most ${max} per request${found ? `, found ${found}` : ''}`,
          code,
          { max },
        );
        // max-tokens rejects while parsing, with no validation context: the thrown error is the answer.
        if (!ctx) throw error;
        ctx.reportError(error);
      },
    ],
  };
}

export function useShapeGuards(limits: GuardLimits): Plugin[] {
  return [
    maxTokensPlugin({ n: limits.maxTokens, ...coded('TOKEN_LIMIT', 'too many tokens', limits.maxTokens) }),
    maxAliasesPlugin({
      n: limits.maxAliases,
      ...coded('ALIAS_LIMIT', 'too many aliases', limits.maxAliases),
    }),
    maxDirectivesPlugin({
      n: limits.maxDirectives,
      ...coded('DIRECTIVE_LIMIT', 'too many directives', limits.maxDirectives),
    }),
  ] as Plugin[];
}

/**
 * A time budget per operation: the answer is REQUEST_TIMEOUT once it is spent, and resolvers start
 * no more Neo4j work (limitsOf checks `ctx.deadline`). Must come after the graphql-jit plugin,
 * whose compiled execute it wraps.
 */
export function useRequestBudget(limits: GuardLimits): Plugin<{ deadline?: number }> {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      // Set when the operation starts, not when it arrives: time waiting for the expensive lane
      // (admission.ts) is bounded there, not spent from this budget.
      setExecuteFn(async (a) => {
        (a.contextValue as { deadline?: number }).deadline = Date.now() + limits.requestTimeoutMs;
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise((resolve) => {
          timer = setTimeout(
            () =>
              resolve({
                errors: [
                  userError(
                    `the request took longer than its budget of ${limits.requestTimeoutMs} ms`,
                    'REQUEST_TIMEOUT',
                    { timeoutMs: limits.requestTimeoutMs },
                  ),
                ],
              }),
            limits.requestTimeoutMs,
          );
        });
        try {
          return (await Promise.race([executeFn(a), expired])) as Awaited<ReturnType<typeof executeFn>>;
        } finally {
          clearTimeout(timer);
        }
      });
      return {
        // The last line of defense: limits above keep answers far smaller.
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result) return; // subscriptions: one small event at a time
          const bytes = Buffer.byteLength(JSON.stringify(result));
          if (bytes > limits.maxResponseBytes)
            setResult({
              errors: [
                userError(
                  `the answer is ${bytes} bytes, over the limit of ${limits.maxResponseBytes}; ask for fewer fields or rows`,
                  'RESPONSE_TOO_LARGE',
                  { bytes, max: limits.maxResponseBytes },
                ),
              ],
            });
        },
      };
    },
  };
}

const LONG_QUOTE = /"((?:[^"\\]|\\.){41,})"/g;

/**
 * graphql's own messages quote the input they refuse (`Value "…" does not exist in "Chain"
 * enum.`, `Variable "$a" got invalid value "…"`): quoted runs over 40 characters are cut, as
 * errors.ts `quote` does for Vigil's own messages, so an answer never echoes a large input.
 */
export function useShortErrorMessages(): Plugin {
  const shorten = (message: string) =>
    message.replace(
      LONG_QUOTE,
      (_, inner: string) => `${quote(inner.slice(0, 40))}… (${inner.length} characters)`,
    );
  // Errors are frozen: a long one is rebuilt with its locations, path and extensions.
  const short = (e: GraphQLError) => {
    const message = shorten(e.message);
    if (message === e.message) return e;
    const { nodes, source, positions, path, originalError, extensions } = e;
    return createGraphQLError(message, { nodes, source, positions, path, originalError, extensions });
  };
  const shortResult = <T>(r: T): T =>
    r && typeof r === 'object' && 'errors' in r && Array.isArray(r.errors)
      ? { ...r, errors: r.errors.map(short) }
      : r;
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result)) setResult(result.map(shortResult));
      else if (!(Symbol.asyncIterator in result)) setResult(shortResult(result));
    },
  };
}

/** The request's time budget is spent: resolvers call this before starting Neo4j work. */
export function checkDeadline(deadline: number | undefined): void {
  if (deadline !== undefined && Date.now() > deadline)
    throw userError('the request ran out of its time budget', 'REQUEST_TIMEOUT');
}
