import type { JsonRpcApiProvider } from 'ethers';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Registry } from 'prom-client';
import type { JsonRpcClient } from '../../chains/ethereum/rpc.ts';
import { type SenderNonces, createSenderNonces } from '../../chains/ethereum/senderNonces.ts';
import type { RpcTransaction } from '../../chains/ethereum/types.ts';
import { type Watcher, watchHeads, watchPending } from '../../chains/ethereum/watcher.ts';
import type { Logger } from '../../common/logger.ts';
import type { Graph } from '../../graph/driver.ts';
import { defenseDeferredKey } from '../../protocol/keys.ts';
import type { IngestQueue } from '../../queues/ingestion.ts';
import type { PauseAgent } from './actions.ts';
import type { CanaryMaker } from './canaries.ts';
import type { RegisteredInvariant } from './registry.ts';
import type { RewardBook } from './rewards.ts';
import { createCanaryRunner } from './validator/canaryTick.ts';
import { type Notifiers, type Violation, createDispatch } from './validator/dispatch.ts';
import { createDefenseMetrics } from './validator/metrics.ts';
import { type Members, createMinerPool } from './validator/minerPool.ts';
import { createOutcomeRecorder } from './validator/outcomes.ts';
import { createInvariantView, createRelevanceFilter } from './validator/relevance.ts';
import { createDeferredChecks } from './validator/retries.ts';
import { type OpenRound, createRounds } from './validator/round.ts';
import { DEFAULT_DEFENSE_PARAMS, type DefenseParams, type RoundReport, lower } from './validator/types.ts';

export { DEFAULT_DEFENSE_PARAMS, type DefenseParams, type Notifiers, type RoundReport, type Violation };

export interface DefenseValidatorDeps {
  id: string;
  chainId: number;
  /**
   * Challenges, heartbeats, finding enqueue, pause dedupe; duplicated for the blocking read of the
   * miners' answer streams.
   */
  connection: Redis;
  prefix: string;
  /** Pending-tx and head watcher source (WebSocket: subscriptions; HTTP: polling). */
  provider: JsonRpcApiProvider;
  rpc: JsonRpcClient;
  graph: Graph;
  ingest: IngestQueue;
  log: Logger;
  /**
   * The subnet's registered hotkeys (services/defense/membership.ts): only they are asked,
   * counted and paid; a heartbeat of anyone else marks nobody live.
   */
  members: Members;
  metrics?: Registry;
  params?: Partial<DefenseParams>;
  pauseAgent?: PauseAgent;
  notifiers?: Notifiers;
  rewards?: RewardBook;
  /** Builds canary challenges (canaries.ts); without it no canary is sent. */
  canaries?: CanaryMaker;
  /** Called once per finished round (tests and the bench read timings from it). */
  onRound?: (report: RoundReport) => void;
  /**
   * Called once per violation the consensus decided, after its pause and finding (not awaited; a
   * throw is logged): where more work on a violation plugs in (validator/dispatch.ts).
   */
  onViolation?: (v: Violation) => void | Promise<void>;
  /**
   * The senders' pending txs and state nonces (chains/ethereum/senderNonces.ts), shared with the
   * watcher and the canary engine where the validator is wired; built from `rpc` when absent.
   */
  nonces?: SenderNonces;
  /** Watcher mode: 'auto' picks subscriptions on a WebSocket provider. */
  watchMode?: 'auto' | 'subscribe' | 'poll';
}

export interface DefenseValidator {
  /** Listen for answers, load the head and the registry, and (unless `watch: false`) watch pending txs and heads. */
  start(opts?: { watch?: boolean }): Promise<void>;
  /** Check one pending tx now (what the watcher calls); resolves when its round is closed. */
  handleTx(tx: RpcTransaction): Promise<RoundReport | null>;
  /** Sends one canary now (what the canary timer calls); resolves when its round is closed, null if none was made. */
  runCanary(): Promise<RoundReport | null>;
  refreshRegistry(): Promise<RegisteredInvariant[]>;
  liveMiners(): Promise<string[]>;
  readonly head: number;
  close(): Promise<void>;
}

