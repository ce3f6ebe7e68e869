import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Codec } from '@polkadot/types/types';
import { VigilError } from '../../common/errors.ts';
import { type DomainEvent, createEventDecoder } from './events.ts';
import { type BlockProducer, type NonceTracker, type TxResult, sendTxs, txOf } from './extrinsics.ts';

/** `{ Pallet: { Item: value | [[keys...], value][] } }`, values as JSON or raw SCALE hex. */
export type StorageOverrides = Record<string, Record<string, unknown>>;

/** What the weight helpers need from the local chain: blocks, and storage writes for permits. */
export interface AdminChain extends BlockProducer {
  setStorage(storage: StorageOverrides): Promise<void>;
}

function eventsOf(api: ApiPromise, res: TxResult): DomainEvent[] {
  return createEventDecoder(api.registry).decode(res.events, {
    blockNumber: res.blockNumber,
    blockHash: res.blockHash,
    eventIndexes: res.eventIndexes,
  });
}

/** burned_register `hotkey` on `netuid`, paid by `coldkey` (which becomes its owner). */
export async function registerNeuron(
  api: ApiPromise,
  chain: BlockProducer,
  {
    netuid,
    coldkey,
    hotkey,
    nonces,
  }: { netuid: number; coldkey: KeyringPair; hotkey: string; nonces?: NonceTracker },
): Promise<{ uid: number; blockNumber: number }> {
  const [res] = await sendTxs(
    api,
    chain,
    [{ tx: txOf(api, 'subtensorModule', 'burnedRegister')(netuid, hotkey), signer: coldkey }],
    { nonces },
  );
  const ev = eventsOf(api, res as TxResult).find((e) => e.kind === 'NeuronRegistered');
  if (ev?.kind !== 'NeuronRegistered')
    throw new VigilError(`burned_register of ${hotkey} on subnet ${netuid} emitted no NeuronRegistered`);
  return { uid: ev.uid, blockNumber: ev.blockNumber };
}

/**
 * Makes `set_weights` possible on a fresh local subnet (spec 218). What stands in the way there:
 * - WeightsSetRateLimit is 100 blocks, counted from registration: `SettingWeightsTooFast` → 0.
 * - CommitRevealWeightsEnabled would force commit/reveal (`CommitRevealEnabled`) → false (it is
 *   already false on new subnets in 218; set anyway so a changed genesis does not surprise).
 * - WeightsMinStake (StakeThreshold) must be <= the validator's stake → 0.
 * - Non-self weights need a validator permit; permits are granted by epochs, so the given uids'
 *   ValidatorPermit bits are written directly.
 * MinAllowedWeights is 1 on new subnets and the version key 0: left as they are.
 */
export async function enableWeightSetting(
  api: ApiPromise,
  chain: AdminChain,
  {
    netuid,
    sudo,
    validatorUids = [],
    nonces,
  }: { netuid: number; sudo: KeyringPair; validatorUids?: number[]; nonces?: NonceTracker },
): Promise<void> {
  const admin = (method: string, ...args: unknown[]) => ({
    tx: txOf(api, 'sudo', 'sudo')(txOf(api, 'adminUtils', method)(...args)),
    signer: sudo,
  });
  await sendTxs(
    api,
    chain,
    [
      admin('sudoSetWeightsSetRateLimit', netuid, 0),
      admin('sudoSetCommitRevealWeightsEnabled', netuid, false),
      admin('sudoSetWeightsMinStake', 0),
    ],
    { nonces },
  );
  if (validatorUids.length) {
    const q = api.query.subtensorModule;
    const n = ((await q?.subnetworkN?.(netuid)) as unknown as { toNumber(): number }).toNumber();
    const current = ((await q?.validatorPermit?.(netuid)) as unknown as Codec[]).map(
      (b) => b.toJSON() === true,
    );
    const permits = Array.from({ length: n }, (_, i) => current[i] ?? false);
    for (const uid of validatorUids) permits[uid] = true;
    await chain.setStorage({ SubtensorModule: { ValidatorPermit: [[[netuid], permits]] } });
  }
}

/** set_weights signed by the validator hotkey; returns the `WeightsSet` event it produced. */
export async function setWeights(
  api: ApiPromise,
  chain: BlockProducer,
  {
    netuid,
    signer,
    uids,
    weights,
    versionKey = 0n,
    nonces,
  }: {
    netuid: number;
    signer: KeyringPair;
    uids: number[];
    weights: number[];
    versionKey?: bigint;
    nonces?: NonceTracker;
  },
): Promise<Extract<DomainEvent, { kind: 'WeightsSet' }>> {
  if (uids.length !== weights.length)
    throw new VigilError(`setWeights: ${uids.length} uids but ${weights.length} weights`);
  const [res] = await sendTxs(
    api,
    chain,
    [{ tx: txOf(api, 'subtensorModule', 'setWeights')(netuid, uids, weights, versionKey), signer }],
    { nonces },
  );
  const ev = eventsOf(api, res as TxResult).find((e) => e.kind === 'WeightsSet');
  if (ev?.kind !== 'WeightsSet')
    throw new VigilError(`set_weights on subnet ${netuid} emitted no WeightsSet`);
  return ev;
}
