import { Interface, Wallet, getCreateAddress, hexlify, parseEther, randomBytes } from 'ethers';
import type { Log } from '../../common/logger.ts';
import type { CompiledContract } from './compile.ts';
import type { LocalNode } from './localNode.ts';

/**
 * Fills a manual-mining anvil fast with Ethereum activity for benchmarks: transactions signed
 * locally, sent as JSON-RPC batches of `eth_sendRawTransaction`, one `anvil_mine` per block. Each
 * block holds `native` plain ETH payments, `erc20` token transfers and `splits` Splitter calls
 * (one tx value + two internal-call payments each), between the node's dev accounts and
 * `recipients` fresh addresses, so Patrol has ≥ 10 transfers per block to read.
 */
export interface BulkSeedOptions {
  node: LocalNode;
  contracts: Record<string, CompiledContract>;
  blocks: number;
  perBlock?: { native: number; erc20: number; splits: number };
  recipients?: number;
  log: Log;
}

export interface BulkSeedResult {
  firstBlock: number;
  lastBlock: number;
  /** Transfers the seeder sent that move value (tx values, token transfers, internal payments). */
  transfers: number;
  token: string;
  splitter: string;
}

const GAS = { maxFeePerGas: parseEther('0.00000005'), maxPriorityFeePerGas: 1n };

export async function bulkSeed(o: BulkSeedOptions): Promise<BulkSeedResult> {
  const per = o.perBlock ?? { native: 6, erc20: 5, splits: 1 };
  const chainId = o.node.chainId;
  const senders = o.node.accounts.map((a) => new Wallet(a.privateKey));
  const nonces = senders.map(() => 0);
  const recipients = Array.from({ length: o.recipients ?? 300 }, () => hexlify(randomBytes(20)));
  const sign = (i: number, tx: { to?: string; data?: string; value?: bigint; gasLimit: number }) => {
    const nonce = nonces[i]!;
    nonces[i] = nonce + 1;
    return senders[i]!.signTransaction({ ...tx, ...GAS, type: 2, chainId, nonce });
  };
  // JSON-RPC batches of 200 raw transactions: one HTTP round trip each.
  const sendAll = async (raw: string[]) => {
    for (let i = 0; i < raw.length; i += 200) {
      const body = raw
        .slice(i, i + 200)
        .map((r, id) => ({ jsonrpc: '2.0', id, method: 'eth_sendRawTransaction', params: [r] }));
      const res = await fetch(o.node.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const bad = ((await res.json()) as { error?: { message: string } }[]).find((x) => x.error);
      if (bad) throw new Error(`eth_sendRawTransaction failed: ${bad.error!.message}`);
    }
  };
  // Deploy the token and the splitter from sender 0, and give every sender tokens to move.
  const token = o.contracts.NamedToken!;
  const splitter = o.contracts.Splitter!;
  const tokenIface = new Interface(token.abi as never);
  const splitIface = new Interface(splitter.abi as never);
  const deployer = senders[0]!.address;
  const tokenAddress = getCreateAddress({ from: deployer, nonce: nonces[0]! });
  const ctorArgs = tokenIface.encodeDeploy(['BNC', 6, 10n ** 30n]).slice(2);
  const setup = [await sign(0, { data: token.bytecode + ctorArgs, gasLimit: 3_000_000 })];
  const splitterAddress = getCreateAddress({ from: deployer, nonce: nonces[0]! });
  setup.push(await sign(0, { data: splitter.bytecode, gasLimit: 3_000_000 }));
  for (let i = 1; i < senders.length; i++)
    setup.push(
      await sign(0, {
        to: tokenAddress,
        data: tokenIface.encodeFunctionData('transfer', [senders[i]!.address, 10n ** 27n]),
        gasLimit: 100_000,
      }),
    );
  await sendAll(setup);
  await o.node.mine();
  const firstBlock = Number(await o.node.rpc<string>('eth_blockNumber')) + 1;
  let transfers = 0;
  // Who pays whom: a seeded generator (mulberry32), so runs are alike and the graph is connected.
  let seed = 0x5eed;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = () => recipients[Math.floor(random() * recipients.length)]!;
  const sender = () => Math.floor(random() * senders.length);
  for (let b = 0; b < o.blocks; b++) {
    const raw: string[] = [];
    for (let j = 0; j < per.native; j++)
      raw.push(await sign(sender(), { to: pick(), value: BigInt(1 + b * 1000 + j), gasLimit: 21_000 }));
    for (let j = 0; j < per.erc20; j++)
      raw.push(
        await sign(sender(), {
          to: tokenAddress,
          data: tokenIface.encodeFunctionData('transfer', [pick(), BigInt(1 + b * 100 + j)]),
          gasLimit: 60_000,
        }),
      );
    for (let j = 0; j < per.splits; j++)
      raw.push(
        await sign(sender(), {
          to: splitterAddress,
          data: splitIface.encodeFunctionData('split', [pick(), pick()]),
          value: BigInt(2 * (b + 1)),
          gasLimit: 120_000,
        }),
      );
    await sendAll(raw);
    await o.node.mine();
    transfers += per.native + per.erc20 + 3 * per.splits;
    if ((b + 1) % 200 === 0) o.log.info({ blocks: b + 1, transfers }, 'seeding');
  }
  const lastBlock = Number(await o.node.rpc<string>('eth_blockNumber'));
  return {
    firstBlock,
    lastBlock,
    transfers,
    token: tokenAddress.toLowerCase(),
    splitter: splitterAddress.toLowerCase(),
  };
}
