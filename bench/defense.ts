/**
 * Defense end to end, on real anvil + Redis + Neo4j, with 3 miners as separate processes
 * (`vigil defense-miner`), the validator, pause agent and ingest worker in this process.
 * Each round: benign txs plus one attack (Relay.attack on the Vault) from a fresh attacker enter
 * the mempool; we measure, from the moment the validator's watcher delivered the attack:
 *   seen→pause   the guardian's pause is broadcast (eth_sendRawTransaction answered)
 *   seen→alert   the consensus alert is stored in Neo4j (the ingest worker's publish after the write)
 *   seen→both    the later of the two (the target: p99 <= 150 ms)
 * then mine one block and check that the pause landed first and the attack reverted.
 * Every answer is signed by its miner's hotkey and verified by the validator before it counts; the
 * miners' hotkeys are registered on a subnet of a local chopsticks chain (started first, not timed),
 * which the validator reads membership from. Also timed, in this process: signing one answer and
 * checking one (parse, membership of the round, sr25519 verify), N times each.
 * Run: npm run bench:defense -- [rounds] [warm-up rounds]   (defaults 50 and 10; NEO4J_URI /
 * REDIS_URL from the environment as usual). Warm-up rounds are not counted: the first rounds
 * measure the JIT of a fresh Neo4j and Node, which a running deployment has long passed.
 */
import { Keyring } from '@polkadot/keyring';
import { type Contract, Wallet, parseEther } from 'ethers';
import { Registry } from 'prom-client';
import { createHttpRpc } from '../chains/ethereum/rpc.ts';
import { closeMonitorProvider, createMonitorProvider } from '../chains/ethereum/watcher.ts';
import { loadConfig } from '../common/config.ts';
import { cliDestination, createLogger, silentLogger } from '../common/logger.ts';
import { percentile } from '../common/stats.ts';
import {
  defenseHotkeyUri,
  registerVaultInvariants,
  spawnDefenseMiners,
  startDefenseSubnet,
  waitForMiners,
} from '../dev/defense/localRun.ts';
import { type Cleanup, runCleanup, startEthereumBench } from '../dev/testkit/ethereumBench.ts';
import { checkDefenseAnswer, signDefenseAnswer } from '../protocol/defense.ts';
import { alertId } from '../protocol/ids.ts';
import { alertChannel } from '../protocol/keys.ts';
import { createRedisConnection } from '../queues/connection.ts';
import { createIngestQueue } from '../queues/ingestion.ts';
import { createPauseAgent } from '../services/defense/actions.ts';
import { type RoundReport, createDefenseValidator } from '../services/defense/validator.ts';
import { createIngestWorker } from '../services/ingest/worker.ts';
import { runBench } from './run.ts';

const ROUNDS = Math.max(5, Number(process.argv[2] ?? 50));
const WARMUP = Math.max(0, Number(process.argv[3] ?? 10));
const BENIGN_PER_ROUND = 3;
const MINERS = 3;
const say = (m: string) => process.stderr.write(`${m}\n`);

const SIGN_OPS = 2000;

