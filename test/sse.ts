import { waitFor } from './services.ts';

type Fetch = (url: string, init: RequestInit) => Promise<Response> | Response;

/**
 * A GraphQL subscription over SSE, as a browser opens one, on a handler's `fetch` (no port).
 * Resolves once the stream is open: yoga sends its first ping after the subscribe resolver ran, so
 * from then on a published event reaches it. Events are read in the background as they arrive.
 */
export async function openSubscription(fetch: Fetch, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch('http://vigil.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query, variables }),
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: any[] = [];
  let partial = '';
  const take = (chunk: Uint8Array) => {
    const lines = (partial + decoder.decode(chunk, { stream: true })).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.startsWith('data: ')) events.push(JSON.parse(line.slice(6)));
  };
  const first = await reader.read();
  if (first.done) throw new Error('the subscription stream ended before it opened');
  take(first.value);
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      take(value);
    }
  })().catch(() => {}); // cancelled by close()
  let taken = 0;
  return {
    /** Every event's result so far, in order. */
    events,
    /** The next result not taken yet, waiting up to `timeoutMs`. */
    next: (timeoutMs = 10_000) =>
      waitFor('the next subscription event', async () => events[taken] && events[taken++], timeoutMs),
    close: () => reader.cancel(),
  };
}
