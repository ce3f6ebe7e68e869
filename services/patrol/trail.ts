import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { ActivityReader } from '../../chains/ethereum/activity.ts';
import type { Logger } from '../../common/logger.ts';
import { trailOffsetKey, trailStream } from '../../protocol/keys.ts';
import { type Direction, ETHEREUM_MAX_WINDOW } from '../../protocol/patrol.ts';
import { type TrailRequest, checkTrailRequest } from '../../protocol/trail.ts';
import { followStream } from '../../queues/follow.ts';
import { messageData } from '../../queues/streams.ts';
import { indexBlock } from './ethereum/edges.ts';
import { walkFrom } from './ethereum/subgraph.ts';
import type { RunRound } from './round.ts';

/**
 * From an alert to the attacker's money trail: each trail request (protocol/trail.ts, written by
 * the defense validator on a decided violation) opens a trail at once, not at the next round. Per
 * target, an Ethereum round (round.ts, the same challenges, verification, scoring, pay and
 * ingestion as any round) walks backwards over [head − lookback, head] (who funded it), and
 * forwards from the alert's block, asked again while new blocks add to the target's forward walk,
 * until the trail has been open `openMs`. A round is asked only when the validator's own read of
 * the window shows the walk has edges (more than last asked, forwards): a window with nothing to
 * find would score honest miners' empty answers as rejections.
 */

export interface TrailParams {
  /** Targets asked per alert at most (the sender first). */
  maxTargets: number;
  /** Blocks before the head the backward walk covers (< ETHEREUM_MAX_WINDOW). */
  lookbackBlocks: number;
  /** How long after the alert the forward walk keeps being re-asked. */
  openMs: number;
  /** How often an open trail looks for a new head. */
  pollMs: number;
  /** Each trail round's deadline (ms): an attack is live, silent neurons must not hold it. */
  timeoutMs: number;
  /** Hops of each walk (PATROL_DEPTH). */
  depth: number;
}

export interface TrailDeps {
  /** The Patrol validator's Ethereum round, given the trail's targets (validator.ts runEthereumRound). */
  runRound: RunRound;
  /** The validator's own reader of the Ethereum node (the verifier's: its block cache is shared). */
  reader: Pick<ActivityReader, 'range' | 'head'>;
  /** The chain id of that node: a request for another chain is dropped. */
  chainId: number;
  log: Logger;
  params: TrailParams;
  metrics?: Registry;
  now?: () => number;
}

export interface Trails {
  /** Takes one stream entry: parsed with the protocol's schema, then its trail opened in the background. */
  take(raw: string | null): void;
  /** Opens a trail and resolves when it closes (tests and the bench await it). */
  run(request: TrailRequest): Promise<void>;
  /** Ends every open trail (after its round in flight) and waits for them. */
  close(): Promise<void>;
  /** How long a trail stays open after its alert (TrailParams.openMs). */
  readonly openMs: number;
}

const REQUESTS_METRIC = 'vigil_patrol_trail_requests_total';

