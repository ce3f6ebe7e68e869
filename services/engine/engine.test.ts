import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Contract, parseEther } from 'ethers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../common/config.ts';
import { ConfigError } from '../../common/errors.ts';
import { silentLogger } from '../../common/logger.ts';
import { findFreePort } from '../../common/ports.ts';
import { type Fixture, setupFixture } from '../../dev/testkit/engine.ts';
import { type Engine, type RpcTransaction, createEngine } from './engine.ts';
import { type Invariant, type InvariantResult, mappingSlot, parseInvariants } from './invariants.ts';

const log = silentLogger;

describe('engine on a real anvil mempool', () => {
  let fx: Fixture;
  let engine: Engine;
  let invariants: Invariant[];

  const raw = (hash: string) => fx.node.rpc<RpcTransaction>('eth_getTransactionByHash', [hash]);
  const byId = (r: { invariants: InvariantResult[] }, id: string) => r.invariants.find((i) => i.id === id)!;
  const nonceOf = (addr: string) => fx.provider.getTransactionCount(addr, 'latest');

  beforeAll(async () => {
    fx = await setupFixture({ log, cacheDir: join(tmpdir(), 'vigil-solc-cache') });
    const { vault, token } = fx.addresses;
    invariants = parseInvariants([
      { id: 'owner', kind: 'ownerUnchanged', contract: vault },
      // paused is packed into the owner's slot (byte 20): setOwner rewrites the slot but must not flip it.
      { id: 'paused', kind: 'unchanged', contract: vault, slot: 0, offset: 20, type: 'bool' },
      { id: 'eth', kind: 'balanceMaxDrop', account: vault, bps: 1000 },
      { id: 'floor', kind: 'balanceFloor', account: vault, min: parseEther('50').toString() },
      { id: 'tokens', kind: 'erc20BalanceDrop', token, holder: vault, mappingSlot: 0, bps: 1000 },
      { id: 'deposits', kind: 'maxDecrease', contract: vault, slot: 4, bps: 5000 },
    ]);
    engine = await createEngine({ rpc: fx.node.rpcUrl, log, poolSize: 2 });
    await engine.prefetch(invariants);
  });

  afterEach(async () => {
    // Keep the chain state pristine between tests: pending txs are dropped, never mined.
    await fx.node.rpc('anvil_dropAllTransactions');
  });

  afterAll(async () => {
    engine?.close();
    await fx?.stop();
  });

  it('a pending setOwner is reported violated with before/after owner', async () => {
    const a = fx.attacker;
    const tx = await (fx.vault.connect(a) as Contract).getFunction('setOwner')(a.address, {
      nonce: await nonceOf(a.address),
    });
    const r = await engine.check({ tx: await raw(tx.hash), invariants });
    expect(r.tx.status).toBe('success');
    expect(byId(r, 'owner')).toMatchObject({
      status: 'violated',
      before: fx.deployer.address.toLowerCase(),
      after: a.address.toLowerCase(),
    });
    expect(byId(r, 'paused')).toMatchObject({ status: 'holds', before: 'false', after: 'false' });
    expect(byId(r, 'eth').status).toBe('holds');
    expect(r.violated).toBe(true);
  });

  it('an attack through Relay (internal calls) is detected', async () => {
    const a = fx.attacker;
    const tx = await (fx.relay.connect(a) as Contract).getFunction('attack')(fx.addresses.vault, a.address, {
      nonce: await nonceOf(a.address),
    });
    const r = await engine.check({ tx: await raw(tx.hash), invariants });
    expect(r.tx.status).toBe('success');
    expect(byId(r, 'owner')).toMatchObject({ status: 'violated', after: fx.addresses.relay.toLowerCase() });
    expect(byId(r, 'eth')).toMatchObject({
      status: 'violated',
      before: parseEther('100').toString(),
      after: '0',
    });
    expect(byId(r, 'floor').status).toBe('violated');
    expect(byId(r, 'tokens')).toMatchObject({
      status: 'violated',
      before: parseEther('5000').toString(),
      after: '0',
    });
  });

  it('benign txs hold, and a reverting attack is not a violation', async () => {
    const u = fx.user;
    const deposit = await (fx.vault.connect(u) as Contract).getFunction('deposit')({
      value: parseEther('1'),
      nonce: await nonceOf(u.address),
    });
    const r1 = await engine.check({ tx: await raw(deposit.hash), invariants });
    expect(r1.tx.status).toBe('success');
    expect(r1.invariants.map((i) => i.status)).toEqual(invariants.map(() => 'holds'));
    expect(byId(r1, 'eth')).toMatchObject({
      before: parseEther('100').toString(),
      after: parseEther('101').toString(),
    });

    // drain by a non-owner reverts on chain: the tx fails, state is untouched.
    const a = fx.attacker;
    const drain = await (fx.vault.connect(a) as Contract).getFunction('drain')(a.address, {
      nonce: await nonceOf(a.address),
      gasLimit: 200_000,
    });
    const r2 = await engine.check({ tx: await raw(drain.hash), invariants });
    expect(r2.tx.status).toBe('reverted');
    expect(r2.violated).toBe(false);
    expect(r2.invariants.every((i) => i.status === 'holds')).toBe(true);
  });

  it('multi-tx take-over: detected only when the earlier pending tx is applied first', async () => {
    const a = fx.attacker;
    const v = fx.vault.connect(a) as Contract;
    const n = await nonceOf(a.address);
    const t1 = await v.getFunction('setOwner')(a.address, { nonce: n });
    const t2 = await v.getFunction('drain')(a.address, { nonce: n + 1, gasLimit: 200_000 });
    const [r1, r2] = await Promise.all([raw(t1.hash), raw(t2.hash)]);

    // Alone, the drain cannot run (its nonce is ahead of the state): error, never holds.
    const alone = await engine.check({ tx: r2, invariants });
    expect(alone.tx.status).toBe('invalid');
    expect(alone.invariants.every((i) => i.status === 'error')).toBe(true);
    expect(alone.invariants[0]!.reason).toMatch(/nonce/);

    for (const priorTxs of [[r1], 'auto' as const]) {
      const r = await engine.check({ tx: r2, invariants, priorTxs });
      expect(r.priorTxs).toMatchObject([{ hash: t1.hash, status: 'success' }]);
      expect(r.tx.status).toBe('success');
      expect(byId(r, 'eth')).toMatchObject({ status: 'violated', after: '0' });
      expect(byId(r, 'tokens')).toMatchObject({ status: 'violated', after: '0' });
      expect(byId(r, 'owner').status).toBe('violated');
    }
  });

  it('a guardian pause flips only the packed bool', async () => {
    const g = fx.guardian;
    const tx = await (fx.vault.connect(g) as Contract).getFunction('pause')({
      nonce: await nonceOf(g.address),
    });
    const r = await engine.check({ tx: await raw(tx.hash), invariants });
    expect(byId(r, 'paused')).toMatchObject({ status: 'violated', before: 'false', after: 'true' });
    expect(byId(r, 'owner').status).toBe('holds');
  });

  it('serves repeated checks on one head from the per-block cache, and concurrently', async () => {
    const u = fx.user;
    const tx = await (fx.vault.connect(u) as Contract).getFunction('deposit')({
      value: 5n,
      nonce: await nonceOf(u.address),
    });
    const r = await raw(tx.hash);
    await engine.check({ tx: r, invariants });
    const again = await engine.check({ tx: r, invariants });
    expect(again.rpcReads).toBe(0);
    const many = await Promise.all(Array.from({ length: 8 }, () => engine.check({ tx: r, invariants })));
    for (const m of many) expect(m.invariants).toEqual(again.invariants);
  });

  it('agrees with the node once mined: gas, status and written values', async () => {
    const a = fx.attacker;
    const tx = await (fx.relay.connect(a) as Contract).getFunction('attack')(fx.addresses.vault, a.address, {
      nonce: await nonceOf(a.address),
    });
    const r = await engine.check({ tx: await raw(tx.hash), invariants });
    await fx.node.mine();
    const receipt = await fx.provider.getTransactionReceipt(tx.hash);
    expect(receipt?.status).toBe(1);
    expect(r.tx.gasUsed).toBe(receipt!.gasUsed.toString());
    const slot = mappingSlot(fx.addresses.vault, 0n);
    expect(BigInt(await fx.provider.getStorage(fx.addresses.token, slot))).toBe(
      BigInt(byId(r, 'tokens').after!),
    );
    expect((await fx.provider.getBalance(fx.addresses.vault)).toString()).toBe(byId(r, 'eth').after);
    // A new head means a new cache: the drained state is now the baseline.
    await engine.newHead();
    const n2 = await (fx.vault.connect(fx.user) as Contract).getFunction('deposit')({
      value: 7n,
      nonce: await nonceOf(fx.user.address),
    });
    const r2 = await engine.check({ tx: await raw(n2.hash), invariants });
    expect(byId(r2, 'eth')).toMatchObject({ status: 'holds', before: '0', after: '7' });
  });
});

