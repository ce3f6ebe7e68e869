import type { JsonRpcApiProvider } from 'ethers';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { JsonRpcClient } from '../../chains/ethereum/rpc.ts';
import { type SenderNonces, createSenderNonces } from '../../chains/ethereum/senderNonces.ts';
import type { RpcTransaction } from '../../chains/ethereum/types.ts';
import { type Watcher, watchHeads, watchPending } from '../../chains/ethereum/watcher.ts';
import type { Logger } from '../../common/logger.ts';
import type { Graph } from '../../graph/driver.ts';
import {
  type Answer,
  type Challenge,
  type OpenChallenges,
  checkDefenseAnswer,
  checkHeartbeat,
} from '../../protocol/defense.ts';
import { alertId } from '../../protocol/ids.ts';
import type { FindingJob } from '../../protocol/ingest.ts';
import { defenseAnswerStream, defenseWakeStream } from '../../protocol/keys.ts';
import { readHeartbeats, sendChallenge } from '../../queues/defense.ts';
import { type IngestQueue, enqueueIngest } from '../../queues/ingestion.ts';
import { type StreamReader, createStreamReader } from '../../queues/streams.ts';
import { type AlertNotice, type PauseAgent, type PauseResult, sendTelegram, sendWebhook } from './actions.ts';
import { type Canary, type CanaryMaker, createCanaryPlan } from './canaries.ts';
import { type InvariantConsensus, decide } from './consensus.ts';
import { listInvariants } from './invariantStore.ts';
import type { RegisteredInvariant } from './registry.ts';
import type { RewardBook } from './rewards.ts';

export interface DefenseParams {
  /** Miners asked per transaction (k). */
  minersPerTx: number;
  /** Share of the asked miners a status needs (> 1/2; 2/3 by default). */
  threshold: number;
  /** How long after sending a challenge answers still count. */
  deadlineMs: number;
  /** How often the registry is re-read from Neo4j. */
  registryRefreshMs: number;
  /** A miner whose heartbeat is older than this is not asked. */
  minerTtlMs: number;
  /** A tx whose check could not start (no live miner, a Redis or RPC blip) is tried again this often... */
  retryMs: number;
  /** ...this many times at most (until then it is dropped once mined). */
  maxRetries: number;
  /** Canaries each live miner is sent per reward epoch (with `canaries` and `rewards` given). */
  canariesPerEpoch: number;
}

export const DEFAULT_DEFENSE_PARAMS: DefenseParams = {
  minersPerTx: 3,
  threshold: 2 / 3,
  deadlineMs: 2000,
  registryRefreshMs: 5000,
  minerTtlMs: 10_000,
  retryMs: 250,
  maxRetries: 40,
  canariesPerEpoch: 3,
};

export interface Notifiers {
  webhookSecret: string;
  telegram: { baseUrl: string; token: string };
}

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
  members: {
    has(hotkey: string): boolean;
    /**
     * The registered hotkeys, whose heartbeat keys are read; without it, every heartbeat key is
     * found by SCAN (a command only the validator's own Redis user may run).
     */
    list?(): readonly string[];
  };
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
   * The senders' pending txs and state nonces (chains/ethereum/senderNonces.ts), shared with the
   * watcher and the canary engine where the validator is wired; built from `rpc` when absent.
   */
  nonces?: SenderNonces;
  /** Watcher mode: 'auto' picks subscriptions on a WebSocket provider. */
  watchMode?: 'auto' | 'subscribe' | 'poll';
}

