import type http from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Refusal } from './admission.ts';

/**
 * The API's front door, in node's HTTP request handler before graphql-yoga: a caller already over
 * its cost budget (admission.ts) is answered 429 here, from its headers alone — no Request object,
 * no yoga plugins, no parse. An attacker's loop on a keep-alive connection is then throttled: the
 * first refusal on a connection is sent at once (a client learns Retry-After), each further one on
 * the same connection after `holdMs` (a timer: an attacker's back-to-back loop sends one request a
 * `holdMs` instead of thousands a second). At most `maxHeld` refusals are held at once; past that a
 * refusal is sent at once with `Connection: close`, so holding costs no more than that many timers.
 * Why: refused floods (~2,800 a second from 4 loops) kept the API's one event loop busy answering
 * them through yoga's stack, and investigators' p99 tripled (docs/benchmarks.md, bench:abuse).
 */
export interface DoorDeps {
  /** Who pays for a request (admission.ts callerOf), from node's request; undefined: let it in. */
  callerOf: (req: http.IncomingMessage) => string | undefined;
  /** The caller's 429 if it is over its budget, else null (admission.ts spentRefusal). */
  spentRefusal: (caller: string) => Promise<Refusal | null>;
  /** How long a repeated refusal on one connection is held (default 1000 ms). */
  holdMs?: number;
  /** Refusals held at most at once (default 1024). */
  maxHeld?: number;
}

/** Returns true when it answered the request (refused), false to hand it on to yoga. */
export type Door = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;

export function createDoor(deps: DoorDeps): Door {
  const holdMs = deps.holdMs ?? 1000;
  const maxHeld = deps.maxHeld ?? 1024;
  /** Refusals sent on each connection since its last request let in. */
  const refusedOn = new WeakMap<Socket, number>();
  let held = 0;
  return async (req, res) => {
    const caller = deps.callerOf(req);
    if (caller === undefined) return false;
    const refusal = await deps.spentRefusal(caller);
    if (!refusal) {
      refusedOn.delete(req.socket);
      return false;
    }
    const times = (refusedOn.get(req.socket) ?? 0) + 1;
    refusedOn.set(req.socket, times);
    const headers = { ...refusal.headers };
    if (times > 1 && held >= maxHeld) headers.connection = 'close';
    else if (times > 1) {
      held++;
      try {
        await sleep(Math.min(holdMs, refusal.msBeforeNext));
      } finally {
        held--;
      }
    }
    if (!res.destroyed) {
      res.writeHead(refusal.status, headers);
      res.end(refusal.body);
    }
    return true;
  };
}
