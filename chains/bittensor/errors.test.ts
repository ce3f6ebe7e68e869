import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startLocalSubtensor } from '../../dev/bittensor/localChain.ts';
import { connectSubtensor } from './client.ts';
import { ChainSpecNotFoundError, ChainUnreachableError } from './errors.ts';

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('clear errors', () => {
  it('names the missing chain spec path', async () => {
    const path = '/nonexistent/vigil/subtensor-spec.json';
    const err = await startLocalSubtensor({ specPath: path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChainSpecNotFoundError);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toContain('SUBTENSOR_SPEC');
  });

  it('gives up on an unreachable node within the timeout and names the URL', async () => {
    const url = `ws://127.0.0.1:${await closedPort()}`;
    const started = Date.now();
    const err = await connectSubtensor(url, { timeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChainUnreachableError);
    expect((err as ChainUnreachableError).url).toBe(url);
    expect((err as Error).message).toContain(url);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
