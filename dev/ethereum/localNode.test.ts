import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonRpcProvider, Wallet, parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { LEVEL, captureLogger } from '../../test/log.ts';
import { compileFiles, storageSlotOf } from './compile.ts';
import { type LocalNode, LocalNodeError, startAnvil } from './localNode.ts';

const log = silentLogger;
const contractsDir = join(fileURLToPath(import.meta.url), '..', '..', 'contracts');

describe('startAnvil', () => {
  let node: LocalNode;
  beforeAll(async () => {
    node = await startAnvil({ log });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('serves RPC on a random loopback port with known dev accounts', async () => {
    expect(node.port).not.toBe(8545);
    expect(node.rpcUrl).toBe(`http://127.0.0.1:${node.port}`);
    expect(node.accounts[0]!.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect(await node.rpc('eth_chainId')).toBe('0x7a69');
  });

  it('keeps txs pending until mine() is called', async () => {
    const provider = new JsonRpcProvider(node.rpcUrl, node.chainId, {
      staticNetwork: true,
      cacheTimeout: -1,
    });
    const w = new Wallet(node.accounts[1]!.privateKey, provider);
    const start = await provider.getBlockNumber();
    const tx = await w.sendTransaction({ to: node.accounts[2]!.address, value: parseEther('1') });
    expect(await provider.getTransactionReceipt(tx.hash)).toBeNull();
    await node.mine();
    expect((await provider.getTransactionReceipt(tx.hash))?.blockNumber).toBe(start + 1);
    provider.destroy();
  });
});

describe('startAnvil errors', () => {
  it('says clearly when the binary is missing', async () => {
    await expect(startAnvil({ log, binary: '/nonexistent/anvil' })).rejects.toThrow(LocalNodeError);
    await expect(startAnvil({ log, binary: '/nonexistent/anvil' })).rejects.toThrow(/anvil binary not found/);
  });
});

describe('compileFiles', () => {
  it('compiles the contracts with storage layouts and caches by source hash', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'vigil-solc-'));
    const files = ['Vault.sol', 'Token.sol', 'Relay.sol'].map((f) => join(contractsDir, f));
    const first = captureLogger();
    const out = await compileFiles(files, { cacheDir, log: first.log.child({ component: 'solc' }) });
    expect(first.lines).toContainEqual(
      expect.objectContaining({ level: LEVEL.info, component: 'solc', solc: '0.8.37', evmVersion: 'cancun' }),
    );
    expect(out.Vault!.bytecode).toMatch(/^0x[0-9a-f]+$/);
    expect(storageSlotOf(out.Vault!, 'owner')).toMatchObject({ slot: 0n, offset: 0, size: 20 });
    // paused shares slot 0 with owner: the packed-field case.
    expect(storageSlotOf(out.Vault!, 'paused')).toMatchObject({ slot: 0n, offset: 20, size: 1 });
    expect(storageSlotOf(out.Token!, 'balanceOf').slot).toBe(0n);
    const second = captureLogger();
    const again = await compileFiles(files, { cacheDir, log: second.log.child({ component: 'solc' }) });
    expect(second.lines).toContainEqual(
      expect.objectContaining({ level: LEVEL.debug, component: 'solc', msg: 'solc cache hit' }),
    );
    expect(second.lines.some((l) => l.msg === 'compiling with solc')).toBe(false);
    expect(again.Vault!.bytecode).toBe(out.Vault!.bytecode);
  }, 60_000);
});
