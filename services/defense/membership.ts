import pTimeout from 'p-timeout';
import { ServiceUnavailableError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';

/**
 * Who may be asked and paid: the hotkeys registered on the subnet (uids on the netuid, read from
 * the Bittensor node by `load`). Loaded at start, where a failure stops the validator naming the
 * setting; then refreshed every `refreshMs`, where a failure keeps the last known set and says so
 * (log, and `status()` for /health) until a refresh succeeds again.
 */
export interface Membership {
  /** The first load; throws a ServiceUnavailableError naming `setting` when the chain does not answer. */
  start(): Promise<void>;
  has(hotkey: string): boolean;
  list(): string[];
  /** Reloads now (the timer does this every refreshMs); keeps the last set on failure. */
  refresh(): Promise<void>;
  /** ok while the last refresh succeeded; else the error and how old the set in use is. */
  status(): { ok: true; members: number } | { ok: false; members: number; error: string; ageMs: number };
  close(): void;
}

export function createMembership(deps: {
  /** Registered hotkeys, e.g. services/patrol/chainAccess.ts subnetNeurons → hotkey. */
  load: () => Promise<string[]>;
  refreshMs: number;
  log: Logger;
  /** The setting(s) to name when the chain cannot be read, e.g. `SUBTENSOR_URL (netuid 3, PATROL_NETUID)`. */
  setting: string;
  /** A read that takes longer fails (a node that accepts and never answers must not stop refreshes). */
  timeoutMs?: number;
}): Membership {
  const timeoutMs = deps.timeoutMs ?? 30_000;
  let members = new Set<string>();
  let loadedAt = 0;
  let lastError: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const load = async () => {
    const list = await pTimeout(deps.load(), {
      milliseconds: timeoutMs,
      message: `no answer within ${timeoutMs / 1000} s`,
    });
    const before = members;
    members = new Set(list);
    loadedAt = Date.now();
    if (lastError) deps.log.info({ members: members.size }, 'defense membership read from the chain again');
    lastError = null;
    const joined = list.filter((h) => !before.has(h)).length;
    const left = [...before].filter((h) => !members.has(h)).length;
    if (joined || left)
      deps.log.info({ members: members.size, joined, left }, 'defense membership refreshed');
  };

  const refresh = async () => {
    try {
      await load();
    } catch (e) {
      lastError = (e as Error).message;
      deps.log.warn(
        { err: lastError, members: members.size, ageMs: Date.now() - loadedAt, setting: deps.setting },
        'defense membership not refreshed: keeping the last known registered hotkeys',
      );
    }
  };

  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => void refresh().finally(schedule), deps.refreshMs);
    timer.unref();
  };

  return {
    async start() {
      try {
        await load();
      } catch (e) {
        throw new ServiceUnavailableError(
          `could not read the subnet's registered hotkeys: ${(e as Error).message} (${deps.setting})`,
          { cause: e },
        );
      }
      schedule();
    },
    has: (h) => members.has(h),
    list: () => [...members].sort(),
    refresh,
    status: () =>
      lastError === null
        ? { ok: true, members: members.size }
        : { ok: false, members: members.size, error: lastError, ageMs: Date.now() - loadedAt },
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
