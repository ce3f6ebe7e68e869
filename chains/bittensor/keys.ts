import type { ApiPromise } from '@polkadot/api';
import type { Codec } from '@polkadot/types/types';
import { encodeAddress } from '@polkadot/util-crypto';
import { VigilError } from '../../common/errors.ts';
import { type ChildLink, SS58_PREFIX, codecToBigInt } from './events.ts';

type StorageFn = (...args: unknown[]) => Promise<Codec>;

/** A SubtensorModule storage item, at `blockHash` when given (historical state via `api.at`). */
async function storage(api: ApiPromise, item: string, blockHash?: string): Promise<StorageFn> {
  const q = blockHash ? await api.at(blockHash) : api;
  const fn = q.query.subtensorModule?.[item];
  if (!fn) throw new VigilError(`runtime has no storage SubtensorModule.${item}`);
  return fn as unknown as StorageFn;
}

const ZERO_ACCOUNT = encodeAddress(new Uint8Array(32), SS58_PREFIX);

/** Coldkey owning `hotkey` (now, or at `blockHash`); null when the hotkey has no owner. */
export async function ownerOf(api: ApiPromise, hotkey: string, blockHash?: string): Promise<string | null> {
  const owner = encodeAddress((await (await storage(api, 'owner', blockHash))(hotkey)).toU8a(), SS58_PREFIX);
  // Owner is a ValueQuery: unknown hotkeys read as the all-zero account.
  return owner === ZERO_ACCOUNT ? null : owner;
}

function links(value: Codec, key: 'child' | 'parent'): { proportion: bigint; account: string }[] {
  return (value as unknown as Codec[][]).map((pair) => ({
    proportion: codecToBigInt(pair[0] as Codec),
    account: encodeAddress((pair[1] as Codec).toU8a(), SS58_PREFIX),
    key,
  }));
}

/** Child hotkeys of `hotkey` on `netuid` with their stake proportions (`ChildKeys`). */
export async function childrenOf(
  api: ApiPromise,
  hotkey: string,
  netuid: number,
  blockHash?: string,
): Promise<ChildLink[]> {
  return links(await (await storage(api, 'childKeys', blockHash))(hotkey, netuid), 'child').map((l) => ({
    proportion: l.proportion,
    child: l.account,
  }));
}

/** Parent hotkeys of `hotkey` on `netuid` with the proportions they give it (`ParentKeys`). */
export async function parentsOf(
  api: ApiPromise,
  hotkey: string,
  netuid: number,
  blockHash?: string,
): Promise<{ proportion: bigint; parent: string }[]> {
  return links(await (await storage(api, 'parentKeys', blockHash))(hotkey, netuid), 'parent').map((l) => ({
    proportion: l.proportion,
    parent: l.account,
  }));
}
