import { Wallet, parseEther } from 'ethers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { type LocalNode, startAnvil } from '../../dev/ethereum/localNode.ts';
import { METHOD_NOT_FOUND, type RpcErrorObject, startRpcProxy } from '../../dev/ethereum/rpcProxy.ts';
import { LEVEL, captureLogger } from '../../test/log.ts';
import type { RpcTransaction } from './types.ts';
import {
  BACKSTOP_POLL_MS,
  closeMonitorProvider,
  createMonitorProvider,
  watchHeads,
  watchPending,
} from './watcher.ts';

type Send = (method: string, params: unknown[]) => Promise<unknown>;

const log = silentLogger;

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

  async function send(i: number, nonce: number, to: LocalNode = node) {
    const http = createMonitorProvider({ url: to.rpcUrl, chainId: to.chainId });
    const w = new Wallet(to.accounts[i]!.privateKey, http);
    const tx = await w.sendTransaction({ to: to.accounts[9]!.address, value: parseEther('0.1'), nonce });
    await closeMonitorProvider(http);
    return tx.hash;
  }

  /**
   * A watcher on `url` recording what it delivers, logs and fails on. `wrap` sees every request the
   * watcher sends on its real provider (to count or fail some).
   */
  async function watching(
    url: string,
    o: {
      pollIntervalMs?: number;
      wrap?: (method: string, params: unknown[], send: Send) => Promise<unknown>;
    } = {},
  ) {
    const provider = createMonitorProvider({ url, chainId: node.chainId });
    if (o.wrap) {
      const send: Send = provider.send.bind(provider);
      provider.send = (method, params) => o.wrap!(method, params as unknown[], send);
    }
    const got: RpcTransaction[] = [];
    const { log: captured, lines } = captureLogger();
    const failures: unknown[] = [];
    const w = await watchPending(provider, (tx) => void got.push(tx), {
      log: captured.child({ component: 'watcher' }),
      pollIntervalMs: o.pollIntervalMs ?? 30,
      onError: (e) => failures.push(e),
    });
    return {
      w,
      got,
      hashes: () => got.map((t) => t.hash!),
      logged: lines,
      failures,
      stop: async () => {
        await w.stop();
        await closeMonitorProvider(provider);
      },
    };
  }

  it('WebSocket subscription delivers the full pending tx with from', async () => {
    const v = await watching(node.wsUrl);
    expect(v.w.mode).toBe('subscribe');
    const hash = await send(1, 0);
    const tx = await waitFor(() => v.got.find((t) => t.hash === hash));
    expect(tx.from.toLowerCase()).toBe(node.accounts[1]!.address.toLowerCase());
    expect(tx.blockNumber).toBeNull();
    await v.w.stop();
    // After stop, nothing more is delivered.
    const n = v.got.length;
    await send(1, 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(v.got.length).toBe(n);
    await v.stop();
  });

  it('has delivered the txs pending before it once it resolves, however slow the pool read', async () => {
    const before = await send(5, 0);
    const v = await watching(node.wsUrl, {
      wrap: async (method, params, send) => {
        if (method === 'txpool_content') await new Promise((r) => setTimeout(r, 300));
        return send(method, params);
      },
    });
    // Had it resolved before its first pool read, a tx sent now could be delivered by that read
    // instead of by its own announcement, and `before` would not be here yet.
    expect(v.hashes()).toEqual([before]);
    await v.stop();
  });

  it('over WebSocket, looks each tx up once, though the subscription and its backstop both see it', async () => {
    const lookups: string[] = [];
    const methods: string[] = [];
    const v = await watching(node.wsUrl, {
      wrap: (method, params, send) => {
        methods.push(method);
        if (method === 'eth_getTransactionByHash') lookups.push(params[0] as string);
        return send(method, params);
      },
    });
    const sent = [await send(1, 0), await send(2, 0), await send(3, 0)];
    await waitFor(() => (v.got.length >= 3 ? true : undefined));
    await new Promise((r) => setTimeout(r, 3 * BACKSTOP_POLL_MS)); // the backstop's polls see them too
    expect(v.hashes().sort()).toEqual([...sent].sort());
    expect(lookups.sort()).toEqual([...sent].sort());
    expect(methods.filter((m) => m === 'eth_getFilterChanges').length).toBeGreaterThanOrEqual(2);
    expect(v.failures).toEqual([]);
    await v.stop();
  });

  it('over WebSocket, delivers by the backstop a tx whose lookup failed', async () => {
    const failedOnce = new Set<string>();
    const v = await watching(node.wsUrl, {
      wrap: (method, params, send) => {
        const hash = params[0] as string;
        if (method === 'eth_getTransactionByHash' && !failedOnce.has(hash)) {
          failedOnce.add(hash);
          return Promise.reject(new Error('connection reset'));
        }
        return send(method, params);
      },
    });
    const hash = await send(4, 0);
    await waitFor(() => (v.hashes().includes(hash) ? true : undefined), 3000);
    expect(v.hashes()).toEqual([hash]);
    expect(v.failures.map((e) => (e as Error).message)).toEqual(['connection reset']);
    await v.stop();
  });

  it('polling a pending-tx filter delivers each pending tx once, those pending before it too', async () => {
    const before = await send(2, 0);
    const proxy = await startRpcProxy(node.rpcUrl); // counts the calls
    const v = await watching(proxy.url);
    expect(v.w.mode).toBe('poll');
    const h1 = await send(3, 0);
    const h2 = await send(4, 0);
    await waitFor(() => (v.got.length >= 3 ? true : undefined));
    await new Promise((r) => setTimeout(r, 150)); // several more polls: no duplicates
    expect(v.hashes().sort()).toEqual([before, h1, h2].sort());
    expect(v.got.every((t) => typeof t.from === 'string')).toBe(true);
    // The pool is read once, with the new filter; every later poll asks the filter.
    expect(v.logged.map((l) => l.msg).join('\n')).not.toMatch(/unsupported/);
    expect(v.failures).toEqual([]);
    expect(proxy.calls.filter((m) => m === 'txpool_content')).toHaveLength(1);
    expect(proxy.calls.filter((m) => m === 'eth_getFilterChanges').length).toBeGreaterThanOrEqual(3);
    await v.w.stop();
    expect(proxy.calls.at(-1)).toBe('eth_uninstallFilter');
    await v.stop();
    await proxy.close();
  });

  it('falls back to txpool_content on a node without pending-tx filters', async () => {
    const proxy = await startRpcProxy(node.rpcUrl, (method) =>
      method.includes('Filter') ? METHOD_NOT_FOUND : undefined,
    );
    const v = await watching(proxy.url);
    const h1 = await send(5, 0);
    const h2 = await send(6, 0);
    await waitFor(() => (v.got.length >= 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 150));
    expect(v.hashes().sort()).toEqual([h1, h2].sort());
    expect(v.logged).toContainEqual(
      expect.objectContaining({
        level: LEVEL.info,
        component: 'watcher',
        msg: 'pending-tx filters unsupported: polling txpool_content',
      }),
    );
    expect(proxy.calls.filter((m) => m === 'txpool_content').length).toBeGreaterThan(3);
    await v.stop();
    await proxy.close();
  });

  it('loses nothing to lookups or pool reads that fail for a while', async () => {
    const busy: RpcErrorObject = { code: -32000, message: 'server busy' };
    let failing = new Set(['txpool_content']);
    const proxy = await startRpcProxy(node.rpcUrl, (m) => (failing.has(m) ? busy : undefined));
    const before = await send(7, 0);
    const v = await watching(proxy.url, { pollIntervalMs: 20 });
    try {
      // The pool read that follows a new filter fails: it is tried again until it answers.
      await waitFor(() => (v.failures.length >= 3 ? true : undefined));
      expect(v.got).toEqual([]);
      failing = new Set();
      await waitFor(() => (v.hashes().includes(before) ? true : undefined));
      // A new tx whose lookup fails: asked again until it answers.
      failing = new Set(['eth_getTransactionByHash']);
      const failed = v.failures.length;
      const during = await send(8, 0);
      await waitFor(() => (v.failures.length >= failed + 3 ? true : undefined));
      expect(v.hashes()).not.toContain(during);
      failing = new Set();
      await waitFor(() => (v.hashes().includes(during) ? true : undefined));
      await new Promise((r) => setTimeout(r, 100));
      expect(v.hashes().sort()).toEqual([before, during].sort());
    } finally {
      await v.stop();
      await proxy.close();
    }
  });

  it('replaces a filter the node lost in a restart, and reads the pool again', async () => {
    const own = await startAnvil({ log });
    let restarted: LocalNode | undefined;
    const v = await watching(own.rpcUrl);
    try {
      const h1 = await send(1, 0, own);
      await waitFor(() => (v.hashes().includes(h1) ? true : undefined));
      await own.stop();
      await new Promise((r) => setTimeout(r, 200)); // polls fail while the node is down
      restarted = await startAnvil({ log, port: own.port });
      const h2 = await send(1, 0, restarted); // a fresh chain: nonce 0 again
      await waitFor(() => (v.hashes().includes(h2) ? true : undefined), 10_000);
      expect(v.failures.length).toBeGreaterThan(0);
      expect(v.logged).toContainEqual(
        expect.objectContaining({
          level: LEVEL.warn,
          component: 'watcher',
          msg: 'pending-tx filter lost: creating a new one',
        }),
      );
      expect(v.hashes().filter((h) => h === h2)).toHaveLength(1);
    } finally {
      await v.stop();
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
