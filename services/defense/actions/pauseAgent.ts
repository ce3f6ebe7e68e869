import { randomUUID } from 'node:crypto';
import { Wallet, id as keccakText } from 'ethers';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { JsonRpcClient } from '../../../chains/ethereum/rpc.ts';
import type { RpcTransaction } from '../../../chains/ethereum/types.ts';
import type { Log } from '../../../common/logger.ts';
import { oneAtATime } from '../../../common/serial.ts';
import { pauseClaimKey } from '../../../protocol/keys.ts';
import { DefenseActionError } from './notify.ts';

export interface PauseRequest {
  contract: string;
  /** e.g. `pause()` */
  signature: string;
  /** The attack to outbid. */
  attack: RpcTransaction;
  /** Incident identity (e.g. the attacker's address): one pause per (contract, incident). */
  incident: string;
}

export interface PauseResult {
  status: 'sent' | 'replaced' | 'deduped' | 'covered';
  hash?: string;
  nonce?: number;
  maxPriorityFeePerGas?: bigint;
  maxFeePerGas?: bigint;
}

export interface PauseAgent {
  readonly guardian: string;
  pause(req: PauseRequest): Promise<PauseResult>;
}

export interface PauseAgentOptions {
  rpc: JsonRpcClient;
  /** The guardian's private key. Held in the closure only; never logged, never in errors. */
  privateKey: string;
  chainId: number;
  log: Log;
  /** Shared dedupe across validator processes (SET NX); optional in-process only. */
  redis?: Redis;
  prefix?: string;
  gasLimit?: bigint;
  /** Fee over the attack's, in basis points (12000 = x1.2), plus 1 gwei. */
  bumpBps?: number;
  /** Never pay more than this per gas (an attacker could otherwise bid the guardian dry). */
  maxFeeCapWei?: bigint;
  /** How long a sent pause keeps later requests of its incident deduplicated (default 10 min). */
  dedupeTtlMs?: number;
  /**
   * How long a claim to send lasts before the pause is known (default 15 s), renewed before each
   * call to the node. Short, so a validator that dies or hangs mid-send does not keep every other
   * one from pausing for long; a claim that expired mid-send stops the send.
   */
  claimTtlMs?: number;
}

const GWEI = 1_000_000_000n;

/**
 * Changes a pause key only while it still holds the caller's claim (ARGV[1]): 'renew' extends it,
 * 'set' replaces it with the pause hash, 'del' drops it. Returns 1 when done, 0 when the claim is
 * no longer there (expired, and maybe taken by another validator).
 */