describe('the hardfork the network runs', () => {
  it('is taken from ETH_HARDFORK, named when unknown, and simulated: an attack on a Prague node', async () => {
    expect(loadConfig({ ETH_HARDFORK: 'prague' }).ethereum.hardfork).toBe('prague');
    expect(loadConfig({}).ethereum.hardfork).toBe('cancun');
    expect(() => loadConfig({ ETH_HARDFORK: 'londn' })).toThrow(ConfigError);
    try {
      loadConfig({ ETH_HARDFORK: 'londn' });
    } catch (e) {
      expect((e as ConfigError).message).toMatch(
        /^ETH_HARDFORK="londn" is invalid: expected one of shanghai/,
      );
    }
    const fx = await setupFixture({ log, cacheDir: join(tmpdir(), 'vigil-solc-cache'), hardfork: 'prague' });
    const engine = await createEngine({ rpc: fx.node.rpcUrl, log, hardfork: 'prague' });
    try {
      const a = fx.attacker;
      const tx = await (fx.vault.connect(a) as Contract).getFunction('setOwner')(a.address, {
        nonce: await fx.provider.getTransactionCount(a.address, 'latest'),
      });
      const invariants = parseInvariants([
        { id: 'owner', kind: 'ownerUnchanged', contract: fx.addresses.vault },
      ]);
      const pending = await fx.node.rpc<RpcTransaction>('eth_getTransactionByHash', [tx.hash]);
      const r = await engine.check({ tx: pending, invariants });
      expect(r.invariants[0]).toMatchObject({ status: 'violated', after: a.address.toLowerCase() });
      // Mined on the Prague node, the tx writes what the engine predicted, with the same gas.
      await fx.node.mine();
      const receipt = await fx.provider.getTransactionReceipt(tx.hash);
      expect(receipt?.status).toBe(1);
      expect(r.tx.gasUsed).toBe(receipt!.gasUsed.toString());
    } finally {
      engine.close();
      await fx.stop();
    }
  });
});

