import { Mainnet, createCustomCommon } from '@ethereumjs/common';
import { Wallet, parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HARDFORK } from '../../chains/ethereum/hardfork.ts';
import { type JsonRpcClient, createHttpRpc } from '../../chains/ethereum/rpc.ts';
import type { RpcTransaction } from '../../chains/ethereum/types.ts';
import { closeMonitorProvider, createMonitorProvider } from '../../chains/ethereum/watcher.ts';
import { silentLogger } from '../../common/logger.ts';
import { type LocalNode, startAnvil } from '../../dev/ethereum/localNode.ts';
import { createHeadTracker, nextBaseFee } from './heads.ts';
import { observableKey, observablesOf, parseInvariants } from './invariants.ts';
import { createTxParser, simulate } from './simulate.ts';
import { EngineError } from './types.ts';
import { createVmPool } from './vmPool.ts';

/** The engine's parts one by one, on a real anvil (no automine). */
describe('engine parts on anvil', () => {
  let node: LocalNode;
  let rpc: JsonRpcClient;
  let common: ReturnType<typeof createCustomCommon>;
  const sent: RpcTransaction[] = [];
  beforeAll(async () => {
    node = await startAnvil({ log: silentLogger });
    rpc = createHttpRpc({ url: node.rpcUrl });
    common = createCustomCommon({ chainId: node.chainId, name: 'parts' }, Mainnet, { hardfork: HARDFORK });
    // Two pending transfers of 1 ETH from account 1 to account 2 (nonces 0 and 1).
    const http = createMonitorProvider({ url: node.rpcUrl, chainId: node.chainId });
    const w = new Wallet(node.accounts[1]!.privateKey, http);
    for (const nonce of [0, 1]) {
      const t = await w.sendTransaction({ to: node.accounts[2]!.address, value: parseEther('1'), nonce });
      sent.push(await rpc.call<RpcTransaction>('eth_getTransactionByHash', [t.hash]));
    }
    await closeMonitorProvider(http);
  }, 60_000);
  afterAll(async () => {
    rpc?.close();
    await node?.stop();
  });

  it('nextBaseFee follows EIP-1559', () => {
    expect(nextBaseFee({ gasLimit: 30_000_000n, gasUsed: 15_000_000n, baseFee: 1000n })).toBe(1000n);
    expect(nextBaseFee({ gasLimit: 30_000_000n, gasUsed: 30_000_000n, baseFee: 1000n })).toBe(1125n);
    expect(nextBaseFee({ gasLimit: 30_000_000n, gasUsed: 0n, baseFee: 1000n })).toBe(875n);
  });

  it('the VM pool hands a released VM to the first waiter', async () => {
    const pool = await createVmPool({ common, rpc, size: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(a).not.toBe(b);
    expect(pool.free).toBe(0);
    const order: string[] = [];
    const first = pool.acquire().then((s) => {
      order.push('first');
      return s;
    });
    const second = pool.acquire().then((s) => {
      order.push('second');
      return s;
    });
    pool.release(b);
    expect(await first).toBe(b);
    pool.release(a);
    expect(await second).toBe(a);
    expect(order).toEqual(['first', 'second']);
  });

  it('the head tracker keeps one head (and its cache) until told to move, and warms watched state', async () => {
    const heads = createHeadTracker({ rpc, common, log: silentLogger, error: EngineError });
    const h1 = await heads.current();
    expect(await heads.current()).toBe(h1);
    const watched = node.accounts[3]!.address.toLowerCase();
    await heads.prefetch({ accounts: [watched] });
    const before = h1.reader.reads;
    await h1.reader.getAccount(watched);
    expect(h1.reader.reads).toBe(before); // warm
    await node.mine(1);
    expect(await heads.newHead()).toBe(h1.number + 1n);
    const h2 = await heads.current();
    expect(h2).not.toBe(h1);
    const reads = h2.reader.reads;
    await h2.reader.getAccount(watched); // warmed again on the new head
    expect(h2.reader.reads).toBe(reads);
    await expect(heads.newHead(10_000)).rejects.toBeInstanceOf(EngineError);
  });

  it('simulates priors then the tx and judges the invariant before/after; names a prior that cannot apply', async () => {
    // Mined above: the two transfers are in block 1. Simulate copies of them on block 0's state.
    const heads = createHeadTracker({ rpc, common, log: silentLogger });
    await heads.newHead(0);
    const h = await heads.current();
    const parser = createTxParser(common);
    const [p0, p1] = [await parser.parse(sent[0]!), await parser.parse(sent[1]!)];
    expect(await parser.parse(sent[0]!)).toBe(p0); // parsed once
    const from = node.accounts[1]!.address;
    const invariants = parseInvariants([{ id: 'drop', kind: 'balanceMaxDrop', account: from, bps: 100 }]);
    const observables = new Map(observablesOf(invariants[0]!).map((o) => [observableKey(o), o]));
    const pool = await createVmPool({ common, rpc, size: 1 });
    const slot = await pool.acquire();
    const ok = await simulate({
      slot,
      reader: h.reader,
      block: h.block,
      priors: [{ raw: sent[0]!, tx: p0 }],
      main: { raw: sent[1]!, tx: p1 },
      invariants,
      observables,
    });
    expect(ok.failed).toBeUndefined();
    expect(ok.priorTxs.map((t) => t.status)).toEqual(['success']);
    expect(ok.tx.status).toBe('success');
    // 2 ETH out of 10,000: a 0.02 % drop is under 1 %.
    if (ok.failed !== undefined) throw new Error(ok.failed);
    expect(ok.invariants[0]!.status).toBe('holds');
    // Without its prior the second transfer's nonce is ahead of the state.
    const gap = await simulate({
      slot,
      reader: h.reader,
      block: h.block,
      priors: [],
      main: { raw: sent[1]!, tx: p1 },
      invariants,
      observables,
    });
    expect(gap.failed).toMatch(
      /^tx not simulated: .*nonce.*\(earlier pending txs of the sender not applied\?\)$/,
    );
    expect(gap.tx.status).toBe('invalid');
    // A prior that cannot apply (the second one twice): named, the tx not run.
    const bad = await simulate({
      slot,
      reader: h.reader,
      block: h.block,
      priors: [{ raw: sent[1]!, tx: p1 }],
      main: { raw: sent[1]!, tx: p1 },
      invariants,
      observables,
    });
    expect(bad.failed).toMatch(new RegExp(`^prior tx ${sent[1]!.hash} could not be applied`));
    expect(bad.tx).toEqual({ hash: sent[1]!.hash, status: 'error' });
    pool.release(slot);
  });
});