/** The cost of signing one defense answer and of checking one as the validator does, averaged over n. */
function signingCost(n: number): { signUs: number; checkUs: number; parseUs: number } {
  const pair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//bench-signing');
  const unsigned = {
    challengeId: `v1:0x${'ab'.repeat(32)}:123`,
    miner: pair.address,
    validator: 'v1',
    blockNumber: 123,
    txStatus: 'reverted',
    results: ['owner', 'eth', 'tokens'].map((id) => ({
      id: `vault-${id}`,
      status: 'violated' as const,
      before: '0x000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266',
      after: '0x0000000000000000000000003c44cdddb6a900fa2b585dd299e03d12fa4293bc',
    })),
    latencyMs: 4.2,
  };
  let t = performance.now();
  let text = '';
  for (let i = 0; i < n; i++) text = JSON.stringify(signDefenseAnswer(pair, { ...unsigned, latencyMs: i }));
  const signUs = ((performance.now() - t) * 1000) / n;
  const open = (answered: boolean) => ({
    validator: 'v1',
    round: () => ({ asked: [pair.address], answered: () => answered }),
  });
  t = performance.now();
  for (let i = 0; i < n; i++) if (!checkDefenseAnswer(text, open(false)).ok) throw new Error('check failed');
  const checkUs = ((performance.now() - t) * 1000) / n;
  // The same text for another validator: refused right after JSON and shape, before any crypto.
  const wrong = text.replace('"validator":"v1"', '"validator":"v2"');
  t = performance.now();
  for (let i = 0; i < n; i++) checkDefenseAnswer(wrong, open(false));
  const parseUs = ((performance.now() - t) * 1000) / n;
  return { signUs, checkUs, parseUs };
}

