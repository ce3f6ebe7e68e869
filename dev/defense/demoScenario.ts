/**
 * The BitDefense part of `vigil demo`: on a local anvil, a watched vault, a pending attack, the
 * miners' consensus, the guardian's pause landing before the attack, the alert in Neo4j and a
 * signed webhook. Everything is the real service code (registry, `vigil defense-miner` processes,
 * the defense validator with its pause agent and notifiers); the ingest worker that stores the
 * finding is the caller's (the demo's own, on the same Redis prefix).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiPromise } from '@polkadot/api';
import { type Contract, Wallet, formatEther, parseEther } from 'ethers';
import type { AdminChain } from '../../chains/bittensor/neurons.ts';
import { createHttpRpc } from '../../chains/ethereum/rpc.ts';
import type { RpcTransaction } from '../../chains/ethereum/types.ts';
import { closeMonitorProvider, createMonitorProvider } from '../../chains/ethereum/watcher.ts';
import { VigilError } from '../../common/errors.ts';
import { type Logger, createLogger, silentLogger } from '../../common/logger.ts';
import { type AlertRecord, getAlert } from '../../graph/alerts.ts';
import type { Graph } from '../../graph/driver.ts';
import { alertId } from '../../protocol/ids.ts';
import { alertChannel } from '../../protocol/keys.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { type IngestQueue, createIngestQueue } from '../../queues/ingestion.ts';
import { SIGNATURE_HEADER, createPauseAgent } from '../../services/defense/actions.ts';
import { createTrailRequester } from '../../services/defense/trail.ts';
import { type RoundReport, createDefenseValidator } from '../../services/defense/validator.ts';
import { setupFixture } from '../testkit/engine.ts';
import {
  chainMembership,
  defenseHotkeyUri,
  registerDefenseHotkeys,
  registerVaultInvariants,
  spawnDefenseMiners,
  startDefenseSubnet,
  waitForMiners,
} from './localRun.ts';

export interface DefenseScenarioDeps {
  graph: Graph;
  redisUrl: string;
  /** Queue prefix of the ingest worker that will store the finding (and of the defense queues). */
  prefix: string;
  /** The ingest queue on `prefix`; one is opened (and closed at shutdown) if not given. */
  ingestQueue?: IngestQueue;
  /** Progress lines for a human. */
  log: (line: string) => void;
  /** Everything started is registered here, stopped in reverse order. */
  shutdown: { add(name: string, fn: () => Promise<unknown> | unknown): void };
  /** EVM chain id of the local node (default 31337, anvil's). */
  chainId?: number;
  /** Invariant ids are `<idPrefix>-owner|eth|tokens` (default `demo-vault`; re-running replaces them). */
  idPrefix?: string;
  /** Service logs of the validator (default: errors only, JSON). */
  logger?: Logger;
  /** The miner processes' own logs (default 'inherit', errors only). */
  minerOutput?: 'inherit' | 'ignore';
  /**
   * The local Bittensor subnet the miners' hotkeys are registered on (paid by `coldkeyUri`) and
   * membership is read from; or the chain spec of a chopsticks chain the scenario starts for it.
   */
  subnet: { api: ApiPromise; chain: AdminChain; netuid: number; coldkeyUri: string } | { specPath: string };
}

export interface DefenseScenarioResult {
  chainId: number;
  /** The defense validator's id: the Patrol validator follows its trail requests (DEFENSE_VALIDATOR_ID). */
  validatorId: string;
  rpcUrl: string;
  /** The watched Vault (lower-case). */
  contract: string;
  attacker: string;
  attackTx: string;
  pauseTx: string;
  /** The block that mined both. */
  block: number;
  pauseFirst: boolean;
  attackReverted: boolean;
  /** Owner still the deployer, ETH and tokens of the vault unchanged, vault paused. */
  vaultIntact: boolean;
  invariantIds: string[];
  alertIds: string[];
  alerts: AlertRecord[];
  /** At least one webhook POST arrived with a valid HMAC-SHA256 signature. */
  webhookReceived: boolean;
  webhooks: { alertId: string; valid: boolean }[];
  timings: { seenToMajorityMs: number; seenToPauseMs: number; seenToAlertMs: number };
}

