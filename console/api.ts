import { createClient } from 'graphql-sse';
import { askForKey, forgetKey, keyHeaders } from './writeKey.tsx';

/**
 * The console's only data path: Vigil's GraphQL API at /graphql on the server that served the page.
 * Queries and mutations are POSTs; subscriptions are GraphQL over SSE (graphql-sse's "distinct
 * connections mode", what graphql-yoga speaks).
 */
export const GRAPHQL_URL = '/graphql';

/** An error the API answered, with its `extensions.code` (BAD_USER_INPUT, FORBIDDEN, …). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly status?: number,
    /** The error's other extensions (`argument`, `issues`): forms show them by field. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface GraphQlAnswer<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } & Record<string, unknown> }[];
}

async function post<T>(
  query: string,
  variables: Record<string, unknown>,
): Promise<{ status: number; body: GraphQlAnswer<T> }> {
  const res = await fetch(GRAPHQL_URL, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...keyHeaders(),
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as GraphQlAnswer<T> };
  } catch {
    throw new ApiError(`the API answered HTTP ${res.status}: ${text.slice(0, 200)}`, undefined, res.status);
  }
}

const KEY_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

/**
 * Runs a query or mutation. When the API wants a key (401) or a write key (403), asks for it once
 * per session (writeKey.tsx) and tries again; a dismissed prompt ends with the API's error.
 */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const { status, body } = await post<T>(query, variables);
    const first = body.errors?.[0];
    if (!first && body.data) return body.data;
    const code = first?.extensions?.code;
    if (code && KEY_CODES.has(code) && attempt < 3) {
      forgetKey();
      const why = code === 'FORBIDDEN' ? 'This needs a write key.' : 'The API needs a key.';
      if (await askForKey(`${why} (${first!.message})`)) continue;
    }
    throw new ApiError(
      first?.message ?? `the API answered HTTP ${status} without data`,
      code,
      status,
      first?.extensions,
    );
  }
}

const sse = createClient({
  url: () => new URL(GRAPHQL_URL, location.href).href,
  headers: () => keyHeaders(),
  retryAttempts: 1_000_000, // a live feed keeps trying while the API restarts
});

/** A subscription: `onData` gets each result's data; returns the function that stops it. */
export function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  onData: (data: T) => void,
  onError: (err: Error) => void,
): () => void {
  return sse.subscribe<T>(
    { query, variables },
    {
      next: (r) => {
        if (r.errors?.length) onError(new ApiError(r.errors.map((e) => e.message).join('; ')));
        else if (r.data) onData(r.data as T);
      },
      error: (err) => onError(err instanceof Error ? err : new Error(String(err))),
      complete: () => {},
    },
  );
}
