import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Counter } from 'prom-client';
import type { Logger } from '../../../common/logger.ts';
import { checkHeartbeat } from '../../../protocol/defense.ts';
import { readHeartbeats } from '../../../queues/defense.ts';

/** The subnet's registered hotkeys (membership.ts): only they are asked, counted and paid. */
export interface Members {
  has(hotkey: string): boolean;
  /**
   * The registered hotkeys, whose heartbeat keys are read; without it, every heartbeat key is
   * found by SCAN (a command only the validator's own Redis user may run).
   */
  list?(): readonly string[];
}

/** Which miners are live (a valid, signed, fresh heartbeat of a registered hotkey), and who is asked. */
export interface MinerPool {
  /** The live miners, sorted; read from Redis at most once a second. */
  live(): Promise<string[]>;
  /** The last live set read (no Redis read). */
  readonly last: readonly string[];
  /** Up to k of `ids`, uniformly at random. */
  pick(ids: readonly string[]): string[];
}

export function createMinerPool(deps: {
  connection: Redis;
  prefix: string;
  members: Members;
  /** A heartbeat older than this marks nobody live. */
  ttlMs: number;
  /** Miners asked per tx. */
  k: number;
  log: Logger;
  refused: Counter<'reason'>;
  /** Called with each new live set before it is served (the answer streams are read from then on). */
  onLive?: (ids: string[]) => void;
  now?: () => number;
  random?: () => number;
}): MinerPool {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  let cached: { at: number; ids: string[] } = { at: 0, ids: [] };
  /** Refusals already logged, so a miner's bad heartbeat is logged once, not every read. */
  const warned = new LRUCache<string, string>({ max: 10_000 });
  /**
   * The last heartbeat verified per miner: the same value read again needs only its age checked
   * (an sr25519 verify costs about a millisecond; a heartbeat is re-read every second).
   */
  const verified = new LRUCache<string, { value: string; at: number }>({ max: 100_000 });

  const refuse = (miner: string, kind: string, reason: string) => {
    deps.refused.inc({ reason: kind });
    if (warned.get(miner) === kind) return;
    warned.set(miner, kind);
    deps.log.warn({ miner: miner.slice(0, 100), reason: kind }, `heartbeat refused: ${reason.slice(0, 300)}`);
  };

  async function live(): Promise<string[]> {
    const t = now();
    if (t - cached.at < 1000) return cached.ids;
    const all = await readHeartbeats(deps.connection, deps.prefix, deps.members.list?.());
    const ids: string[] = [];
    for (const [miner, value] of all) {
      if (!deps.members.has(miner)) {
        refuse(miner, 'unregistered', `${miner} is not a hotkey registered on the subnet`);
        continue;
      }
      const known = verified.get(miner);
      if (known?.value === value && t - known.at < deps.ttlMs) {
        ids.push(miner);
        continue;
      }
      const beat = checkHeartbeat(value, miner, t, { maxAgeMs: deps.ttlMs });
      if (beat.ok) {
        ids.push(miner);
        warned.delete(miner);
        verified.set(miner, { value, at: beat.heartbeat.at });
      } else if (beat.kind !== 'stale') refuse(miner, beat.kind, beat.reason);
      else deps.refused.inc({ reason: beat.kind }); // a stopped miner: not worth a warning
    }
    ids.sort();
    deps.onLive?.(ids);
    cached = { at: t, ids };
    return ids;
  }

  return {
    live,
    get last() {
      return cached.ids;
    },
    pick(ids) {
      const pool = [...ids];
      for (let i = pool.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      return pool.slice(0, deps.k);
    },
  };
}