describe('engine failures are errors, never holds', () => {
  it('dead RPC', async () => {
    const port = await findFreePort();
    const engine = await createEngine({
      rpc: `http://127.0.0.1:${port}`,
      chainId: 31337n,
      log,
      rpcTimeoutMs: 2000,
    });
    const inv = parseInvariants([{ id: 'o', kind: 'ownerUnchanged', contract: '0x' + '11'.repeat(20) }]);
    const tx: RpcTransaction = {
      from: '0x' + '22'.repeat(20),
      to: '0x' + '11'.repeat(20),
      nonce: '0x0',
      gas: '0x5208',
      gasPrice: '0x3b9aca00',
      type: '0x0',
      value: '0x0',
      input: '0x',
      v: '0x1b',
      r: '0x1',
      s: '0x1',
    };
    const r = await engine.check({ tx, invariants: inv });
    expect(r.tx.status).toBe('error');
    expect(r.invariants).toMatchObject([
      { id: 'o', status: 'error', reason: expect.stringMatching(/unreachable|ECONNREFUSED/) },
    ]);
    expect(r.violated).toBe(false);
    engine.close();
  });

  it('createEngine without a chainId fails clearly when the node is down', async () => {
    const port = await findFreePort();
    await expect(createEngine({ rpc: `http://127.0.0.1:${port}`, log })).rejects.toThrow(
      /cannot reach the chain/,
    );
  });
});
