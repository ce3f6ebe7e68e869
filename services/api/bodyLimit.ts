import { type Plugin, createGraphQLError } from 'graphql-yoga';

/** Largest request body the API reads (a GraphQL document and its variables). */
export const MAX_REQUEST_BODY_BYTES = 1_000_000;

const tooLarge = (limit: number) =>
  createGraphQLError(`request body larger than ${limit} bytes`, {
    extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } },
  });

/**
 * The request body size limit, in place of yoga's own (turned off with `maxRequestBodySize: false`).
 * Yoga pipes every body through a counting stream; a body with a valid Content-Length needs none,
 * since the HTTP parser reads exactly that many bytes, and the pipe cost about 4% of the API
 * process's busy time on `bench:graphql` neighbors. Only a body without one (chunked) is counted.
 */
export function useBodyLimit(limit = MAX_REQUEST_BODY_BYTES): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const length = request.headers.get('content-length');
      if (length != null) {
        if (!/^\d+$/.test(length)) {
          throw createGraphQLError('Content-Length header is invalid', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
        if (Number(length) > limit) throw tooLarge(limit);
        return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser((req) => {
        let read = 0;
        // A native body takes the native TransformStream, as yoga does (graphql-hive/graphql-yoga#4583).
        const Transform =
          req.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
        const counted = req.body!.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > limit) controller.error(tooLarge(limit));
              else controller.enqueue(chunk);
            },
          }),
        );
        // biome-ignore format: the duplex option is missing from the Request types
        return parse(new fetchAPI.Request(req.url, { method: req.method, headers: req.headers, signal: req.signal, body: counted, duplex: 'half' } as RequestInit));
      });
    },
  };
}
