import net from 'node:net';

/**
 * Loopback ports the OS says are free now, distinct from each other (all held open at once, then
 * closed). Another process may take one before it is used: callers that start a server on it
 * should fail clearly on EADDRINUSE.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer();
          s.unref();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** One free loopback port (see freePorts). */
export const findFreePort = async (): Promise<number> => (await freePorts(1))[0]!;