export interface RoundReport {
  challengeId: string;
  txHash: string;
  from: string;
  asked: string[];
  answers: number;
  consensus: InvariantConsensus[];
  /** Per answer: the miner's own time for it, and its arrival after the challenges were queued (ms). */
  latencies: { miner: string; minerMs: number; arrivalMs: number }[];
  pauses: PauseResult[];
  findings: string[];
  /** performance.now() marks: tx seen, challenges queued, first violation decided, pause sent, findings queued, round closed. */
  marks: { seen: number; sent: number; violated?: number; paused?: number; queued?: number; closed: number };
  skipped?: string;
  /** A canary round: scored against the validator's own truth, never acted on. */
  canary?: boolean;
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

interface Round {
  challenge: Challenge;
  asked: string[];
  sentAt: number;
  answers: Answer[];
  arrival: Map<string, number>;
  onAnswer: () => void;
  /** Ends the wait for answers early (all asked miners answered). */
  wake?: () => void;
}

const lower = (a: string | null | undefined) => (a ? a.toLowerCase() : null);

/**
 * The defense validator: watches the mempool, turns each transaction that may touch a watched
 * contract into a challenge for k miners, takes the consensus per invariant, and on `violated`
 * runs the invariant's defense actions (pause first, then notifications) and queues the finding
 * for ingestion. Acts as soon as a violation has its qualified majority, not at the deadline.
 */
export function createDefenseValidator(deps: DefenseValidatorDeps): DefenseValidator {
  const p = { ...DEFAULT_DEFENSE_PARAMS, ...deps.params };
  if (!(p.threshold > 0.5 && p.threshold <= 1))
    throw new RangeError(`consensus threshold must be in (0.5, 1], got ${p.threshold}`);
  const reg = deps.metrics ? [deps.metrics] : [];
  const txs = new Counter({
    name: 'vigil_defense_txs_total',
    help: 'Pending txs by decision',
    labelNames: ['decision'],
    registers: reg,
  });
  const outcomes = new Counter({
    name: 'vigil_defense_outcomes_total',
    help: 'Invariant consensus outcomes',
    labelNames: ['outcome'],
    registers: reg,
  });
  const actions = new Counter({
    name: 'vigil_defense_actions_total',
    help: 'Defense actions by kind and result',
    labelNames: ['kind', 'result'],
    registers: reg,
  });
  const canaryCount = new Counter({
    name: 'vigil_defense_canaries_total',
    help: 'Canary challenges: sent, or not made (no call, no miner, none violating, failed)',
    labelNames: ['result'],
    registers: reg,
  });
  const answersRefused = new Counter({
    name: 'vigil_defense_answers_refused_total',
    help: 'Answers dropped on arrival, never counted: by reason and miner (hotkey if registered, else "unregistered")',
    labelNames: ['reason', 'miner'],
    registers: reg,
  });
  const heartbeatsRefused = new Counter({
    name: 'vigil_defense_heartbeats_refused_total',
    help: 'Heartbeats that marked nobody live: by reason (unregistered, bad_signature, stale, future, ...)',
    labelNames: ['reason'],
    registers: reg,
  });
  const toPause = new Histogram({
    name: 'vigil_defense_seen_to_pause_seconds',
    help: 'From pending tx seen to pause broadcast',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1],
    registers: reg,
  });

  let head = 0;
  let invariants: RegisteredInvariant[] = [];
  let watched = new Set<string>();
  let registryAt = 0;
  let registryLoad: Promise<RegisteredInvariant[]> | undefined;
  let miners: { at: number; ids: string[] } = { at: 0, ids: [] };
  const rounds = new Map<string, Round>();
  const hasCode = new LRUCache<string, boolean>({ max: 50_000 });
  const nonces = deps.nonces ?? createSenderNonces({ rpc: deps.rpc });
  const checked = new LRUCache<string, true>({ max: 100_000 });
  /** Txs whose check could not start, by hash: tried again on a timer, since no watcher delivers them twice. */
  const retries = new Map<string, { tx: RpcTransaction; attempts: number }>();
  let retryTimer: NodeJS.Timeout | undefined;
  const background = new Set<Promise<unknown>>();
  const watchers: Watcher[] = [];
  /** Answer stream → the one miner whose Redis user can write it. */
  const streamMiner = new Map<string, string>();
  let reader: StreamReader | undefined;
  let closed = false;

  const track = (pr: Promise<unknown>) => {
    background.add(pr);
    pr.finally(() => background.delete(pr));
  };

  async function refreshRegistry(): Promise<RegisteredInvariant[]> {
    registryLoad ??= listInvariants(deps.graph, { chainId: deps.chainId })
      .then((list) => {
        invariants = list;
        watched = new Set(list.map((i) => i.contract));
        registryAt = Date.now();
        return list;
      })
      .finally(() => {
        registryLoad = undefined;
      });
    return registryLoad;
  }

  async function currentInvariants(): Promise<RegisteredInvariant[]> {
    if (Date.now() - registryAt > p.registryRefreshMs) {
      // Stale: refresh in the background, keep serving the last list (never block a tx on Neo4j).
      if (registryAt === 0) return refreshRegistry();
      track(
        refreshRegistry().catch((e) =>
          deps.log.warn({ err: (e as Error).message }, 'registry refresh failed'),
        ),
      );
    }
    return invariants;
  }

