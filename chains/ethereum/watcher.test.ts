import { Wallet, parseEther } from 'ethers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalNode, startAnvil } from './localNode.ts';
import { METHOD_NOT_FOUND, type RpcErrorObject, startRpcProxy } from './rpcProxy.ts';
import type { RpcTransaction } from './types.ts';
import { closeMonitorProvider, createMonitorProvider, watchHeads, watchPending } from './watcher.ts';

const log = () => {};

async function waitFor<T>(get: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('watchers on anvil', () => {
  let node: LocalNode;
  beforeAll(async () => {
    node = await startAnvil({ log });
  });
  afterAll(async () => {
    await node?.stop();
  });
  // Each test starts from an empty pool, even after one that failed midway.
  beforeEach(() => node.rpc('anvil_dropAllTransactions'));

  async function send(i: number, nonce: number) {
    const http = createMonitorProvider({ url: node.rpcUrl, chainId: node.chainId });
    const w = new Wallet(node.accounts[i]!.privateKey, http);
    const tx = await w.sendTransaction({ to: node.accounts[9]!.address, value: parseEther('0.1'), nonce });
    await closeMonitorProvider(http);
    return tx.hash;
  }

  it('WebSocket subscription delivers the full pending tx with from', async () => {
    const ws = createMonitorProvider({ url: node.wsUrl, chainId: node.chainId });
    const got: RpcTransaction[] = [];
    const w = await watchPending(ws, (tx) => void got.push(tx), { log });
    expect(w.mode).toBe('subscribe');
    const hash = await send(1, 0);
    const tx = await waitFor(() => got.find((t) => t.hash === hash));
    expect(tx.from.toLowerCase()).toBe(node.accounts[1]!.address.toLowerCase());
    expect(tx.blockNumber).toBeNull();
    await w.stop();
    // After stop, nothing more is delivered.
    const n = got.length;
    await send(1, 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(got.length).toBe(n);
    await closeMonitorProvider(ws);
    await node.rpc('anvil_dropAllTransactions');
  });

  it('polling a pending-tx filter delivers each pending tx once, those pending before it too', async () => {
    const before = await send(2, 0);
    const proxy = await startRpcProxy(node.rpcUrl); // counts the calls
    const http = createMonitorProvider({ url: proxy.url, chainId: node.chainId });
    const got: RpcTransaction[] = [];
    const logged: string[] = [];
    const w = await watchPending(http, (tx) => void got.push(tx), {
      log: (m) => logged.push(m),
      pollIntervalMs: 30,
    });
    expect(w.mode).toBe('poll');
    const h1 = await send(3, 0);
    const h2 = await send(4, 0);
    await waitFor(() => (got.length >= 3 ? true : undefined));
    await new Promise((r) => setTimeout(r, 150)); // several more polls: no duplicates
    expect(got.map((t) => t.hash).sort()).toEqual([before, h1, h2].sort());
    expect(got.every((t) => typeof t.from === 'string')).toBe(true);
    // The pool is read once, with the new filter; every later poll asks the filter.
    expect(logged.join('\n')).not.toMatch(/unsupported/);
    expect(proxy.calls.filter((m) => m === 'txpool_content')).toHaveLength(1);
    expect(proxy.calls.filter((m) => m === 'eth_getFilterChanges').length).toBeGreaterThanOrEqual(3);
    await w.stop();
    expect(proxy.calls.at(-1)).toBe('eth_uninstallFilter');
    await closeMonitorProvider(http);
    await proxy.close();
    await node.rpc('anvil_dropAllTransactions');
  });

  it('falls back to txpool_content on a node without pending-tx filters', async () => {
    const proxy = await startRpcProxy(node.rpcUrl, (method) =>
      method.includes('Filter') ? METHOD_NOT_FOUND : undefined,
    );
    const http = createMonitorProvider({ url: proxy.url, chainId: node.chainId });
    const got: RpcTransaction[] = [];
    const logged: string[] = [];
    const w = await watchPending(http, (tx) => void got.push(tx), {
      log: (m) => logged.push(m),
      pollIntervalMs: 30,
    });
    const h1 = await send(5, 0);
    const h2 = await send(6, 0);
    await waitFor(() => (got.length >= 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 150));
    expect(got.map((t) => t.hash).sort()).toEqual([h1, h2].sort());
    expect(logged).toContain('watcher: pending-tx filters unsupported, polling txpool_content');
    expect(proxy.calls.filter((m) => m === 'txpool_content').length).toBeGreaterThan(3);
    await w.stop();
    await closeMonitorProvider(http);
    await proxy.close();
    await node.rpc('anvil_dropAllTransactions');
  });

  it('loses nothing to lookups or pool reads that fail for a while', async () => {
    const busy: RpcErrorObject = { code: -32000, message: 'server busy' };
    let failing = new Set(['txpool_content']);
    const proxy = await startRpcProxy(node.rpcUrl, (m) => (failing.has(m) ? busy : undefined));
    const before = await send(7, 0);
    const http = createMonitorProvider({ url: proxy.url, chainId: node.chainId });
    const got: string[] = [];
    const failures: unknown[] = [];
    const w = await watchPending(http, (tx) => void got.push(tx.hash!), {
      log,
      pollIntervalMs: 20,
      onError: (e) => failures.push(e),
    });
    try {
      // The pool read that follows a new filter fails: it is tried again until it answers.
      await waitFor(() => (failures.length >= 3 ? true : undefined));
      expect(got).toEqual([]);
      failing = new Set();
      await waitFor(() => (got.includes(before) ? true : undefined));
      // A new tx whose lookup fails: asked again until it answers.
      failing = new Set(['eth_getTransactionByHash']);
      const failed = failures.length;
      const during = await send(8, 0);
      await waitFor(() => (failures.length >= failed + 3 ? true : undefined));
      expect(got).not.toContain(during);
      failing = new Set();
      await waitFor(() => (got.includes(during) ? true : undefined));
      await new Promise((r) => setTimeout(r, 100));
      expect(got.sort()).toEqual([before, during].sort());
    } finally {
      await w.stop();
      await closeMonitorProvider(http);
      await proxy.close();
    }
  });

  it('replaces a filter the node lost in a restart, and reads the pool again', async () => {
    const own = await startAnvil({ log });
    const port = own.port;
    let restarted: LocalNode | undefined;
    const http = createMonitorProvider({ url: own.rpcUrl, chainId: own.chainId });
    const got: string[] = [];
    const logged: string[] = [];
    const failures: unknown[] = [];
    const w = await watchPending(http, (tx) => void got.push(tx.hash!), {
      log: (m) => logged.push(m),
      pollIntervalMs: 30,
      onError: (e) => failures.push(e),
    });
    try {
      const pay = async (n: LocalNode) => {
        const p = createMonitorProvider({ url: n.rpcUrl, chainId: n.chainId });
        const tx = await new Wallet(n.accounts[1]!.privateKey, p).sendTransaction({
          to: n.accounts[9]!.address,
          value: 1n,
          nonce: await p.getTransactionCount(n.accounts[1]!.address, 'pending'),
        });
        await closeMonitorProvider(p);
        return tx.hash;
      };
      const h1 = await pay(own);
      await waitFor(() => (got.includes(h1) ? true : undefined));
      await own.stop();
      await new Promise((r) => setTimeout(r, 200)); // polls fail while the node is down
      restarted = await startAnvil({ log, port });
      const h2 = await pay(restarted);
      await waitFor(() => (got.includes(h2) ? true : undefined), 10_000);
      expect(failures.length).toBeGreaterThan(0);
      expect(logged).toContain('watcher: pending-tx filter lost, creating a new one');
      expect(got.filter((h) => h === h2)).toHaveLength(1);
    } finally {
      await w.stop();
      await closeMonitorProvider(http);
      await restarted?.stop();
    }
  });

  it('watchHeads reports mined blocks', async () => {
    const ws = createMonitorProvider({ url: node.wsUrl, chainId: node.chainId });
    const heads: number[] = [];
    const w = await watchHeads(ws, (n) => void heads.push(n), { log });
    const start = Number(await node.rpc<string>('eth_blockNumber'));
    await new Promise((r) => setTimeout(r, 100));
    await node.mine();
    await waitFor(() => heads.find((n) => n === start + 1));
    await w.stop();
    await closeMonitorProvider(ws);
  });
});
