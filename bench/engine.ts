/**
 * Engine latency on a real anvil mempool: >= 500 pending txs (deposits, token transfers, reverting
 * drains, Relay attacks), each from its own sender so no prior txs are needed. Measures per tx:
 *   node   - the node's own eth_call of the same tx (the floor to compare against)
 *   rpc    - one eth_blockNumber round trip (a warm check of a new sender needs at least one)
 *   cold   - engine with a new read cache per check (every account/slot over RPC)
 *   warm   - engine with the per-block cache, first sight of each tx (sender still fetched)
 *   hot    - the same txs again on the same head (everything cached: pure simulation)
 * Run: npx tsx bench/engine.ts [count]
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Contract, Interface, Wallet, keccak256, parseEther, toBeHex } from 'ethers';
import { createHttpRpc } from '../chains/ethereum/rpc.ts';
import { cliDestination, createLogger, silentLogger } from '../common/logger.ts';
import { percentile } from '../common/stats.ts';
import { setupFixture } from '../dev/testkit/engine.ts';
import { type Engine, type RpcTransaction, createEngine } from '../services/engine/engine.ts';
import { parseInvariants } from '../services/engine/invariants.ts';
import { runBench } from './run.ts';

const count = Math.max(500, Number(process.argv[2] ?? 500));
const log = createLogger({
  level: 'info',
  name: 'bench',
  base: {},
  destination: cliDestination('', process.stderr),
});
const progress = (label: string, i: number, n: number) => {
  if (i % 25 === 0 || i === n) process.stderr.write(`\r  ${label.padEnd(6)} ${i}/${n}   `);
  if (i === n) process.stderr.write('\n');
};

async function main() {
  const fx = await setupFixture({ log, cacheDir: join(tmpdir(), 'vigil-solc-cache') });
  try {
    const { addresses, node } = fx;
    const rpc = createHttpRpc({ url: node.rpcUrl });
    log.info({ senders: count }, 'bench: preparing senders');
    const wallets = Array.from(
      { length: count },
      (_, i) => new Wallet(keccak256(toBeHex(i + 1, 32)), fx.provider),
    );
    // Fund every sender with ETH, a third with tokens; one block.
    const token = fx.token.connect(fx.deployer) as Contract;
    let nonce = await fx.provider.getTransactionCount(fx.deployer.address, 'latest');
    const funding: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      funding.push(
        fx.deployer.sendTransaction({ to: wallets[i]!.address, value: parseEther('1'), nonce: nonce++ }),
      );
      if (i % 3 === 1)
        funding.push(
          token.getFunction('transfer')(wallets[i]!.address, parseEther('10'), { nonce: nonce++ }),
        );
    }
    await Promise.all(funding);
    await node.mine();

    const vaultI = new Interface(fx.contracts.Vault!.abi as never);
    const tokenI = new Interface(fx.contracts.Token!.abi as never);
    const relayI = new Interface(fx.contracts.Relay!.abi as never);
    const feeData = { maxFeePerGas: parseEther('0.00000005'), maxPriorityFeePerGas: 1_000_000_000n };
    log.info('bench: signing and sending pending txs');
    const hashes: string[] = [];
    for (let i = 0; i < count; i++) {
      const w = wallets[i]!;
      let req: { to: string; data: string; value?: bigint };
      if (i % 50 === 7)
        req = {
          to: addresses.relay,
          data: relayI.encodeFunctionData('attack', [addresses.vault, w.address]),
        };
      else if (i % 3 === 1)
        req = {
          to: addresses.token,
          data: tokenI.encodeFunctionData('transfer', [wallets[0]!.address, 1000n]),
        };
      else if (i % 10 === 5)
        req = { to: addresses.vault, data: vaultI.encodeFunctionData('drain', [w.address]) };
      else
        req = { to: addresses.vault, data: vaultI.encodeFunctionData('deposit'), value: 1000n + BigInt(i) };
      const tx = await w.sendTransaction({
        ...req,
        ...feeData,
        nonce: 0,
        gasLimit: 300_000,
        chainId: node.chainId,
        type: 2,
      });
      hashes.push(tx.hash);
      progress('send', i + 1, count);
    }
    const txs = await Promise.all(
      hashes.map((h) => rpc.call<RpcTransaction>('eth_getTransactionByHash', [h])),
    );
    const pending = await rpc
      .call<string>('eth_getBlockTransactionCountByNumber', ['pending'])
      .catch(() => '?');
    log.info({ txs: txs.length, pendingBlockReports: pending }, 'bench: txs pending');

    const invariants = parseInvariants([
      { id: 'owner', kind: 'ownerUnchanged', contract: addresses.vault },
      { id: 'paused', kind: 'unchanged', contract: addresses.vault, slot: 0, offset: 20, type: 'bool' },
      { id: 'eth', kind: 'balanceMaxDrop', account: addresses.vault, bps: 1000 },
      { id: 'floor', kind: 'balanceFloor', account: addresses.vault, min: parseEther('50').toString() },
      {
        id: 'tokens',
        kind: 'erc20BalanceDrop',
        token: addresses.token,
        holder: addresses.vault,
        mappingSlot: 0,
        bps: 1000,
      },
      { id: 'deposits', kind: 'maxDecrease', contract: addresses.vault, slot: 4, bps: 5000 },
    ]);

    // node: eth_call of the same tx at the head.
    const nodeMs: number[] = [];
    const nodeOk: boolean[] = [];
    for (let i = 0; i < txs.length; i++) {
      const t = txs[i]!;
      const call = { from: t.from, to: t.to, data: t.input, value: t.value, gas: t.gas };
      const t0 = performance.now();
      const ok = await rpc.call('eth_call', [call, 'latest']).then(
        () => true,
        () => false,
      );
      nodeMs.push(performance.now() - t0);
      nodeOk.push(ok);
      progress('node', i + 1, txs.length);
    }

    // rpc: the smallest round trip to the node (eth_blockNumber). A warm check of a tx from a
    // sender not seen before needs at least one (the sender's account), so this is its floor.
    const rpcMs: number[] = [];
    for (let i = 0; i < txs.length; i++) {
      const t0 = performance.now();
      await rpc.call('eth_blockNumber', []);
      rpcMs.push(performance.now() - t0);
      progress('rpc', i + 1, txs.length);
    }

    const runPhase = async (label: string, engine: Engine) => {
      const ms: number[] = [];
      const statuses: string[] = [];
      let violated = 0;
      let errors = 0;
      for (let i = 0; i < txs.length; i++) {
        const t0 = performance.now();
        const r = await engine.check({ tx: txs[i]!, invariants });
        ms.push(performance.now() - t0);
        statuses.push(r.tx.status);
        if (r.violated) violated++;
        if (r.invariants.some((x) => x.status === 'error')) errors++;
        progress(label, i + 1, txs.length);
      }
      return { ms, statuses, violated, errors };
    };

    // JIT warm-up on a throwaway engine so the first measured phase is not penalised.
    const warmup = await createEngine({ rpc, log: silentLogger, readCache: 'perBlock' });
    for (let i = 0; i < 100; i++) await warmup.check({ tx: txs[i % txs.length]!, invariants });

    const coldEngine = await createEngine({ rpc, log: silentLogger, readCache: 'perCheck' });
    const cold = await runPhase('cold', coldEngine);
    const warmEngine = await createEngine({ rpc, log: silentLogger, readCache: 'perBlock' });
    await warmEngine.prefetch(invariants);
    const warm = await runPhase('warm', warmEngine);
    const hot = await runPhase('hot', warmEngine);

    const agree = warm.statuses.filter((s, i) => (s === 'success') === nodeOk[i]).length;
    const nodeP50 = percentile(nodeMs, 50);
    const nodeP99 = percentile(nodeMs, 99);
    const row = (name: string, xs: number[]) =>
      `${name.padEnd(6)} ${String(xs.length).padStart(5)} ${percentile(xs, 50).toFixed(3).padStart(8)} ${percentile(xs, 90).toFixed(3).padStart(8)} ${percentile(
        xs,
        99,
      )
        .toFixed(3)
        .padStart(8)} ${Math.max(...xs)
        .toFixed(3)
        .padStart(8)} ${(percentile(xs, 50) / nodeP50).toFixed(2).padStart(8)} ${(
        percentile(xs, 99) / nodeP99
      )
        .toFixed(2)
        .padStart(8)}`;
    console.log(`\nengine latency, ${txs.length} pending txs, ${invariants.length} invariants each (ms)`);
    console.log('phase      n      p50      p90      p99      max  p50/node p99/node');
    console.log(row('node', nodeMs));
    console.log(row('rpc', rpcMs));
    console.log(row('cold', cold.ms));
    console.log(row('warm', warm.ms));
    console.log(row('hot', hot.ms));
    console.log(
      `violations flagged: cold ${cold.violated}, warm ${warm.violated}, hot ${hot.violated}; ` +
        `checks with errors: ${cold.errors + warm.errors + hot.errors}; ` +
        `success/revert agrees with node eth_call: ${agree}/${txs.length}`,
    );
    console.log(
      `targets: warm p99 <= 2 ms: ${percentile(warm.ms, 99) <= 2 ? 'met' : 'MISSED'}; cold p99 <= 10 ms: ${percentile(cold.ms, 99) <= 10 ? 'met' : 'MISSED'}`,
    );
    for (const e of [warmup, coldEngine, warmEngine]) e.close();
    rpc.close();
  } finally {
    await fx.stop();
  }
}

runBench(main);