  /** Heartbeat refusals already logged, so a miner's bad heartbeat is logged once, not every read. */
  const heartbeatWarned = new LRUCache<string, string>({ max: 10_000 });
  const refuseHeartbeat = (miner: string, kind: string, reason: string) => {
    heartbeatsRefused.inc({ reason: kind });
    if (heartbeatWarned.get(miner) === kind) return;
    heartbeatWarned.set(miner, kind);
    deps.log.warn({ miner: miner.slice(0, 100), reason: kind }, `heartbeat refused: ${reason.slice(0, 300)}`);
  };

  /**
   * The last heartbeat verified per miner: the same value read again needs only its age checked
   * (an sr25519 verify costs about a millisecond; a heartbeat is re-read every second).
   */
  const verifiedBeats = new LRUCache<string, { value: string; at: number }>({ max: 100_000 });

  /** Registered hotkeys with a valid, signed, fresh heartbeat. */
  async function liveMiners(): Promise<string[]> {
    const now = Date.now();
    if (now - miners.at < 1000) return miners.ids;
    const all = await readHeartbeats(deps.connection, deps.prefix, deps.members.list?.());
    const ids: string[] = [];
    for (const [miner, value] of all) {
      if (!deps.members.has(miner)) {
        refuseHeartbeat(miner, 'unregistered', `${miner} is not a hotkey registered on the subnet`);
        continue;
      }
      const known = verifiedBeats.get(miner);
      if (known?.value === value && now - known.at < p.minerTtlMs) {
        ids.push(miner);
        continue;
      }
      const beat = checkHeartbeat(value, miner, now, { maxAgeMs: p.minerTtlMs });
      if (beat.ok) {
        ids.push(miner);
        heartbeatWarned.delete(miner);
        verifiedBeats.set(miner, { value, at: beat.heartbeat.at });
      } else if (beat.kind !== 'stale') refuseHeartbeat(miner, beat.kind, beat.reason);
      else heartbeatsRefused.inc({ reason: beat.kind }); // a stopped miner: not worth a warning
    }
    ids.sort();
    watchAnswers(ids);
    miners = { at: now, ids };
    return ids;
  }

  /** Reads the answer streams of these miners from now on (before any challenge goes to them). */
  function watchAnswers(ids: string[]) {
    const keys = ids.map((m) => {
      const key = defenseAnswerStream(deps.prefix, deps.id, m);
      streamMiner.set(key, m);
      return key;
    });
    reader?.watch(keys);
  }

  async function isContract(address: string): Promise<boolean> {
    const hit = hasCode.get(address);
    if (hit !== undefined) return hit;
    const code = await deps.rpc.call<string>('eth_getCode', [address, 'latest']);
    const yes = code !== '0x' && code !== '0x0';
    hasCode.set(address, yes);
    return yes;
  }

  /** At minimum: to a watched contract, to any contract (internal calls may reach one), a creation, or from a watched account. */
  async function relevant(tx: RpcTransaction): Promise<boolean> {
    const to = lower(tx.to);
    if (to === null) return true;
    if (watched.has(to) || watched.has(lower(tx.from)!)) return true;
    if (
      Array.isArray(tx.accessList) &&
      tx.accessList.some((e: { address?: string }) => watched.has(lower(e.address) ?? ''))
    )
      return true;
    return isContract(to);
  }

