import type { ApiPromise } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { DispatchError, EventRecord } from '@polkadot/types/interfaces';
import { VigilError } from '../../common/errors.ts';
import { ExtrinsicFailedError, ExtrinsicNotIncludedError, ExtrinsicRejectedError } from './errors.ts';

/** Anything that can seal a block on demand (the local chopsticks chain). */
export interface BlockProducer {
  newBlock(count?: number): Promise<{ number: number; hash: string }>;
}

export type Tx = SubmittableExtrinsic<'promise'>;

export interface TxRequest {
  tx: Tx;
  signer: KeyringPair;
  /** Explicit nonce; by default the NonceTracker hands out the next one for the signer. */
  nonce?: number;
}

export interface TxResult {
  call: string;
  blockNumber: number;
  blockHash: string;
  extrinsicIndex: number;
  events: EventRecord[];
  /** Position of each of `events` in the block's System.Events. */
  eventIndexes: number[];
  /** Set when the extrinsic (or the call inside sudo) failed; `sendTxs` throws instead unless `allowFailures`. */
  error?: ExtrinsicFailedError;
}

/** Hands out consecutive nonces per account so many of its txs fit in one block. */
export interface NonceTracker {
  next(address: string): Promise<number>;
  /** Forget an account's counter (after a rejected tx the chain's view wins again). */
  reset(address?: string): void;
}

export function createNonceTracker(api: ApiPromise): NonceTracker {
  const nonces = new Map<string, Promise<number>>();
  return {
    next(address) {
      const prev = nonces.get(address);
      const n = prev
        ? prev.then((x) => x + 1)
        : api.rpc.system.accountNextIndex(address).then((x) => x.toNumber());
      nonces.set(address, n);
      return n;
    },
    reset(address) {
      if (address) nonces.delete(address);
      else nonces.clear();
    },
  };
}

/** `section.method`, with the wrapped call for sudo (`sudo.sudo(adminUtils.sudoSetTempo)`). */
export function callName(tx: Tx): string {
  const { section, method, args } = tx.method;
  const inner =
    section === 'sudo'
      ? (args[0] as unknown as { section?: string; method?: string } | undefined)
      : undefined;
  return inner?.section ? `${section}.${method}(${inner.section}.${inner.method})` : `${section}.${method}`;
}

/** `api.tx[section][method]` with a clear error when the runtime has no such call. */
export function txOf(api: ApiPromise, section: string, method: string): (...args: unknown[]) => Tx {
  const fn = api.tx[section]?.[method];
  if (!fn)
    throw new VigilError(
      `runtime ${api.runtimeVersion.specVersion.toString()} has no call ${section}.${method}`,
    );
  return fn as unknown as (...args: unknown[]) => Tx;
}

/** `Pallet.Error` for a module error, the variant name (`BadOrigin`, `Token.FundsUnavailable`) otherwise. */
export function describeDispatchError(api: ApiPromise, err: DispatchError): { name: string; docs: string } {
  if (err.isModule) {
    try {
      const meta = api.registry.findMetaError(err.asModule);
      return { name: `${meta.section}.${meta.name}`, docs: meta.docs.join(' ').trim() };
    } catch {
      return { name: `Module(${err.asModule.toString()})`, docs: '' };
    }
  }
  const inner = (err as unknown as { value: { isEmpty?: boolean; type?: string } }).value;
  return { name: inner && !inner.isEmpty && inner.type ? `${err.type}.${inner.type}` : err.type, docs: '' };
}

/**
 * Manual block mode: sign each tx with an explicit nonce, submit them all, seal ONE block, then
 * read each one's events from that block. Throws on the first failed tx unless `allowFailures`.
 */
export async function sendTxs(
  api: ApiPromise,
  chain: BlockProducer,
  requests: TxRequest[],
  {
    nonces = createNonceTracker(api),
    allowFailures = false,
  }: { nonces?: NonceTracker; allowFailures?: boolean } = {},
): Promise<TxResult[]> {
  const hashes: string[] = [];
  for (const { tx, signer, nonce } of requests) {
    const n = nonce ?? (await nonces.next(signer.address));
    // Immortal: the tx does not depend on a recent block hash that Manual mode may not advance.
    await tx.signAsync(signer, { nonce: n, era: 0 });
    try {
      hashes.push((await api.rpc.author.submitExtrinsic(tx)).toHex());
    } catch (cause) {
      nonces.reset(signer.address);
      throw new ExtrinsicRejectedError(callName(tx), cause instanceof Error ? cause.message : String(cause), {
        cause,
      });
    }
  }
  const block = await chain.newBlock();
  const [signed, events] = await Promise.all([
    api.rpc.chain.getBlock(block.hash),
    api.query.system.events.at(block.hash) as unknown as Promise<EventRecord[]>,
  ]);
  const inBlock: string[] = signed.block.extrinsics.map((x) => x.hash.toHex());

  return requests.map(({ tx, signer }, i) => {
    const call = callName(tx);
    const index = inBlock.indexOf(hashes[i] as string);
    if (index < 0) {
      nonces.reset(signer.address);
      throw new ExtrinsicNotIncludedError(call, {
        blockNumber: block.number,
        details: 'the block builder dropped it (invalid at build time?)',
      });
    }
    const eventIndexes: number[] = [];
    events.forEach((e, j) => {
      if (e.phase.isApplyExtrinsic && e.phase.asApplyExtrinsic.toNumber() === index) eventIndexes.push(j);
    });
    const own = eventIndexes.map((j) => events[j] as EventRecord);
    const error = findFailure(api, own, call, block.number);
    if (error && !allowFailures) throw error;
    return {
      call,
      blockNumber: block.number,
      blockHash: block.hash,
      extrinsicIndex: index,
      events: own,
      eventIndexes,
      error,
    };
  });
}

/** One tx in its own block. */
export async function sendTx(
  api: ApiPromise,
  chain: BlockProducer,
  tx: Tx,
  signer: KeyringPair,
  opts: { nonces?: NonceTracker } = {},
): Promise<TxResult> {
  const [res] = await sendTxs(api, chain, [{ tx, signer }], opts);
  return res as TxResult;
}

function findFailure(
  api: ApiPromise,
  events: EventRecord[],
  call: string,
  blockNumber: number,
): ExtrinsicFailedError | undefined {
  for (const { event } of events) {
    if (api.events.system.ExtrinsicFailed.is(event)) {
      const d = describeDispatchError(api, event.data[0] as unknown as DispatchError);
      return new ExtrinsicFailedError(call, d.name, { blockNumber, docs: d.docs });
    }
    // sudo() itself succeeds when the wrapped call fails: the result is in Sudid.
    if (event.section === 'sudo' && (event.method === 'Sudid' || event.method === 'SudoAsDone')) {
      const result = event.data[0] as unknown as { isErr: boolean; asErr: DispatchError };
      if (result.isErr) {
        const d = describeDispatchError(api, result.asErr);
        return new ExtrinsicFailedError(call, d.name, { blockNumber, docs: d.docs });
      }
    }
  }
  return undefined;
}
