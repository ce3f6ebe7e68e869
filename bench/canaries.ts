/**
 * What a canary costs the validator, on a real anvil: making one (nonce, gas estimate, fees,
 * signing, and the validator's own engine check that establishes the truth) against the same-run
 * baseline of one engine check of a real pending tx (what each asked miner does per challenge, real
 * or canary). Prints p50/p99 and the work an epoch adds at the default rate.
 * Run: npm run bench:canaries -- [count]
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Contract, Wallet, parseEther } from 'ethers';
import { createHttpRpc } from '../chains/ethereum/rpc.ts';
import type { RpcTransaction } from '../chains/ethereum/types.ts';
import { percentile } from '../common/stats.ts';
import { setupFixture } from '../dev/testkit/engine.ts';
import { SENDER_PLACEHOLDER, canaryRounds, createCanaryMaker } from '../services/defense/canaries.ts';
import { validateRegistration } from '../services/defense/registry.ts';
import type { RegisteredInvariant } from '../services/defense/registry.ts';
import { DEFAULT_DEFENSE_PARAMS } from '../services/defense/validator.ts';
import { createEngine } from '../services/engine/engine.ts';
import { parseInvariants } from '../services/engine/invariants.ts';
import { runBench } from './run.ts';

const count = Math.max(20, Number(process.argv[2] ?? 200));
const log = (m: string) => process.stderr.write(`${m}\n`);
const fmt = (xs: number[]) =>
  `p50 ${percentile(xs, 50).toFixed(2)}  p99 ${percentile(xs, 99).toFixed(2)}  max ${Math.max(...xs).toFixed(2)} ms`;

async function main() {
  const fx = await setupFixture({ log, cacheDir: join(tmpdir(), 'vigil-solc-cache') });
  try {
    const rpc = createHttpRpc({ url: fx.node.rpcUrl });
    const keys = Array.from({ length: 8 }, () => Wallet.createRandom().privateKey);
    let n = await fx.provider.getTransactionCount(fx.deployer.address, 'pending');
    for (const k of keys)
      await fx.deployer.sendTransaction({ to: new Wallet(k).address, value: parseEther('1'), nonce: n++ });
    await fx.node.mine();
    const setOwner = fx.vault.interface.encodeFunctionData('setOwner', [`0x${'00'.repeat(20)}`]);
    const defs = [
      { id: 'owner', kind: 'ownerUnchanged', contract: fx.addresses.vault },
      { id: 'eth', kind: 'balanceMaxDrop', account: fx.addresses.vault, bps: 1000 },
    ];
    const list = defs.map((definition, i) => {
      const { registration } = validateRegistration({
        chainId: fx.node.chainId,
        definition,
        canaries:
          i === 0 ? [{ to: fx.addresses.vault, data: `${setOwner.slice(0, 34)}${SENDER_PLACEHOLDER}` }] : [],
      });
      return { ...registration, id: definition.id } as unknown as RegisteredInvariant;
    });
    // Two engines: the validator's (makes canaries) and a miner's (the baseline), as in production.
    const engine = await createEngine({ rpc, log: () => {}, chainId: BigInt(fx.node.chainId) });
    const miner = await createEngine({ rpc, log: () => {}, chainId: BigInt(fx.node.chainId) });
    const maker = createCanaryMaker({ engine, rpc, chainId: fx.node.chainId, keys });
    const invariants = parseInvariants(defs);

    // Each round on a new block, as canaries minutes apart are: both sides start with cold reads.
    // Baseline: a miner moving to the block and checking a real pending deposit (kept out of the
    // block, so it stays valid). Then one canary made on that block.
    const user = fx.user;
    const check: number[] = [];
    const make: number[] = [];
    for (let i = 0; i < count; i++) {
      const d = await (fx.vault.connect(user) as Contract).getFunction('deposit')({
        value: 1n,
        nonce: await fx.provider.getTransactionCount(user.address, 'latest'),
      });
      const tx = await fx.node.rpc<RpcTransaction>('eth_getTransactionByHash', [d.hash]);
      await fx.node.rpc('anvil_dropAllTransactions');
      await fx.node.mine();
      const head = Number(BigInt(await rpc.call<string>('eth_blockNumber')));
      let t = performance.now();
      await miner.newHead(head);
      const r = await miner.check({ tx, invariants, priorTxs: [] });
      check.push(performance.now() - t);
      if (r.tx.status !== 'success') throw new Error(`baseline check ${r.tx.status}`);
      t = performance.now();
      const c = await maker.make(list, head);
      make.push(performance.now() - t);
      if ('skipped' in c) throw new Error(`no canary: ${c.skipped}`);
      if (i % 25 === 0) process.stderr.write(`\r  ${i}/${count}  `);
    }
    process.stderr.write('\n');
    rpc.close();
    engine.close();
    miner.close();
    const k = DEFAULT_DEFENSE_PARAMS.minersPerTx;
    const per = DEFAULT_DEFENSE_PARAMS.canariesPerEpoch;
    console.log(`canaries: ${count} made on anvil (2 invariants, 8 senders)`);
    console.log(`  baseline, a miner's new head + check of a real pending tx: ${fmt(check)}`);
    console.log(
      `  one canary made (new head, 4 RPC reads, signing, the validator's engine check): ${fmt(make)}`,
    );
    for (const live of [16, 256]) {
      const rounds = canaryRounds(live, per, k);
      const ms = rounds * percentile(make, 50);
      console.log(
        `  an epoch with ${live} live miners, ${per} canaries each, k=${k}: ${rounds} canary rounds; validator ~${ms.toFixed(0)} ms of work at p50, each miner ${per} extra checks`,
      );
    }
  } finally {
    await fx.stop();
  }
}

runBench(main);
