import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Contract,
  ContractFactory,
  JsonRpcProvider,
  NonceManager,
  Wallet,
  getCreateAddress,
  parseEther,
} from 'ethers';
import type { Log } from '../../common/logger.ts';
import { compileFiles } from './compile.ts';
import { type LocalNode, startAnvil } from './localNode.ts';

/**
 * Ethereum activity Patrol's tests and the demo read, on a fresh anvil, one transaction per block,
 * and what each step did (from the sender's side, not from the node's traces), so a test can
 * compare the miner's subgraph with facts it did not derive itself:
 *   funder → target             1 ETH (the tx's own value)
 *   funder deploys VGL (NamedToken, 18 decimals); funder → target 500 VGL
 *   funder deploys Token (no symbol/decimals); funder → target 7 TOK
 *   target deploys Splitter
 *   target → Splitter 0.3 ETH, which sends 0.15 to `b` and 0.15 to `c` (internal calls "0", "1")
 *   target → Splitter 0.01 ETH to spawn(): Splitter creates Child with the value (internal CREATE)
 *   target → d 100 VGL
 *   target → Splitter.failing(d) with 0.2 ETH: reverted, nothing moved
 */
export interface PatrolScenario {
  node: LocalNode;
  provider: JsonRpcProvider;
  firstBlock: number;
  lastBlock: number;
  /** Lower-case addresses. */
  who: { funder: string; target: string; b: string; c: string; d: string };
  contracts: { vgl: string; tok: string; splitter: string; child: string };
  /** Each step's tx hash (lower-case) and block. */
  tx: Record<
    | 'fund'
    | 'deployVgl'
    | 'vglToTarget'
    | 'deployTok'
    | 'tokToTarget'
    | 'deploySplitter'
    | 'split'
    | 'spawn'
    | 'vglToD'
    | 'failing',
    { hash: string; block: number }
  >;
  stop(): Promise<void>;
}

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');

export async function startPatrolScenario(opts: { log: Log; cacheDir: string }): Promise<PatrolScenario> {
  const compiled = await compileFiles(
    ['PatrolKit.sol', 'Token.sol'].map((f) => join(root, 'dev', 'contracts', f)),
    { cacheDir: opts.cacheDir, log: opts.log },
  );
  const node = await startAnvil({ log: opts.log });
  const provider = new JsonRpcProvider(node.rpcUrl, node.chainId, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const [funder, target, b, c, d] = node.accounts
      .slice(0, 5)
      .map((k) => new NonceManager(new Wallet(k.privateKey, provider)));
    const tx = {} as PatrolScenario['tx'];
    const mined = async (
      name: keyof PatrolScenario['tx'],
      sent: Promise<{ hash: string; wait(): Promise<unknown> }>,
    ) => {
      const t = await sent;
      await node.mine();
      const receipt = await provider.getTransactionReceipt(t.hash);
      tx[name] = { hash: t.hash.toLowerCase(), block: receipt!.blockNumber };
    };
    const deploy = async (
      name: keyof PatrolScenario['tx'],
      by: NonceManager,
      contract: string,
      args: unknown[],
    ) => {
      const f = new ContractFactory(compiled[contract]!.abi as never, compiled[contract]!.bytecode, by);
      const inst = await f.deploy(...args);
      await mined(name, Promise.resolve(inst.deploymentTransaction()!));
      return inst as unknown as Contract;
    };
    const firstBlock = (await provider.getBlockNumber()) + 1;
    const addr = async (s: NonceManager) => (await s.getAddress()).toLowerCase();
    await mined('fund', funder!.sendTransaction({ to: await target!.getAddress(), value: parseEther('1') }));
    const vgl = await deploy('deployVgl', funder!, 'NamedToken', ['VGL', 18, parseEther('1000000')]);
    await mined(
      'vglToTarget',
      (vgl.connect(funder!) as Contract).getFunction('transfer')(
        await target!.getAddress(),
        parseEther('500'),
      ),
    );
    const tok = await deploy('deployTok', funder!, 'Token', [parseEther('1000')]);
    await mined(
      'tokToTarget',
      (tok.connect(funder!) as Contract).getFunction('transfer')(await target!.getAddress(), parseEther('7')),
    );
    const splitter = await deploy('deploySplitter', target!, 'Splitter', []);
    const s = splitter.connect(target!) as Contract;
    await mined(
      'split',
      s.getFunction('split')(await b!.getAddress(), await c!.getAddress(), { value: parseEther('0.3') }),
    );
    const nonceBefore = await provider.getTransactionCount(await splitter.getAddress());
    await mined('spawn', s.getFunction('spawn')({ value: parseEther('0.01') }));
    await mined(
      'vglToD',
      (vgl.connect(target!) as Contract).getFunction('transfer')(await d!.getAddress(), parseEther('100')),
    );
    // An explicit gas limit: estimation would refuse a call that reverts; the node mines it failed.
    await mined(
      'failing',
      s.getFunction('failing')(await d!.getAddress(), { value: parseEther('0.2'), gasLimit: 200_000 }),
    );
    const splitterAddress = (await splitter.getAddress()).toLowerCase();
    return {
      node,
      provider,
      firstBlock,
      lastBlock: await provider.getBlockNumber(),
      who: {
        funder: await addr(funder!),
        target: await addr(target!),
        b: await addr(b!),
        c: await addr(c!),
        d: await addr(d!),
      },
      contracts: {
        vgl: (await vgl.getAddress()).toLowerCase(),
        tok: (await tok.getAddress()).toLowerCase(),
        splitter: splitterAddress,
        child: getCreateAddress({ from: splitterAddress, nonce: nonceBefore }).toLowerCase(),
      },
      tx,
      async stop() {
        provider.destroy();
        await node.stop();
      },
    };
  } catch (err) {
    provider.destroy();
    await node.stop();
    throw err;
  }
}