export function createTrails(deps: TrailDeps): Trails {
  const { params: p, reader } = deps;
  const now = deps.now ?? Date.now;
  const requests =
    (deps.metrics?.getSingleMetric(REQUESTS_METRIC) as Counter<'outcome'> | undefined) ??
    new Counter({
      name: REQUESTS_METRIC,
      help: 'Trail requests taken from the defense validator, by outcome (opened, malformed, other_chain, expired)',
      labelNames: ['outcome'],
      registers: deps.metrics ? [deps.metrics] : [],
    });
  const open = new Set<Promise<void>>();
  let stopped = false;
  const sleepers = new Set<() => void>();
  let round = 0;

  /** How many edges the walk from `target` has in the window, by the validator's own read. */
  const walkSize = async (target: string, direction: Direction, from: number, to: number) => {
    const edges = (await reader.range(from, to)).flatMap((b) => indexBlock(b).edges);
    return walkFrom(edges, target, p.depth, direction).edges.length;
  };

  /** One round on one target's window, logged for the alert; resolves with the report. */
  const ask = async (
    log: Logger,
    target: string,
    direction: Direction,
    fromBlock: number,
    toBlock: number,
  ) => {
    const span = { fromBlock, toBlock };
    const report = await deps.runRound(
      ++round,
      async (miners) => miners.map(() => ({ address: target, block: toBlock, span, direction })),
      p.timeoutMs,
    );
    const accepted = report.results.filter((r) => r.accepted);
    log.info(
      {
        target,
        direction,
        fromBlock,
        toBlock,
        miners: report.results.length,
        accepted: accepted.length,
        edges: Math.max(0, ...accepted.map((r) => r.edges)),
        jobs: report.ingestedJobs,
      },
      'trail asked',
    );
    return report;
  };

  const backwards = async (log: Logger, target: string) => {
    const head = await reader.head();
    const from = Math.max(0, head - p.lookbackBlocks);
    if ((await walkSize(target, 'in', from, head)) === 0)
      log.info({ target, fromBlock: from, toBlock: head }, 'trail: nothing flows in, not asked');
    else await ask(log, target, 'in', from, head);
  };

  /** Re-asks each target's forward walk whenever a new head gives it more edges, until `closeAt`. */
  const forwards = async (log: Logger, targets: string[], from: number, closeAt: number) => {
    const asked = new Map<string, number>();
    let seen = -1;
    while (!stopped && now() < closeAt) {
      const head = await reader.head();
      if (head !== seen) {
        seen = head;
        await Promise.all(
          targets.map(async (t) => {
            // The newest ETHEREUM_MAX_WINDOW blocks at most: what a challenge may ask.
            const start = Math.min(head, Math.max(from, head - ETHEREUM_MAX_WINDOW + 1));
            try {
              const size = await walkSize(t, 'out', start, head);
              if (size <= (asked.get(t) ?? 0)) return;
              await ask(log, t, 'out', start, head);
              asked.set(t, size);
            } catch (e) {
              // An RPC or Redis blip: asked again at the next head, while the trail is open.
              log.error({ err: (e as Error).message, target: t, head }, 'trail round failed');
            }
          }),
        );
      }
      await new Promise<void>((r) => {
        const done = () => {
          clearTimeout(timer);
          sleepers.delete(done);
          r();
        };
        const timer = setTimeout(done, Math.min(p.pollMs, Math.max(0, closeAt - now())));
        sleepers.add(done);
      });
    }
  };

  const run = async (req: TrailRequest) => {
    const log = deps.log.child({ alert: req.alertId, tx: req.txHash });
    const closeAt = Date.parse(req.raisedAt) + p.openMs;
    if (req.chainId !== deps.chainId) {
      requests.inc({ outcome: 'other_chain' });
      log.warn(
        { chainId: req.chainId, node: deps.chainId },
        "trail request for another chain than PATROL_ETH_RPC_URL's: dropped",
      );
      return;
    }
    if (now() >= closeAt) {
      requests.inc({ outcome: 'expired' });
      log.warn(
        { raisedAt: req.raisedAt },
        'trail request read after the trail would have closed (PATROL_TRAIL_OPEN_MS): dropped',
      );
      return;
    }
    requests.inc({ outcome: 'opened' });
    const targets = req.targets.slice(0, p.maxTargets).map((t) => t.address);
    const left = req.targets.length - targets.length;
    log.info(
      { targets, left, fromBlock: req.blockNumber, closesAt: new Date(closeAt).toISOString() },
      'trail opened',
    );
    const started = now();
    const results = await Promise.allSettled([
      ...targets.map((t) => backwards(log, t)),
      forwards(log, targets, req.blockNumber, closeAt),
    ]);
    for (const r of results)
      if (r.status === 'rejected') log.error({ err: (r.reason as Error).message }, 'trail round failed');
    log.info({ seconds: (now() - started) / 1000 }, 'trail closed');
  };

  return {
    take(raw) {
      const checked = checkTrailRequest(messageData(raw));
      if (!checked.ok) {
        requests.inc({ outcome: 'malformed' });
        deps.log.warn({ reason: checked.reason }, 'trail request malformed: dropped');
        return;
      }
      const t = run(checked.request).catch((e) =>
        deps.log.error({ err: (e as Error).message, alert: checked.request.alertId }, 'trail failed'),
      );
      open.add(t);
      t.finally(() => open.delete(t));
    },
    run,
    openMs: p.openMs,
    async close() {
      stopped = true;
      for (const done of [...sleepers]) done();
      await Promise.allSettled([...open]);
    },
  };
}

/**
 * The Patrol validator's trail loop: follows the defense validator's trail stream (blocking XREAD,
 * its offset in Redis per Patrol validator, so a restart resumes) and opens a trail per request.
 * A restart also reopens the trails that were open when it stopped: the requests already taken
 * whose trail would still be open (written less than `openMs` ago). Their rounds are asked again;
 * what they find is stored once (ingestion merges by evidence).
 */
export function followTrailRequests(deps: {
  connection: Redis;
  prefix: string;
  /** The Patrol validator's hotkey (names its offset). */
  validator: string;
  /** DEFENSE_VALIDATOR_ID: whose requests it follows. */
  defenseValidatorId: string;
  trails: Trails;
  log: Logger;
}): { close(): Promise<void> } {
  const follower = followStream({
    connection: deps.connection,
    stream: trailStream(deps.prefix, deps.defenseValidatorId),
    offsetKey: trailOffsetKey(deps.prefix, deps.validator, deps.defenseValidatorId),
    onMessage: (_id, raw) => deps.trails.take(raw),
    // The trails open when it stopped: taken again (a request older than openMs is closed).
    replayMs: deps.trails.openMs,
    log: deps.log,
  });
  return {
    async close() {
      await follower.close();
      await deps.trails.close();
    },
  };
}