  function pickMiners(ids: string[]): string[] {
    const pool = [...ids];
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, p.minersPerTx);
  }

  function noticeFor(
    inv: RegisteredInvariant,
    c: InvariantConsensus,
    tx: RpcTransaction,
    raisedAt: string,
    pause: PauseResult | null,
  ): AlertNotice {
    return {
      alertId: alertId({
        chainId: deps.chainId,
        tx: { hash: lower(tx.hash)! } as FindingJob['tx'],
        invariant: { id: inv.id } as FindingJob['invariant'],
      }),
      chainId: deps.chainId,
      severity: inv.severity,
      contract: inv.contract,
      invariant: { id: inv.id, kind: inv.kind, description: inv.description },
      tx: { hash: lower(tx.hash)!, from: lower(tx.from)!, to: lower(tx.to) },
      before: c.before,
      after: c.after,
      votes: { violated: c.votes.violated, total: c.asked },
      raisedAt,
      pause: pause?.hash ? { hash: pause.hash } : null,
    };
  }

  /** Pause first (it races the attack), the finding in parallel, notifications after in the background. */
  async function act(
    inv: RegisteredInvariant,
    c: InvariantConsensus,
    tx: RpcTransaction,
    report: RoundReport,
  ) {
    const raisedAt = new Date().toISOString();
    const pauseAction = inv.actions.find((a) => a.kind === 'pause');
    const pausing = (async (): Promise<PauseResult | null> => {
      if (!pauseAction || pauseAction.kind !== 'pause') return null;
      if (!deps.pauseAgent) {
        deps.log.warn({ invariant: inv.id }, 'pause action configured but no guardian key: not paused');
        actions.inc({ kind: 'pause', result: 'no-guardian' });
        return null;
      }
      try {
        const r = await deps.pauseAgent.pause({
          contract: pauseAction.contract ?? inv.contract,
          signature: pauseAction.signature,
          attack: tx,
          incident: lower(tx.from)!,
        });
        report.pauses.push(r);
        report.marks.paused ??= performance.now();
        if (r.status === 'sent' || r.status === 'replaced')
          toPause.observe((performance.now() - report.marks.seen) / 1000);
        actions.inc({ kind: 'pause', result: r.status });
        deps.log.warn(
          { contract: pauseAction.contract ?? inv.contract, tx: tx.hash, status: r.status, pauseTx: r.hash },
          'pause',
        );
        return r;
      } catch (e) {
        actions.inc({ kind: 'pause', result: 'failed' });
        deps.log.error({ err: (e as Error).message, contract: inv.contract }, 'pause failed');
        return null;
      }
    })();
    const finding: FindingJob = {
      kind: 'finding',
      chain: 'ethereum',
      chainId: deps.chainId,
      severity: inv.severity,
      invariant: { id: inv.id, contract: inv.contract, kind: inv.kind, description: inv.description },
      tx: {
        hash: lower(tx.hash)!,
        from: lower(tx.from)!,
        to: lower(tx.to),
        nonce: Number(BigInt(tx.nonce)),
        blockNumber: null,
      },
      observed: { before: c.before, after: c.after },
      consensus: { violated: c.votes.violated, total: c.asked, miners: c.agreeing },
      validator: { hotkey: deps.id },
      raisedAt,
    };
    const queueing = enqueueIngest(deps.ingest, finding).then(
      (jobId) => {
        report.findings.push(jobId);
        report.marks.queued ??= performance.now();
      },
      (e) => deps.log.error({ err: (e as Error).message, tx: tx.hash }, 'finding not queued'),
    );
    const [pause] = await Promise.all([pausing, queueing]);
    const notice = noticeFor(inv, c, tx, raisedAt, pause);
    for (const a of inv.actions) {
      if (a.kind === 'webhook') {
        if (!deps.notifiers?.webhookSecret) {
          deps.log.warn(
            { invariant: inv.id },
            'webhook action but DEFENSE_WEBHOOK_SECRET is not set: not sent',
          );
          continue;
        }
        track(
          sendWebhook({ url: a.url, secret: deps.notifiers.webhookSecret, notice }).then(
            () => actions.inc({ kind: 'webhook', result: 'sent' }),
            (e) => {
              actions.inc({ kind: 'webhook', result: 'failed' });
              deps.log.error({ err: (e as Error).message }, 'webhook failed');
            },
          ),
        );
      } else if (a.kind === 'telegram') {
        const t = deps.notifiers?.telegram;
        if (!t?.token) {
          deps.log.warn(
            { invariant: inv.id },
            'telegram action but DEFENSE_TELEGRAM_BOT_TOKEN is not set: not sent',
          );
          continue;
        }
        track(
          sendTelegram({ baseUrl: t.baseUrl, token: t.token, chatId: a.chatId, notice }).then(
            () => actions.inc({ kind: 'telegram', result: 'sent' }),
            (e) => {
              actions.inc({ kind: 'telegram', result: 'failed' });
              deps.log.error({ err: (e as Error).message }, 'telegram failed');
            },
          ),
        );
      }
    }
  }

  /** The check of `tx` could not start: forget that it was checked and try again shortly. */
  function deferCheck(key: string, tx: RpcTransaction, reason: string) {
    checked.delete(key);
    if (closed) return;
    const entry = retries.get(key) ?? { tx, attempts: 0 };
    if (entry.attempts >= p.maxRetries) {
      retries.delete(key);
      track(giveUp(entry.tx, entry.attempts, reason));
      return;
    }
    retries.set(key, entry);
    if (retries.size > 10_000) {
      const [oldKey, old] = retries.entries().next().value as [
        string,
        { tx: RpcTransaction; attempts: number },
      ];
      retries.delete(oldKey);
      track(giveUp(old.tx, old.attempts, 'more than 10,000 txs waiting for a check'));
    }
    retryTimer ??= setTimeout(retryDeferred, p.retryMs);
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

  /**
   * One retry tick. Without a live miner nothing is re-run (a degraded system must not add an RPC
   * storm per waiting tx): the attempts just count down.
   */
  async function retryDeferred() {
    retryTimer = undefined;
    if (closed) return;
    const live = await liveMiners().catch(() => [] as string[]);
    for (const [key, entry] of retries) {
      if (checked.has(key)) continue; // a watcher delivered it again meanwhile
      entry.attempts++;
      if (live.length === 0) {
        if (entry.attempts >= p.maxRetries) deferCheck(key, entry.tx, 'no live defense miner');
        continue;
      }
      track(
        handleTx(entry.tx).catch((e) =>
          deps.log.warn({ tx: entry.tx.hash, err: (e as Error).message }, 'tx check retry failed'),
        ),
      );
    }
    if (retries.size > 0 && !closed) retryTimer ??= setTimeout(retryDeferred, p.retryMs);
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
    retries.delete(key);
    return opened === null ? null : closeRound(opened);
  }

  interface OpenRound {
    tx: RpcTransaction;
    round: Round;
    report: RoundReport;
    ids: string[];
    acting: Promise<void>[];
    canary?: Canary;
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
    // The head as of now: a head event can trail the tx, and a stale head means stale state.
    const [list, latest] = await Promise.all([currentInvariants(), deps.rpc.call<string>('eth_blockNumber')]);
    onHead(Number(BigInt(latest)));
    if (list.length === 0 || !(await relevant(tx))) {
      txs.inc({ decision: 'skipped' });
      return null;
    }
    const live = await liveMiners();
    if (live.length === 0) {
      txs.inc({ decision: 'no-miners' });
      if (!retries.has(key)) deps.log.warn({ tx: tx.hash }, 'no live defense miner: tx check deferred');
      deferCheck(key, tx, 'no live defense miner');
      return 'deferred';
    }
    const priorTxs = await nonces.priors(tx);
    if (priorTxs === 'mined') {
      txs.inc({ decision: 'already-mined' });
      return null;
    }
    const asked = pickMiners(live);
    if (asked.length < p.minersPerTx)
      deps.log.debug({ live: live.length, k: p.minersPerTx }, 'fewer live miners than k');
    const opened = await startRound(tx, list, asked, priorTxs, seen);
    txs.inc({ decision: 'challenged' });
    return opened;
  }

  /**
   * Queues one challenge for `asked` (a canary's exactly like a real tx's) and opens its round.
   * Throws when no miner's queue took it.
   */
  async function startRound(
    tx: RpcTransaction,
    list: RegisteredInvariant[],
    asked: string[],
    priorTxs: RpcTransaction[],
    seen: number,
    canary?: Canary,
  ): Promise<OpenRound> {
    const now = Date.now();
    const challenge: Challenge = {
      challengeId: `${deps.id}:${lower(tx.hash)}:${head}`,
      chainId: deps.chainId,
      blockNumber: head,
      tx: tx as Challenge['tx'],
      invariants: list.map((i) => i.definition),
      priorTxs: priorTxs as Challenge['priorTxs'],
      validator: deps.id,
      deadline: now + p.deadlineMs,
      sentAt: now,
    };
    const byId = new Map(list.map((i) => [i.id, i]));
    const ids = list.map((i) => i.id);
    const report: RoundReport = {
      challengeId: challenge.challengeId,
      txHash: lower(tx.hash)!,
      from: lower(tx.from)!,
      asked,
      answers: 0,
      consensus: [],
      latencies: [],
      pauses: [],
      findings: [],
      marks: { seen, sent: 0, closed: 0 },
    };
    const acted = new Set<string>();
    const acting: Promise<void>[] = [];
    const round: Round = {
      challenge,
      asked,
      sentAt: 0,
      answers: [],
      arrival: new Map(),
      onAnswer: () => {
        // Act on each violation the moment it has its majority; later votes cannot overturn it.
        // Never on a canary: it is not on the mempool and must raise nothing.
        for (const c of canary ? [] : decide(ids, round.asked, round.answers, p.threshold)) {
          if (c.outcome !== 'violated' || acted.has(c.id)) continue;
          acted.add(c.id);
          report.marks.violated ??= performance.now();
          acting.push(act(byId.get(c.id)!, c, tx, report));
        }
        if (round.answers.length >= round.asked.length) round.wake?.();
      },
    };
    rounds.set(challenge.challengeId, round);
    round.sentAt = performance.now();
    const queued = await Promise.allSettled(
      asked.map((m) => sendChallenge(deps.connection, deps.prefix, m, challenge)),
    );
    const reached = asked.filter((_, i) => queued[i]!.status === 'fulfilled');
    if (reached.length === 0) {
      rounds.delete(challenge.challengeId);
      throw (queued[0] as PromiseRejectedResult).reason;
    }
    if (reached.length < asked.length) {
      // Those reached are working on it: the round goes on with them (consensus over who was asked).
      deps.log.warn(
        { tx: tx.hash, reached: reached.length, asked: asked.length },
        'challenge not queued for every miner',
      );
      round.asked = reached;
      report.asked = reached;
    }
    report.marks.sent = performance.now();
    if (canary) report.canary = true;
    return { tx, round, report, ids, acting, canary };
  }

  /** Waits for every answer or the deadline, then takes the consensus, books rewards and reports. */
  async function closeRound({ tx, round, report, ids, acting, canary }: OpenRound): Promise<RoundReport> {
    const { challenge, asked } = round;
    try {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, challenge.deadline - Date.now()));
        round.wake = () => {
          clearTimeout(t);
          resolve();
        };
        if (round.answers.length >= asked.length) round.wake();
      });
    } finally {
      rounds.delete(challenge.challengeId);
    }
    const consensus = decide(ids, asked, round.answers, p.threshold);
    if (!canary) for (const c of consensus) outcomes.inc({ outcome: c.outcome });
    await Promise.all(acting);
    report.consensus = consensus;
    report.answers = round.answers.length;
    report.latencies = round.answers.map((a) => ({
      miner: a.miner,
      minerMs: a.latencyMs,
      arrivalMs: round.arrival.get(a.miner)! - round.sentAt,
    }));
    report.marks.closed = performance.now();
    deps.rewards?.record({
      txHash: report.txHash,
      answers: new Map(
        round.answers.map((a) => [
          a.miner,
          {
            votes: new Map(a.results.map((r) => [r.id, r.status])),
            latencyMs: round.arrival.get(a.miner)! - round.sentAt,
          },
        ]),
      ),
      // A canary is scored on the validator's own simulation, never on the miners' votes.
      consensus: canary ? canary.truth : consensus,
      canary: canary !== undefined,
    });
    const violated = consensus.filter((c) => c.outcome === 'violated').map((c) => c.id);
    if (!canary && violated.length > 0) deps.canaries?.learn(violated, tx);
    const undecided = consensus.filter((c) => c.outcome === 'undecided');
    if (undecided.length > 0) {
      const reasons = [
        ...new Set(
          round.answers.flatMap((a) =>
            a.results.filter((x) => x.status === 'error').map((x) => x.reason ?? ''),
          ),
        ),
      ];
      deps.log.warn(
        {
          tx: tx.hash,
          invariants: undecided.map((c) => ({ id: c.id, ...c.votes })),
          errors: reasons.slice(0, 3),
        },
        'no consensus',
      );
    }
    deps.onRound?.(report);
    return report;
  }

  /** One canary: made and checked by the validator's engine, sent to the miners served least this epoch. */
  async function runCanary(): Promise<RoundReport | null> {
    if (closed || !deps.canaries) return null;
    const seen = performance.now();
    const skip = (result: string, reason: string) => {
      canaryCount.inc({ result });
      deps.log.warn({ reason }, 'no canary sent');
      return null;
    };
    const [list, latest] = await Promise.all([currentInvariants(), deps.rpc.call<string>('eth_blockNumber')]);
    onHead(Number(BigInt(latest)));
    const live = await liveMiners();
    if (list.length === 0) return skip('no-invariant', 'no invariant registered for this chain');
    if (live.length === 0) return skip('no-miners', 'no live defense miner');
    const made = await deps.canaries.make(list, head);
    if ('skipped' in made) return skip('none-violating', made.skipped);
    const asked = canaryPlan ? canaryPlan.pick(live) : pickMiners(live);
    const opened = await startRound(made.tx, list, asked, [], seen, made);
    canaryCount.inc({ result: 'sent' });
    return closeRound(opened);
  }

  // Canary times are drawn per reward epoch (canaries.ts createCanaryPlan); the timer fires them.
  const canaryPlan =
    deps.canaries && deps.rewards && p.canariesPerEpoch > 0
      ? createCanaryPlan({ perMiner: p.canariesPerEpoch, k: p.minersPerTx, epochMs: deps.rewards.epochMs })
      : undefined;
  let canaryTimer: NodeJS.Timeout | undefined;
  async function canaryTick() {
    const book = deps.rewards!;
    book.rollEpoch();
    const live = await liveMiners();
    const due = canaryPlan!.due(Date.now(), { number: book.epoch, startedAt: book.startedAt }, live.length);
    for (let i = 0; i < due; i++)
      track(
        runCanary().catch((e) => {
          canaryCount.inc({ result: 'failed' });
          deps.log.warn({ err: (e as Error).message }, 'canary failed');
        }),
      );
  }

  const open: OpenChallenges = {
    validator: deps.id,
    round: (challengeId) => {
      const r = rounds.get(challengeId);
      return r && { asked: r.asked, answered: (m: string) => r.arrival.has(m) };
    },
  };

  /**
   * An entry of a miner's answer stream, which only that miner's Redis user can write. Every
   * answer is checked (shape, open challenge, asked miner, signature, first) before it counts, and
   * counts only for the miner whose stream carried it.
   */
  function onMessage(stream: string, message: string | null) {
    const at = performance.now();
    const writer = streamMiner.get(stream) ?? 'unregistered';
    const checked: ReturnType<typeof checkDefenseAnswer> =
      message === null
        ? { ok: false, kind: 'malformed', reason: 'stream entry without its `m` field', miner: writer }
        : checkDefenseAnswer(message, open);
    if (checked.ok && checked.answer.miner !== writer) {
      const reason = `answer of ${checked.answer.miner} arrived on the stream of ${writer}`;
      answersRefused.inc({ reason: 'wrong_stream', miner: writer });
      deps.log.warn({ miner: writer, reason: 'wrong_stream' }, `answer dropped: ${reason}`);
      return;
    }
    if (!checked.ok) {
      const miner = checked.miner && deps.members.has(checked.miner) ? checked.miner : 'unregistered';
      answersRefused.inc({ reason: checked.kind, miner });
      // A late answer is ordinary (the round closed at its deadline): not worth a warning.
      const level = checked.kind === 'unknown_challenge' ? 'debug' : 'warn';
      deps.log[level]({ miner, reason: checked.kind }, `answer dropped: ${checked.reason.slice(0, 500)}`);
      return;
    }
    const a = checked.answer;
    const round = rounds.get(a.challengeId)!;
    round.arrival.set(a.miner, at);
    round.answers.push(a);
    round.onAnswer();
  }

  function onHead(n: number) {
    if (n <= head) return;
    head = n;
    nonces.onHead(n);
  }

  return {
    get head() {
      return head;
    },
    async start(opts = {}) {
      reader ??= createStreamReader({
        connection: deps.connection,
        onMessage,
        log: deps.log,
        wakeKey: defenseWakeStream(deps.prefix, deps.id),
        consume: true,
        blockMs: 1000,
      });
      watchAnswers(miners.ids);
      onHead(Number(BigInt(await deps.rpc.call<string>('eth_blockNumber'))));
      await refreshRegistry();
      if (canaryPlan) {
        const every = Math.min(1000, Math.max(50, deps.rewards!.epochMs / 100));
        canaryTimer = setInterval(() => {
          canaryTick().catch((e) => deps.log.warn({ err: (e as Error).message }, 'canary tick failed'));
        }, every);
        canaryTimer.unref();
      }
      if (opts.watch === false) return;
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
      deps.log.info(
        { validator: deps.id, chainId: deps.chainId, head, invariants: invariants.length, ...p },
        'defense validator watching the mempool',
      );
    },
    handleTx,
    runCanary,
    refreshRegistry,
    liveMiners,
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(canaryTimer);
      retries.clear();
      for (const w of watchers.splice(0)) await w.stop().catch(() => {});
      await Promise.allSettled([...background]);
      await reader?.close();
    },
  };
}