/**
 * The defense validator: watches the mempool, turns each transaction that may touch a watched
 * contract into a challenge for k miners, takes the consensus per invariant, and on `violated`
 * runs the invariant's defense actions (pause first, then notifications) and queues the finding
 * for ingestion. Acts as soon as a violation has its qualified majority, not at the deadline.
 *
 * This file is the wiring; the parts live in ./validator/: relevance (registry view and relevance
 * filter), minerPool (liveness, pick), round (open, intake, consensus, close), dispatch (actions),
 * canaryTick, retries (deferred checks), metrics. The closure is longer than ~150 lines because it
 * is the wiring (each part built with its deps) around three short functions of a tx's check.
 */
export function createDefenseValidator(deps: DefenseValidatorDeps): DefenseValidator {
  const p = { ...DEFAULT_DEFENSE_PARAMS, ...deps.params };
  if (!(p.threshold > 0.5 && p.threshold <= 1))
    throw new RangeError(`consensus threshold must be in (0.5, 1], got ${p.threshold}`);
  const metrics = createDefenseMetrics(deps.metrics);
  const { txs } = metrics;
  let head = 0;
  let closed = false;
  const background = new Set<Promise<unknown>>();
  const track = (pr: Promise<unknown>) => {
    background.add(pr);
    pr.finally(() => background.delete(pr));
  };
  const watchers: Watcher[] = [];
  const checked = new LRUCache<string, true>({ max: 100_000 });
  const nonces = deps.nonces ?? createSenderNonces({ rpc: deps.rpc });

  const view = createInvariantView({
    graph: deps.graph,
    chainId: deps.chainId,
    refreshMs: p.registryRefreshMs,
    log: deps.log,
    track,
  });
  const filter = createRelevanceFilter({ rpc: deps.rpc, watched: () => view.watched });
  const outcomes = createOutcomeRecorder({
    validatorId: deps.id,
    ingest: deps.ingest,
    rpc: deps.rpc,
    log: deps.log,
    track,
    pauseBlocks: p.pauseWatchBlocks,
    closed: () => closed,
  });
  const dispatch = createDispatch({
    id: deps.id,
    outcomes,
    chainId: deps.chainId,
    ingest: deps.ingest,
    log: deps.log,
    metrics,
    pauseAgent: deps.pauseAgent,
    notifiers: deps.notifiers,
    onViolation: deps.onViolation,
    track,
  });
  const rounds = createRounds({
    id: deps.id,
    chainId: deps.chainId,
    connection: deps.connection,
    prefix: deps.prefix,
    threshold: p.threshold,
    deadlineMs: p.deadlineMs,
    log: deps.log,
    metrics,
    members: deps.members,
    dispatch,
    rewards: deps.rewards,
    learn: deps.canaries && ((ids, tx) => deps.canaries!.learn(ids, tx)),
    onRound: deps.onRound,
  });
  const pool = createMinerPool({
    connection: deps.connection,
    prefix: deps.prefix,
    members: deps.members,
    ttlMs: p.minerTtlMs,
    k: p.minersPerTx,
    log: deps.log,
    refused: metrics.heartbeatsRefused,
    onLive: (ids) => rounds.watchAnswers(ids),
  });
  const deferred = createDeferredChecks({
    connection: deps.connection,
    key: defenseDeferredKey(deps.prefix, deps.id),
    retryMs: p.retryMs,
    maxRetries: p.maxRetries,
    checked: (key) => checked.has(key),
    live: () => pool.live(),
    retry: (tx) => handleTx(tx),
    giveUp,
    track,
    log: deps.log,
  });

  function onHead(n: number) {
    if (n <= head) return;
    head = n;
    nonces.onHead(n);
  }

  /** The registered invariants and the head as of now (a head event can trail the tx). */
  async function current() {
    const [list, latest] = await Promise.all([view.current(), deps.rpc.call<string>('eth_blockNumber')]);
    onHead(Number(BigInt(latest)));
    return { list, head };
  }

  const canaries = createCanaryRunner({
    canaries: deps.canaries,
    rewards: deps.rewards,
    perEpoch: p.canariesPerEpoch,
    k: p.minersPerTx,
    deadlineMs: p.deadlineMs,
    current,
    pool,
    rounds,
    metrics,
    log: deps.log,
    track,
    closed: () => closed,
  });

  /** The check of `tx` could not start: forget that it was checked and try again shortly. */
  function deferCheck(key: string, tx: RpcTransaction, reason: string) {
    checked.delete(key);
    if (!closed) deferred.defer(key, tx, reason);
  }

  /** Stops retrying a tx: quietly if it was mined meanwhile, else counted and logged as never checked. */
  async function giveUp(tx: RpcTransaction, attempts: number, reason: string) {
    const from = lower(tx.from);
    const mined = from
      ? await nonces.stateNonce(from).then(
          (n) => Number(BigInt(tx.nonce)) < n,
          () => false, // the node cannot say: report it as never checked
        )
      : false;
    if (mined) {
      txs.inc({ decision: 'already-mined' });
      return;
    }
    txs.inc({ decision: 'gave-up' });
    deps.log.error({ tx: tx.hash, attempts, reason }, 'tx never checked: gave up');
  }

  async function handleTx(tx: RpcTransaction): Promise<RoundReport | null> {
    const seen = performance.now();
    if (closed || !tx.hash) return null;
    // A tx is checked once, however often it arrives (the watcher, or a direct call).
    const key = lower(tx.hash)!;
    if (checked.has(key)) return null;
    checked.set(key, true);
    let opened: OpenRound | null | 'deferred';
    try {
      opened = await openRound(tx, key, seen);
    } catch (e) {
      // Nothing reached a miner: the tx must not count as checked, or nobody ever checks it.
      deferCheck(key, tx, (e as Error).message);
      throw e;
    }
    if (opened === 'deferred') return null;
    deferred.done(key);
    return opened === null ? null : rounds.close(opened);
  }

  /**
   * Everything up to the challenges sitting in the miners' queues. Resolves null when the tx needs
   * no round (not relevant, already mined), 'deferred' when no miner is live; throws when it
   * failed before any challenge was queued (a challenge queued for some miners opens the round
   * with those).
   */
  async function openRound(
    tx: RpcTransaction,
    key: string,
    seen: number,
  ): Promise<OpenRound | null | 'deferred'> {
    nonces.remember(tx);
    const { list } = await current();
    if (list.length === 0 || !(await filter.relevant(tx))) {
      txs.inc({ decision: 'skipped' });
      return null;
    }
    const live = await pool.live();
    if (live.length === 0) {
      txs.inc({ decision: 'no-miners' });
      if (!deferred.has(key)) deps.log.warn({ tx: tx.hash }, 'no live defense miner: tx check deferred');
      deferCheck(key, tx, 'no live defense miner');
      return 'deferred';
    }
    const priorTxs = await nonces.priors(tx);
    if (priorTxs === 'mined') {
      txs.inc({ decision: 'already-mined' });
      return null;
    }
    const asked = pool.pick(live);
    if (asked.length < p.minersPerTx)
      deps.log.debug({ live: live.length, k: p.minersPerTx }, 'fewer live miners than k');
    const opened = await rounds.open({ tx, list, asked, priorTxs, head, seen });
    txs.inc({ decision: 'challenged' });
    return opened;
  }

  async function watch() {
    const log = deps.log.child({ component: 'watcher' });
    watchers.push(await watchHeads(deps.provider, onHead, { log }));
    const onTx = async (tx: RpcTransaction) => {
      await handleTx(tx);
    };
    const onError = (e: unknown) => deps.log.error({ err: (e as Error).message }, 'tx check failed');
    // Over WebSocket the watcher also polls, as a backstop for dropped notifications.
    watchers.push(
      await watchPending(deps.provider, onTx, {
        log,
        mode: deps.watchMode ?? 'auto',
        pollIntervalMs: 50,
        onError,
        nonces,
      }),
    );
  }

  return {
    get head() {
      return head;
    },
    async start(opts = {}) {
      rounds.listen();
      onHead(Number(BigInt(await deps.rpc.call<string>('eth_blockNumber'))));
      await view.refresh();
      // Checks a previous run of this validator left waiting: retried, or given up with the reason.
      const resumed = await deferred.resume();
      if (resumed > 0) deps.log.info({ resumed }, 'deferred tx checks resumed');
      canaries.start();
      if (opts.watch === false) return;
      await watch();
      deps.log.info(
        { validator: deps.id, chainId: deps.chainId, head, invariants: view.list.length, ...p },
        'defense validator watching the mempool',
      );
    },
    handleTx,
    runCanary: () => canaries.run(),
    refreshRegistry: () => view.refresh(),
    liveMiners: () => pool.live(),
    async close() {
      if (closed) return;
      closed = true;
      deferred.stop();
      canaries.stop();
      for (const w of watchers.splice(0)) await w.stop().catch(() => {});
      await Promise.allSettled([...background]);
      await rounds.stop();
    },
  };
}