const CLAIM_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == 'renew' then return redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
if ARGV[2] == 'set' then redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4]) return 1 end
return redis.call('DEL', KEYS[1])`;

/** The attack's priority fee and fee cap (legacy: gasPrice for both, an upper bound of its tip). */
export function attackFees(tx: RpcTransaction): { tip: bigint; maxFee: bigint } {
  if (tx.type !== undefined && BigInt(tx.type) >= 2n && tx.maxFeePerGas) {
    return { tip: BigInt(tx.maxPriorityFeePerGas ?? '0x0'), maxFee: BigInt(tx.maxFeePerGas) };
  }
  const p = BigInt(tx.gasPrice ?? '0x0');
  return { tip: p, maxFee: p };
}

/** Fees that outbid the attack: tip and cap both above the attack's, so the effective tip is too. */
export function outbid(
  attack: { tip: bigint; maxFee: bigint },
  bumpBps: number,
  cap: bigint,
): { tip: bigint; maxFee: bigint; capped: boolean } {
  let tip = (attack.tip * BigInt(bumpBps)) / 10_000n + GWEI;
  let maxFee = (attack.maxFee * BigInt(bumpBps)) / 10_000n + GWEI;
  if (maxFee < tip) maxFee = tip;
  const capped = maxFee > cap;
  if (capped) {
    maxFee = cap;
    if (tip > cap) tip = cap;
  }
  return { tip, maxFee, capped };
}

/**
 * Signs and broadcasts `contract.pause()` from the guardian with a priority fee above the attack's,
 * so a fee-ordered block includes it first. One pause per (contract, incident), deduplicated in
 * Redis across validators. While a pause for the contract is still pending, a new incident that
 * outbids it replaces it (same nonce, higher fee) instead of sending a second one. Nonces are kept
 * locally and resynchronised from the node when it refuses one.
 */
export function createPauseAgent(opts: PauseAgentOptions): PauseAgent {
  const wallet = new Wallet(opts.privateKey);
  const guardian = wallet.address;
  const bumpBps = opts.bumpBps ?? 12_000;
  const cap = opts.maxFeeCapWei ?? 1000n * GWEI;
  const gasLimit = opts.gasLimit ?? 100_000n;
  let nextNonce: number | undefined;
  const inflight = new Map<string, { nonce: number; tip: bigint; maxFee: bigint; hash: string }>();
  // One pause at a time: nonces and the in-flight table stay consistent.
  const serially = oneAtATime();
  const seen = new LRUCache<string, string>({ max: 10_000 });

  const syncNonce = async () => {
    nextNonce = Number(BigInt(await opts.rpc.call<string>('eth_getTransactionCount', [guardian, 'pending'])));
  };

  const send = async (contract: string, data: string, nonce: number, tip: bigint, maxFee: bigint) => {
    const raw = await wallet.signTransaction({
      type: 2,
      chainId: opts.chainId,
      nonce,
      to: contract,
      data,
      gasLimit,
      maxPriorityFeePerGas: tip,
      maxFeePerGas: maxFee,
      value: 0n,
    });
    return opts.rpc.call<string>('eth_sendRawTransaction', [raw]);
  };

  const stillPending = async (nonce: number) =>
    Number(BigInt(await opts.rpc.call<string>('eth_getTransactionCount', [guardian, 'latest']))) <= nonce;

  const run = async (req: PauseRequest): Promise<PauseResult> => {
    const contract = req.contract.toLowerCase();
    const key = pauseClaimKey(opts.prefix ?? 'vigil', opts.chainId, contract, req.incident);
    const ttl = opts.dedupeTtlMs ?? 600_000;
    // The key holds the pause's hash once sent, so a deduplicated request can still name it.
    const hashOf = (v: string | null | undefined) => (v && /^0x[0-9a-f]{64}$/i.test(v) ? { hash: v } : {});
    if (!opts.redis) {
      if (seen.has(key)) return { status: 'deduped', ...hashOf(seen.get(key)) };
      seen.set(key, 'sending');
      try {
        const r = await sendPause(req, contract, async () => {});
        if (r.hash) seen.set(key, r.hash);
        return r;
      } catch (e) {
        seen.delete(key); // not sent: a later violation of the same incident must be able to try again
        throw e;
      }
    }
    const redis = opts.redis;
    const claimTtl = Math.min(opts.claimTtlMs ?? 15_000, ttl);
    // A claim of our own: every later change to the key is made only while it still holds it, so an
    // expired claim never lets us delete or overwrite another validator's claim or pause.
    const claim = `sending:${randomUUID()}`;
    const prev = (await redis.set(key, claim, 'PX', claimTtl, 'NX', 'GET')) as string | null;
    if (prev !== null) return { status: 'deduped', ...hashOf(prev) };
    const ifOurs = (op: 'renew' | 'set' | 'del', value = '', ms = 0) =>
      redis.eval(CLAIM_SCRIPT, 1, key, claim, op, value, String(ms)) as Promise<number>;
    // Before each call to the node: a slow node must not outlive the claim (another would send too).
    const keepClaim = async () => {
      if ((await ifOurs('renew', '', claimTtl)) !== 1)
        throw new DefenseActionError(`the pause claim on ${contract} expired before it was sent`);
    };
    try {
      const r = await sendPause(req, contract, keepClaim);
      if (r.hash) {
        const stored = await ifOurs('set', r.hash, ttl).catch(() => 0);
        if (stored !== 1) opts.log.warn({ contract, tx: r.hash }, 'pause sent but not recorded for dedupe');
      }
      return r;
    } catch (e) {
      await ifOurs('del').catch(() => {}); // not sent: a later violation must be able to try again
      throw e;
    }
  };

  const sendPause = async (
    req: PauseRequest,
    contract: string,
    keepClaim: () => Promise<void>,
  ): Promise<PauseResult> => {
    const fees = outbid(attackFees(req.attack), bumpBps, cap);
    if (fees.capped)
      opts.log.warn(
        { contract, capWei: cap.toString() },
        'pause fee capped: the attack may still land first',
      );
    const data = keccakText(req.signature).slice(0, 10);

    const prev = inflight.get(contract);
    await keepClaim();
    if (prev && (await stillPending(prev.nonce))) {
      if (prev.tip >= fees.tip && prev.maxFee >= fees.maxFee)
        return { status: 'covered', hash: prev.hash, nonce: prev.nonce };
      // Replacement must beat the pending pause by 10 % on both fees.
      const tip = fees.tip > (prev.tip * 11n) / 10n ? fees.tip : (prev.tip * 11n) / 10n + 1n;
      let maxFee = fees.maxFee > (prev.maxFee * 11n) / 10n ? fees.maxFee : (prev.maxFee * 11n) / 10n + 1n;
      if (maxFee < tip) maxFee = tip;
      await keepClaim();
      const hash = await send(contract, data, prev.nonce, tip, maxFee);
      inflight.set(contract, { nonce: prev.nonce, tip, maxFee, hash });
      return { status: 'replaced', hash, nonce: prev.nonce, maxPriorityFeePerGas: tip, maxFeePerGas: maxFee };
    }

    if (nextNonce === undefined) await syncNonce();
    // Not p-retry: one resend right after a nonce resync, not a loop with waits.
    for (let attempt = 0; ; attempt++) {
      const nonce = nextNonce!;
      await keepClaim();
      try {
        const hash = await send(contract, data, nonce, fees.tip, fees.maxFee);
        nextNonce = nonce + 1;
        inflight.set(contract, { nonce, tip: fees.tip, maxFee: fees.maxFee, hash });
        return { status: 'sent', hash, nonce, maxPriorityFeePerGas: fees.tip, maxFeePerGas: fees.maxFee };
      } catch (e) {
        const msg = (e as Error).message ?? '';
        if (attempt === 0 && /nonce|already known|replacement/i.test(msg)) {
          await syncNonce();
          continue;
        }
        throw new DefenseActionError(`the pause of ${contract} could not be sent`, {
          details: msg,
          cause: e,
        });
      }
    }
  };

  return {
    guardian,
    pause: (req) => serially(() => run(req)),
  };
}