const MINERS = 3;
const gwei = (n: number) => BigInt(Math.round(n * 1e9));
const ms = (x: number) => `${x.toFixed(1)} ms`;
const short = (h: string) => `${h.slice(0, 10)}…${h.slice(-4)}`;

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline)
      throw new VigilError(`defense scenario: no ${what} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A local webhook receiver that checks each POST's `x-vigil-signature` against the shared secret. */
async function startWebhookReceiver(secret: string) {
  const got: { body: string; valid: boolean }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
      const header = Buffer.from(String(req.headers[SIGNATURE_HEADER] ?? ''));
      got.push({ body, valid: header.length === expected.length && timingSafeEqual(header, expected) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export async function runDefenseScenario(deps: DefenseScenarioDeps): Promise<DefenseScenarioResult> {
  const { log, shutdown } = deps;
  const chainId = deps.chainId ?? 31337;
  const idPrefix = deps.idPrefix ?? 'demo-vault';
  const run = randomBytes(4).toString('hex');
  const logger = deps.logger ?? createLogger({ level: 'error', name: 'defense-demo' });

  // 1. The chain and the watched vault.
  const t0 = Date.now();
  const fx = await setupFixture({ log: silentLogger, cacheDir: join(tmpdir(), 'vigil-solc-cache'), chainId });
  shutdown.add('anvil', () => fx.stop());
  const vault = fx.addresses.vault.toLowerCase();
  const ethBefore = await fx.provider.getBalance(vault);
  const tokensBefore = (await fx.token.getFunction('balanceOf')(vault)) as bigint;
  log(
    `anvil at ${fx.node.rpcUrl} (chain ${chainId}, blocks mined on demand, fee-ordered) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  log(
    `Vault ${vault}: ${formatEther(ethBefore)} ETH + ${formatEther(tokensBefore)} tokens, owner ${fx.deployer.address}, guardian ${fx.guardian.address}`,
  );
  log('  (its setOwner has no access control: anyone can take it over and drain it)');

  // 2. Registry: the vault's invariants, each with a pause (guardian key) and a signed webhook.
  const secret = randomBytes(32).toString('hex');
  const receiver = await startWebhookReceiver(secret);
  shutdown.add('webhook receiver', () => receiver.close());
  const invariantIds = await registerVaultInvariants(deps.graph, {
    chainId,
    idPrefix,
    addresses: fx.addresses,
    actions: [{ kind: 'pause' }, { kind: 'webhook', url: receiver.url }],
  });
  log(
    `registered ${invariantIds.join(', ')} in Neo4j, actions: pause() by the guardian + signed webhook to ${receiver.url}`,
  );

  // 3. Three miner processes and the validator (watcher, consensus, pause agent, notifiers).
  const conns = Array.from({ length: 2 }, () => createRedisConnection(deps.redisUrl, 'worker'));
  shutdown.add('defense redis connections', () => conns.forEach((c) => c.disconnect()));
  const [producer, alertSub] = conns as [(typeof conns)[0], (typeof conns)[0]];
  let ingest = deps.ingestQueue;
  if (!ingest) {
    const q = createIngestQueue(producer, deps.prefix);
    shutdown.add('defense ingest queue', () => q.close());
    ingest = q;
  }
  // The miners' hotkeys, registered on the subnet: only registered hotkeys are asked and paid.
  const hotkeyUris = Array.from({ length: MINERS }, (_, i) => defenseHotkeyUri(`demo-${run}-${i}`));
  const t1 = Date.now();
  const sub = deps.subnet;
  let membership: Awaited<ReturnType<typeof chainMembership>>;
  let netuid: number;
  if ('specPath' in sub) {
    const local = await startDefenseSubnet({ specPath: sub.specPath, hotkeyUris, log: logger });
    shutdown.add('defense subnet', () => local.close());
    ({ membership, netuid } = local);
  } else {
    await registerDefenseHotkeys(sub.api, sub.chain, {
      netuid: sub.netuid,
      coldkeyUri: sub.coldkeyUri,
      hotkeyUris,
    });
    membership = await chainMembership(sub.api, sub.netuid, logger);
    shutdown.add('defense membership', () => membership.close());
    netuid = sub.netuid;
  }
  log(
    `${MINERS} defense miner hotkeys registered on subnet ${netuid} of the local Bittensor chain (${((Date.now() - t1) / 1000).toFixed(1)} s): the validator asks and pays only registered hotkeys`,
  );
  const miners = await spawnDefenseMiners({
    hotkeyUris,
    rpcUrl: fx.node.rpcUrl,
    chainId,
    redisUrl: deps.redisUrl,
    prefix: deps.prefix,
    logLevel: 'error',
    stdio: deps.minerOutput ?? 'inherit',
  });
  shutdown.add('defense miners', () => miners.stop());

  const rpc = createHttpRpc({ url: fx.node.rpcUrl });
  shutdown.add('defense rpc', () => rpc.close());
  const provider = createMonitorProvider({ url: fx.node.wsUrl, chainId });
  shutdown.add('defense provider', () => closeMonitorProvider(provider));
  const reports = new Map<string, RoundReport>();
  const validatorId = `defense-demo-${run}-validator`;
  const validator = createDefenseValidator({
    id: validatorId,
    chainId,
    connection: producer,
    prefix: deps.prefix,
    provider,
    rpc,
    graph: deps.graph,
    ingest,
    log: logger,
    members: membership,
    params: { minersPerTx: MINERS, threshold: 2 / 3, deadlineMs: 3000, registryRefreshMs: 60_000 },
    pauseAgent: createPauseAgent({
      rpc,
      privateKey: fx.guardian.privateKey,
      chainId,
      log: logger.child({ component: 'pause-agent' }),
      redis: producer,
      prefix: deps.prefix,
    }),
    notifiers: { webhookSecret: secret, telegram: { baseUrl: '', token: '' } },
    onRound: (r) => reports.set(r.txHash, r),
    // The attacker's trail, for the Patrol validator that follows this id (services/defense/trail.ts).
    onViolation: createTrailRequester({
      connection: producer,
      prefix: deps.prefix,
      validatorId,
      chainId,
      head: () => fx.provider.getBlockNumber(),
      log: logger.child({ component: 'trail' }),
    }),
  });
  shutdown.add('defense validator', () => validator.close());
  await validator.start();
  const upMs = await waitForMiners(validator, miners.ids);
  log(
    `${MINERS} defense-miner processes live after ${(upMs / 1000).toFixed(1)} s (${miners.ids.join(', ')}); validator watching the mempool, consensus 2 of 3`,
  );

  const alertAt = new Map<string, number>();
  alertSub.on('message', (_ch: string, msg: string) => {
    try {
      alertAt.set((JSON.parse(msg) as { id: string }).id, performance.now());
    } catch {
      // not ours
    }
  });
  await alertSub.subscribe(alertChannel(deps.prefix));

  const reportOf = (hash: string, what: string) => until(what, () => reports.get(hash.toLowerCase()), 15_000);
  const nonceOf = (a: string) => fx.provider.getTransactionCount(a, 'pending');
  const verdicts = (r: RoundReport) =>
    r.consensus
      .map((c) => {
        const n = c.outcome === 'undecided' ? '' : ` ${c.votes[c.outcome]}/${c.asked}`;
        return `${c.id.replace(`${idPrefix}-`, '')} ${c.outcome}${n}`;
      })
      .join(', ');

  // 4. Benign traffic: checked and let through.
  const attacker = Wallet.createRandom(fx.provider);
  let dn = await nonceOf(fx.deployer.address);
  const fund = await fx.deployer.sendTransaction({
    to: attacker.address,
    value: parseEther('1'),
    nonce: dn++,
  });
  const transfer = await (fx.token.connect(fx.deployer) as Contract).getFunction('transfer')(
    fx.user.address,
    parseEther('10'),
    { nonce: dn++ },
  );
  const deposit = await (fx.vault.connect(fx.user) as Contract).getFunction('deposit')({
    value: parseEther('1'),
    nonce: await nonceOf(fx.user.address),
  });
  for (const [what, tx] of [
    ['Vault.deposit(1 ETH) by a user', deposit],
    ['Token.transfer(10) by the deployer', transfer],
  ] as const) {
    const r = await reportOf(tx.hash, `consensus on the benign ${what}`);
    log(
      `benign ${what} ${short(tx.hash)}: ${verdicts(r)} → no action (${ms(r.marks.closed - r.marks.seen)})`,
    );
  }
  await fx.node.mine();
  log(
    `block ${await fx.provider.getBlockNumber()} mined: the deposit, the transfer and 1 ETH to a fresh account ${attacker.address} (a plain transfer, not challenged: ${reports.has(fund.hash.toLowerCase()) ? 'challenged' : 'skipped'})`,
  );

  // 5. The attack, pending in the mempool.
  const tip = 2;
  const attack = await (fx.relay.connect(attacker) as Contract).getFunction('attack')(
    vault,
    attacker.address,
    {
      nonce: 0,
      gasLimit: 300_000,
      maxPriorityFeePerGas: gwei(tip),
      maxFeePerGas: gwei(50),
    },
  );
  const attackTx = (attack.hash as string).toLowerCase();
  log(
    `ATTACK ${attackTx} pending: Relay.attack(vault) from ${attacker.address.toLowerCase()} (setOwner, then drain; tip ${tip} gwei)`,
  );
  const ids = invariantIds.map((id) =>
    alertId({ chainId, tx: { hash: attackTx } as never, invariant: { id } as never }),
  );
  const r = await until(
    'pause broadcast for the attack',
    () => {
      const rep = reports.get(attackTx);
      return rep?.pauses.some((p) => p.status === 'sent' || p.status === 'replaced') ? rep : undefined;
    },
    15_000,
  );
  const sent = r.pauses.find((p) => p.status === 'sent' || p.status === 'replaced')!;
  const pauseTx = sent.hash!.toLowerCase();
  const violated = r.consensus.filter((c) => c.outcome === 'violated');
  log(
    `miners answered in ${r.latencies.map((l) => `${ms(l.minerMs)} (arrived +${ms(l.arrivalMs)})`).join(', ')}`,
  );
  log(`consensus: ${verdicts(r)}`);
  log(
    `PAUSE ${pauseTx} broadcast by the guardian, tip ${Number(sent.maxPriorityFeePerGas!) / 1e9} gwei > the attack's ${tip} gwei (one pause for ${violated.length} violations: the others deduplicated)`,
  );
  const stillPending =
    (await fx.node.rpc<RpcTransaction>('eth_getTransactionByHash', [attackTx])).blockNumber == null;
  log(`  the attack is ${stillPending ? 'still pending' : 'ALREADY MINED'} when the pause is out`);

  // 6. The alerts, stored by the ingest worker.
  const expected = ids.filter((_, i) => violated.some((c) => c.id === invariantIds[i]));
  const alerts = await until(
    'alert in Neo4j',
    async () => {
      if (!expected.every((id) => alertAt.has(id))) return undefined;
      const got = await Promise.all(expected.map((id) => getAlert(deps.graph, id)));
      return got.every(Boolean) ? (got as AlertRecord[]) : undefined;
    },
    15_000,
  );
  const storedAt = Math.max(...expected.map((id) => alertAt.get(id)!));
  const timings = {
    seenToMajorityMs: r.marks.violated! - r.marks.seen,
    seenToPauseMs: r.marks.paused! - r.marks.seen,
    seenToAlertMs: storedAt - r.marks.seen,
  };
  // Balances are stored in wei (the vault's token has 18 decimals too).
  const value = (kind: string, v: string | null) =>
    v === null || !/^\d+$/.test(v)
      ? String(v)
      : kind === 'balanceMaxDrop'
        ? `${formatEther(v)} ETH`
        : kind === 'erc20BalanceDrop'
          ? `${formatEther(v)} tokens`
          : v;
  for (const a of alerts)
    log(
      `ALERT ${a.id} (${a.severity}) in Neo4j: ${value(a.invariantKind, a.before)} → ${value(a.invariantKind, a.after)}, votes ${a.votesViolated}/${a.votesTotal} when the validator acted`,
    );
  log(
    `timings from the tx seen: majority ${ms(timings.seenToMajorityMs)}, pause broadcast ${ms(timings.seenToPauseMs)}, alerts stored ${ms(timings.seenToAlertMs)}`,
  );

  // 7. One block: the pause must come first, the attack revert.
  await fx.node.mine();
  const [pr, ar] = await Promise.all([
    fx.provider.getTransactionReceipt(pauseTx),
    fx.provider.getTransactionReceipt(attackTx),
  ]);
  const block = ar?.blockNumber ?? pr?.blockNumber ?? (await fx.provider.getBlockNumber());
  const pauseFirst =
    !!pr && !!ar && pr.blockNumber === ar.blockNumber && pr.index < ar.index && pr.status === 1;
  const attackReverted = ar?.status === 0;
  log(
    `block ${block} mined: #${pr?.index} pause ${pr?.status === 1 ? 'succeeded' : 'FAILED'}, #${ar?.index} attack ${attackReverted ? 'reverted' : 'SUCCEEDED'} → pause landed first: ${pauseFirst ? 'yes' : 'NO'}`,
  );
  const [owner, paused, ethAfter, tokensAfter] = await Promise.all([
    fx.vault.getFunction('owner')() as Promise<string>,
    fx.vault.getFunction('paused')() as Promise<boolean>,
    fx.provider.getBalance(vault),
    fx.token.getFunction('balanceOf')(vault) as Promise<bigint>,
  ]);
  // The balances were read before the benign 1 ETH deposit.
  const ethExpected = ethBefore + parseEther('1');
  const vaultIntact =
    owner.toLowerCase() === fx.deployer.address.toLowerCase() &&
    paused &&
    ethAfter === ethExpected &&
    tokensAfter === tokensBefore;
  log(
    `vault ${paused ? 'paused' : 'NOT paused'}, owner ${owner.toLowerCase() === fx.deployer.address.toLowerCase() ? 'unchanged' : `CHANGED to ${owner}`}, ${formatEther(ethAfter)} ETH + ${formatEther(tokensAfter)} tokens${vaultIntact ? ' intact' : ' — NOT intact'}`,
  );

  // 8. The signed webhooks (sent in the background after the pause).
  await until('webhook', () => receiver.got.length >= alerts.length || undefined, 10_000).catch(
    () => undefined,
  );
  const webhooks = receiver.got.map((g) => {
    let id = '';
    try {
      id = String((JSON.parse(g.body) as { alertId?: string }).alertId ?? '');
    } catch {
      // not JSON: reported as received, id unknown
    }
    return { alertId: id, valid: g.valid };
  });
  const webhookReceived = webhooks.some((w) => w.valid && expected.includes(w.alertId));
  log(
    `webhook: ${webhooks.length} POSTs received at ${receiver.url}, HMAC-SHA256 ${webhooks.every((w) => w.valid) && webhooks.length > 0 ? 'valid' : 'NOT valid'}`,
  );

  return {
    chainId,
    validatorId,
    rpcUrl: fx.node.rpcUrl,
    contract: vault,
    attacker: attacker.address.toLowerCase(),
    attackTx,
    pauseTx,
    block,
    pauseFirst,
    attackReverted,
    vaultIntact,
    invariantIds,
    alertIds: expected,
    alerts,
    webhookReceived,
    webhooks,
    timings,
  };
}
