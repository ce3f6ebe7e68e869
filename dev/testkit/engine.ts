import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Contract, ContractFactory, JsonRpcProvider, NonceManager, Wallet, parseEther } from 'ethers';
import type { Log } from '../../common/logger.ts';
import { type CompiledContract, compileFiles } from '../ethereum/compile.ts';
import { type LocalNode, startAnvil } from '../ethereum/localNode.ts';

/** Test/bench fixture: anvil + Token, Vault (funded with ETH and tokens) and Relay deployed and mined. */
export interface Fixture {
  node: LocalNode;
  provider: JsonRpcProvider;
  contracts: Record<string, CompiledContract>;
  token: Contract;
  vault: Contract;
  relay: Contract;
  addresses: { token: string; vault: string; relay: string };
  deployer: Wallet;
  guardian: Wallet;
  attacker: Wallet;
  user: Wallet;
  stop(): Promise<void>;
}

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');

export async function setupFixture(opts: {
  log: Log;
  cacheDir: string;
  chainId?: number;
  /** The node's hardfork (contracts are compiled for the pinned one, which every later fork runs). */
  hardfork?: string;
}): Promise<Fixture> {
  const contracts = await compileFiles(
    ['Token.sol', 'Vault.sol', 'Relay.sol'].map((f) => join(root, 'dev', 'contracts', f)),
    { cacheDir: opts.cacheDir, log: opts.log },
  );
  const node = await startAnvil({ log: opts.log, chainId: opts.chainId, hardfork: opts.hardfork });
  try {
    // cacheTimeout -1: ethers otherwise serves identical requests (nonces, balances) from a 250 ms cache.
    const provider = new JsonRpcProvider(node.rpcUrl, node.chainId, {
      staticNetwork: true,
      cacheTimeout: -1,
      pollingInterval: 50,
    });
    const [d, g, a, u] = node.accounts.slice(0, 4).map((k) => new Wallet(k.privateKey, provider));
    const deployer = d!;
    const deploy = async (name: string, args: unknown[], value = 0n) => {
      const c = contracts[name]!;
      const f = new ContractFactory(c.abi as never, c.bytecode, new NonceManager(deployer));
      const inst = await f.deploy(...args, { value });
      await node.mine();
      await inst.waitForDeployment();
      return inst as unknown as Contract;
    };
    const token = await deploy('Token', [parseEther('1000000')]);
    const vault = await deploy('Vault', [g!.address, await token.getAddress()], parseEther('100'));
    const relay = await deploy('Relay', []);
    const vaultAddr = await vault.getAddress();
    const tx = await (token.connect(deployer) as Contract).getFunction('transfer')(
      vaultAddr,
      parseEther('5000'),
    );
    await node.mine();
    await tx.wait();
    return {
      node,
      provider,
      contracts,
      token,
      vault,
      relay,
      addresses: { token: await token.getAddress(), vault: vaultAddr, relay: await relay.getAddress() },
      deployer,
      guardian: g!,
      attacker: a!,
      user: u!,
      async stop() {
        provider.destroy();
        await node.stop();
      },
    };
  } catch (e) {
    await node.stop();
    throw e;
  }
}
