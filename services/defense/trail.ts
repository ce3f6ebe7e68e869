import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../common/logger.ts';
import { alertId } from '../../protocol/ids.ts';
import { attackerContractsOf } from '../../protocol/ingest.ts';
import { trailStream } from '../../protocol/keys.ts';
import { type TrailRequest, checkTrailRequest } from '../../protocol/trail.ts';
import { appendMessage } from '../../queues/streams.ts';
import { protectedContracts } from './registry.ts';
import type { Violation } from './validator/dispatch.ts';
import { lower } from './validator/types.ts';

/**
 * Trail requests (protocol/trail.ts): on each violation the consensus decided, the addresses the
 * Patrol validator should trace at once — the flagged tx's sender, and the contract it calls when
 * that is not the protected one (an exploit contract) — appended to the operator's trail stream.
 * Plugged into the defense validator's `onViolation` seam (validator/dispatch.ts).
 */

export interface TrailRequesterDeps {
  connection: Redis;
  prefix: string;
  /** The defense validator's id (DEFENSE_VALIDATOR_ID): the stream is named after it. */
  validatorId: string;
  chainId: number;
  /** The node's best block now: where the forward trail starts. */
  head: () => Promise<number>;
  log: Logger;
}

/** What to trace for a violation: the sender, then the called contract unless it is the protected one. */
export function trailTargets(v: Pick<Violation, 'tx' | 'invariant'>): TrailRequest['targets'] {
  return [
    { address: lower(v.tx.from)!, role: 'sender' },
    ...attackerContractsOf(v.tx, protectedContracts(v.invariant)).map((address) => ({
      address,
      role: 'callee' as const,
    })),
  ];
}

/**
 * The `onViolation` handler: one trail request per flagged tx (a tx violating three invariants
 * is one attack, traced once), checked with the protocol's schema before it is written.
 */
export function createTrailRequester(deps: TrailRequesterDeps): (v: Violation) => Promise<void> {
  const sent = new LRUCache<string, true>({ max: 10_000 });
  const stream = trailStream(deps.prefix, deps.validatorId);
  return async (v) => {
    const txHash = lower(v.tx.hash)!;
    if (sent.has(txHash)) return;
    sent.set(txHash, true);
    try {
      await send(v, txHash);
    } catch (err) {
      // Not written (the node did not give its head): the tx's next violation asks again.
      sent.delete(txHash);
      throw err;
    }
  };

  async function send(v: Violation, txHash: string) {
    const request = {
      alertId: alertId({ chainId: deps.chainId, tx: { hash: txHash }, invariant: { id: v.invariant.id } }),
      chainId: deps.chainId,
      txHash,
      contract: lower(v.invariant.contract)!,
      blockNumber: await deps.head(),
      targets: trailTargets(v),
      validator: deps.validatorId,
      raisedAt: v.raisedAt,
    };
    const checked = checkTrailRequest(request);
    if (!checked.ok) {
      deps.log.error(
        { tx: txHash, reason: checked.reason },
        'trail request not sent: it does not pass its own schema',
      );
      return;
    }
    const id = await appendMessage(deps.connection, stream, JSON.stringify(checked.request), 10_000);
    deps.log.info(
      { tx: txHash, alert: request.alertId, targets: request.targets, entry: id },
      'trail requested',
    );
  }
}
