import { Wallet, parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalNode, startAnvil } from './localNode.ts';
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

  it('polling txpool_content delivers each pending tx once', async () => {
    const http = createMonitorProvider({ url: node.rpcUrl, chainId: node.chainId });
    const got: RpcTransaction[] = [];
    const w = await watchPending(http, (tx) => void got.push(tx), { log, pollIntervalMs: 30 });
    expect(w.mode).toBe('poll');
    const h1 = await send(2, 0);
    const h2 = await send(3, 0);
    await waitFor(() => (got.length >= 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 150)); // several more polls: no duplicates
    expect(got.map((t) => t.hash).sort()).toEqual([h1, h2].sort());
    expect(got.every((t) => typeof t.from === 'string')).toBe(true);
    await w.stop();
    await closeMonitorProvider(http);
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