async function main() {
  const config = loadConfig();
  const log = createLogger({ level: 'error', name: 'bench-defense' });
  const chainId = 700_000 + Math.floor(Math.random() * 90_000);
  const prefix = `bench-${crypto.randomUUID().slice(0, 8)}`;
  const run = prefix;
  const cleanup: Cleanup = [];
  try {
    const { fx, graph } = await startEthereumBench({ neo4j: config.neo4j, chainId, cleanup, say });

    // Registry: three invariants on the vault, each with a pause.
    const { vault } = fx.addresses;
    await registerVaultInvariants(graph, {
      chainId,
      idPrefix: run,
      addresses: fx.addresses,
      actions: [{ kind: 'pause' }],
      severity: 'critical',
    });

    say(`bench: local subtensor (chopsticks) with the ${MINERS} miners' hotkeys registered on a subnet`);
    const hotkeyUris = Array.from({ length: MINERS }, (_, i) => defenseHotkeyUri(`${run}-${i}`));
    const subnet = await startDefenseSubnet({ specPath: config.subtensor.specPath, hotkeyUris, log });
    cleanup.push(() => subnet.close());
    say(`bench: starting ${MINERS} miner processes (vigil defense-miner)`);
    const miners = await spawnDefenseMiners({
      hotkeyUris,
      rpcUrl: fx.node.rpcUrl,
      chainId,
      redisUrl: config.redisUrl,
      prefix,
    });
    cleanup.push(() => miners.stop());

    const conns = Array.from({ length: 3 }, () => createRedisConnection(config.redisUrl, 'worker'));
    cleanup.push(() => conns.forEach((c) => c.disconnect()));
    const [producer, workerConn, alertSub] = conns as [
      (typeof conns)[0],
      (typeof conns)[0],
      (typeof conns)[0],
    ];
    const ingest = createIngestQueue(producer, prefix);
    cleanup.push(() => ingest.obliterate({ force: true }).then(() => ingest.close()));
    const worker = createIngestWorker({
      connection: workerConn,
      prefix,
      graph,
      log,
      registry: new Registry(),
      concurrency: 4,
      batchSize: 1000,
    });
    cleanup.push(() => worker.close());
    const alertAt = new Map<string, number>();
    // When the ingest worker took each finding: splits "finding queued → alert stored" in two.
    const pickedAt = new Map<string, number>();
    worker.on('active', (job) => {
      if (job.data.kind === 'finding') pickedAt.set(alertId(job.data), performance.now());
    });
    // The first message is the alert stored; later ones re-send it as its action outcomes arrive.
    alertSub.on('message', (_ch: string, msg: string) => {
      const id = (JSON.parse(msg) as { id: string }).id;
      if (!alertAt.has(id)) alertAt.set(id, performance.now());
    });
    await alertSub.subscribe(alertChannel(prefix));

    const rpc = createHttpRpc({ url: fx.node.rpcUrl });
    cleanup.push(() => rpc.close());
    const provider = createMonitorProvider({ url: fx.node.wsUrl, chainId });
    cleanup.push(() => closeMonitorProvider(provider));
    const reports = new Map<string, RoundReport>();
    const validator = createDefenseValidator({
      id: `${run}-validator`,
      chainId,
      connection: producer,
      prefix,
      provider,
      rpc,
      graph,
      ingest,
      log,
      members: subnet.membership,
      params: { minersPerTx: MINERS, threshold: 2 / 3, deadlineMs: 2000, registryRefreshMs: 60_000 },
      pauseAgent: createPauseAgent({
        rpc,
        privateKey: fx.guardian.privateKey,
        chainId,
        log: createLogger({
          level: 'info',
          name: 'bench',
          base: {},
          destination: cliDestination('', process.stderr),
        }),
        redis: producer,
        prefix,
      }),
      onRound: (r) => reports.set(r.txHash, r),
    });
    cleanup.push(() => validator.close());
    await validator.start();
    const upMs = await waitForMiners(validator, miners.ids);
    say(`bench: ${MINERS} miners live after ${(upMs / 1000).toFixed(1)} s`);

    // One fresh attacker per round (one pause per incident), funded in one block.
    const total = ROUNDS + WARMUP;
    const attackers = Array.from({ length: total }, () => Wallet.createRandom(fx.provider));
    let dn = await fx.provider.getTransactionCount(fx.deployer.address, 'pending');
    await Promise.all(
      attackers.map((w) =>
        fx.deployer.sendTransaction({ to: w.address, value: parseEther('1'), nonce: dn++ }),
      ),
    );
    await fx.node.mine();
    await new Promise((r) => setTimeout(r, 300));

    const gwei = (n: number) => BigInt(Math.round(n * 1e9));
    type Row = {
      pause: number;
      alert: number;
      both: number;
      first: boolean;
      reverted: boolean;
      prep: number;
      vote: number;
      check: number;
      sign: number;
      ingest: number;
      pickup: number;
      store: number;
    };
    const rows: Row[] = [];
    for (let i = 0; i < total; i++) {
      const warm = i < WARMUP;
      // Benign traffic from the user, then the attack with a random tip.
      let un = await fx.provider.getTransactionCount(fx.user.address, 'pending');
      for (let b = 0; b < BENIGN_PER_ROUND; b++) {
        await (fx.vault.connect(fx.user) as Contract).getFunction('deposit')({
          value: 1000n + BigInt(b),
          nonce: un++,
          gasLimit: 100_000,
        });
      }
      const tip = 1 + Math.random() * 20;
      const a = attackers[i]!;
      const attack = await (fx.relay.connect(a) as Contract).getFunction('attack')(vault, a.address, {
        nonce: 0,
        gasLimit: 300_000,
        maxPriorityFeePerGas: gwei(tip),
        maxFeePerGas: gwei(tip + 50),
      });
      const hash = attack.hash.toLowerCase();
      const id = alertId({ chainId, tx: { hash } as never, invariant: { id: `${run}-owner` } as never });
      const deadline = Date.now() + 10_000;
      while (!(reports.get(hash)?.pauses.some((p) => p.status === 'sent') && alertAt.has(id))) {
        if (Date.now() > deadline)
          throw new Error(
            `round ${i + 1}: no pause or alert within 10 s (report: ${JSON.stringify(reports.get(hash)?.consensus)})`,
          );
        await new Promise((r) => setTimeout(r, 2));
      }
      const r = reports.get(hash)!;
      const pauseHash = r.pauses.find((p) => p.status === 'sent')!.hash!;
      await fx.node.mine();
      const [pr, ar] = await Promise.all([
        fx.provider.getTransactionReceipt(pauseHash),
        fx.provider.getTransactionReceipt(hash),
      ]);
      const first =
        !!pr && !!ar && pr.blockNumber === ar.blockNumber && pr.index < ar.index && pr.status === 1;
      const reverted = ar?.status === 0;
      const pause = r.marks.paused! - r.marks.seen;
      const alert = alertAt.get(id)! - r.marks.seen;
      const second = [...r.latencies].sort((x, y) => x.arrivalMs - y.arrivalMs)[1];
      const row: Row = {
        pause,
        alert,
        both: Math.max(pause, alert),
        first,
        reverted,
        prep: r.marks.sent - r.marks.seen,
        vote: r.marks.violated! - r.marks.sent,
        check: second?.minerMs ?? Number.NaN,
        sign: r.marks.paused! - r.marks.violated!,
        ingest: alertAt.get(id)! - r.marks.queued!,
        pickup: (pickedAt.get(id) ?? Number.NaN) - r.marks.queued!,
        store: alertAt.get(id)! - (pickedAt.get(id) ?? Number.NaN),
      };
      if (!warm) rows.push(row);
      say(
        `${warm ? 'warm-up' : 'round'} ${warm ? i + 1 : i + 1 - WARMUP}/${warm ? WARMUP : ROUNDS}: seen→pause ${pause.toFixed(1)} ms, seen→alert ${alert.toFixed(1)} ms, pause first ${first ? 'yes' : 'NO'}, attack ${reverted ? 'reverted' : 'SUCCEEDED'}`,
      );
      // The owner lifts the pause for the next round.
      await (fx.vault.connect(fx.deployer) as Contract).getFunction('unpause')({
        nonce: await fx.provider.getTransactionCount(fx.deployer.address, 'pending'),
      });
      await fx.node.mine();
    }

    const signCost = signingCost(SIGN_OPS);
    const stat = (k: Exclude<keyof Row, 'first' | 'reverted'>) => {
      const xs = rows.map((r) => r[k]);
      return { p50: percentile(xs, 50), p99: percentile(xs, 99), max: Math.max(...xs) };
    };
    const fmt = (v: number) => v.toFixed(1).padStart(8);
    const lines = [
      `defense end to end — ${ROUNDS} attacks (+${WARMUP} warm-up), ${BENIGN_PER_ROUND} benign txs per round, ${MINERS} miner processes, consensus 2/3`,
      '',
      '| metric                         |   p50 ms |   p99 ms |   max ms |',
      '|--------------------------------|----------|----------|----------|',
      ...(
        [
          ['seen → pause broadcast', 'pause'],
          ['seen → alert stored (Neo4j)', 'alert'],
          ['seen → both (target p99 ≤ 150)', 'both'],
          ['  seen → challenges queued', 'prep'],
          ['  queued → 2nd vote (majority)', 'vote'],
          ['  miner check (2nd voter)', 'check'],
          ['  majority → pause sent', 'sign'],
          ['  finding queued → alert stored', 'ingest'],
          ['    queued → worker took it', 'pickup'],
          ['    worker took it → published', 'store'],
        ] as const
      ).map(([label, k]) => {
        const s = stat(k);
        return `| ${label.padEnd(30)} | ${fmt(s.p50)} | ${fmt(s.p99)} | ${fmt(s.max)} |`;
      }),
      '',
      `pause landed first: ${rows.filter((r) => r.first).length}/${rows.length}; attack reverted: ${rows.filter((r) => r.reverted).length}/${rows.length}`,
      `target p99 ≤ 150 ms: ${stat('both').p99 <= 150 ? 'met' : 'NOT met'}`,
      `one answer (3 results), ${SIGN_OPS} times each: sign ${signCost.signUs.toFixed(0)} µs; check on arrival (JSON, shape, round, sr25519 verify) ${signCost.checkUs.toFixed(0)} µs, of which JSON and shape ${signCost.parseUs.toFixed(0)} µs`,
    ];
    console.log(lines.join('\n'));
    process.exitCode = rows.every((r) => r.first && r.reverted) ? 0 : 1;
  } finally {
    await runCleanup(cleanup);
  }
}

runBench(main);
