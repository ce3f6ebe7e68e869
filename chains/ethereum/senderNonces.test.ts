import { Wallet, parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { type LocalNode, startAnvil } from '../../dev/ethereum/localNode.ts';
import { type JsonRpcClient, createHttpRpc } from './rpc.ts';
import { createSenderNonces } from './senderNonces.ts';
import type { RpcTransaction } from './types.ts';
import { closeMonitorProvider, createMonitorProvider } from './watcher.ts';

/**
 * One sender on anvil (no automine): nonces 0 and 1 mined, then 2 and 3 pending, 4 never sent (a
 * gap) and 5 queued behind the gap. (Nonce 0 is never 'mined': it has no priors, nothing is read.)
 */
describe('sender nonces on anvil', () => {
  let node: LocalNode;
  let rpc: JsonRpcClient;
  let from: string;
  const hashes = new Map<number, string>();
  const sent = new Map<number, RpcTransaction>();

  beforeAll(async () => {
    node = await startAnvil({ log: silentLogger });
    rpc = createHttpRpc({ url: node.rpcUrl });
    const http = createMonitorProvider({ url: node.rpcUrl, chainId: node.chainId });
    const w = new Wallet(node.accounts[1]!.privateKey, http);
    from = w.address.toLowerCase();
    const send = async (nonce: number) => {
      const tx = await w.sendTransaction({ to: node.accounts[9]!.address, value: parseEther('0.01'), nonce });
      hashes.set(nonce, tx.hash);
    };
    await send(0);
    await send(1);
    await node.mine(1);
    for (const n of [2, 3, 5]) await send(n);
    await closeMonitorProvider(http);
    for (const [n, h] of hashes) sent.set(n, await rpc.call<RpcTransaction>('eth_getTransactionByHash', [h]));
  }, 60_000);
  afterAll(async () => {
    rpc?.close();
    await node?.stop();
  });

  const head = async () => Number(BigInt(await rpc.call<string>('eth_blockNumber')));
  /** The priors of a tx that is not mined (throws on 'mined'). */
  const priorsOf = async (nonces: ReturnType<typeof createSenderNonces>, tx: RpcTransaction) => {
    const p = await nonces.priors(tx);
    if (p === 'mined') throw new Error(`nonce ${tx.nonce} reported mined`);
    return p;
  };
  const fake = (nonce: number): RpcTransaction => ({
    ...sent.get(2)!,
    hash: `0x${nonce.toString(16).padStart(64, '0')}`,
    nonce: `0x${nonce.toString(16)}`,
  });

  it('reads the state nonce once per head', async () => {
    let calls = 0;
    const counting: JsonRpcClient = {
      ...rpc,
      call: (m, p) => {
        if (m === 'eth_getTransactionCount') calls++;
        return rpc.call(m, p);
      },
    };
    const nonces = createSenderNonces({ rpc: counting });
    nonces.onHead(await head());
    expect(await nonces.stateNonce(from)).toBe(2);
    expect(await nonces.stateNonce(from.toUpperCase().replace('0X', '0x'))).toBe(2);
    expect(calls).toBe(1);
    nonces.onHead(nonces.head + 1);
    await nonces.stateNonce(from);
    expect(calls).toBe(2);
  });

  it("a mined nonce is 'mined'; the state nonce has no priors", async () => {
    const nonces = createSenderNonces({ rpc });
    nonces.onHead(await head());
    expect(await nonces.priors(sent.get(1)!)).toBe('mined');
    expect(await nonces.priors(sent.get(2)!)).toEqual([]);
  });

  it('fills priors not seen yet from the txpool, in nonce order, leaving the gap out', async () => {
    const nonces = createSenderNonces({ rpc });
    nonces.onHead(await head());
    const three = await priorsOf(nonces, sent.get(3)!);
    expect(three.map((t) => t.hash)).toEqual([hashes.get(2)]);
    // 4 was never sent: only 2 and 3 come before 5.
    const five = await priorsOf(nonces, sent.get(5)!);
    expect(five.map((t) => t.hash)).toEqual([hashes.get(2), hashes.get(3)]);
  });

  it('a remembered tx fills its nonce without the pool, and is forgotten 32 heads later', async () => {
    const nonces = createSenderNonces({ rpc });
    const h = await head();
    nonces.onHead(h);
    nonces.remember(fake(4));
    const five = await priorsOf(nonces, sent.get(5)!);
    expect(five.map((t) => Number(BigInt(t.nonce)))).toEqual([2, 3, 4]);
    expect(five[2]!.hash).toBe(fake(4).hash);
    expect(nonces.senders).toBe(1);
    nonces.onHead(h + 32);
    expect(nonces.senders).toBe(1);
    nonces.onHead(h + 33);
    expect(nonces.senders).toBe(0);
  });

  it("poolOf holds the sender's pending and queued txs, not the mined one", async () => {
    const nonces = createSenderNonces({ rpc });
    const pool = await nonces.poolOf(from);
    expect([...pool.keys()].sort()).toEqual([2n, 3n, 5n]);
    expect(pool.get(5n)!.hash).toBe(hashes.get(5));
    expect((await nonces.poolOf(node.accounts[2]!.address)).size).toBe(0);
  });
});
