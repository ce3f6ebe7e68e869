import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RpcErrorObject {
  code: number;
  message: string;
}
export const METHOD_NOT_FOUND: RpcErrorObject = { code: -32601, message: 'Method not found' };

/**
 * A JSON-RPC proxy in front of a real node, for tests and benchmarks: it records each method called
 * and the bytes answered, and answers a call with the error `failWith` returns for it instead of
 * forwarding it: as a node or provider without a method would (`METHOD_NOT_FOUND`, e.g. no
 * pending-tx filters), or one failing for a while.
 */
export async function startRpcProxy(
  target: string,
  failWith: (method: string) => RpcErrorObject | undefined = () => undefined,
) {
  const calls: string[] = [];
  let bytesOut = 0;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    const requests = [parsed].flat() as { id: number; method: string }[];
    calls.push(...requests.map((r) => r.method));
    const answer = async (r: { id: number; method: string }) => {
      const error = failWith(r.method);
      return error
        ? { jsonrpc: '2.0', id: r.id, error }
        : (
            await fetch(target, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(r),
            })
          ).json();
    };
    const answers = await Promise.all(requests.map(answer));
    const body = JSON.stringify(Array.isArray(parsed) ? answers : answers[0]);
    bytesOut += Buffer.byteLength(body);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    /** Bytes of the answers sent so far. */
    bytesOut: () => bytesOut,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
