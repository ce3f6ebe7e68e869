import type { ApiPromise } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { type LocalSubtensor, TAO, startLocalSubtensor } from '../../dev/bittensor/localChain.ts';
import { type SeedManifest, seedScenario } from '../../dev/bittensor/seeder.ts';
import { type BlockEvents, createBlockEventCache, readBlockEvents } from './blocks.ts';
import { connectSubtensor } from './client.ts';
import { ExtrinsicFailedError } from './errors.ts';
import type { DomainEvent } from './events.ts';
import { sendTx, txOf } from './extrinsics.ts';
import { childrenOf, ownerOf, parentsOf } from './keys.ts';
import { enableWeightSetting, registerNeuron, setWeights } from './neurons.ts';

const SPEC = new URL('../../../shared/chain/subtensor-raonet.json', import.meta.url).pathname;
const log = silentLogger;

let chain: LocalSubtensor;
let api: ApiPromise;
let manifest: SeedManifest;
let blocks: BlockEvents[];

const of = <K extends DomainEvent['kind']>(kind: K) =>
  blocks.flatMap((b) => b.events).filter((e): e is Extract<DomainEvent, { kind: K }> => e.kind === kind);
const sorted = (xs: string[]) => [...xs].sort();

beforeAll(async () => {
  chain = await startLocalSubtensor({ specPath: SPEC, log });
  api = await connectSubtensor(chain.wsUrl, { timeoutMs: 30_000, log });
  manifest = await seedScenario(api, chain, {
    accounts: 24,
    subnets: 2,
    blocks: 3,
    hotkeysPerSubnet: 3,
    txPerBlock: 8,
    seed: 7,
    log,
  });
  blocks = await readBlockEvents(api, { from: 1, to: chain.head().number, batchSize: 4, concurrency: 3 });
});

afterAll(async () => {
  await api?.disconnect();
  await chain?.close();
});

describe('seeded chain, decoded back', () => {
  it('reads every block in order with its hash', () => {
    expect(blocks.map((b) => b.number)).toEqual(Array.from({ length: chain.head().number }, (_, i) => i + 1));
    for (const b of blocks) expect(b.hash).toMatch(/^0x[0-9a-f]{64}$/);
    // Every activity block but the subnet registrations' (NetworkAdded is not a domain event) has events.
    const withEvents = new Set(blocks.filter((b) => b.events.length > 0).map((b) => b.number));
    expect(manifest.activityBlocks.filter((n) => !withEvents.has(n))).toEqual([manifest.firstBlock]);
  });

  it('returns exactly the transfers the seeder made', () => {
    expect(manifest.transfers.length).toBeGreaterThan(0);
    const key = (t: {
      blockNumber: number;
      extrinsicIndex: number | null;
      from: string;
      to: string;
      amount: bigint;
    }) => `${t.blockNumber}/${t.extrinsicIndex} ${t.from}>${t.to} ${t.amount}`;
    expect(sorted(of('Transfer').map(key))).toEqual(sorted(manifest.transfers.map(key)));
  });

  it('returns exactly the stakes added and removed (moves flagged apart)', () => {
    const direct = (e: { viaMove: boolean }) => !e.viaMove;
    const addKey = (
      e: { blockNumber: number; coldkey: string; hotkey: string; netuid: number },
      amount: bigint,
    ) => `${e.blockNumber} ${e.coldkey} ${e.hotkey} ${e.netuid} ${amount}`;
    expect(
      sorted(
        of('StakeAdded')
          .filter(direct)
          .map((e) => addKey(e, e.tao)),
      ),
    ).toEqual(sorted(manifest.stakes.filter((s) => s.kind === 'add').map((s) => addKey(s, s.amount))));
    expect(
      sorted(
        of('StakeRemoved')
          .filter(direct)
          .map((e) => addKey(e, e.alpha)),
      ),
    ).toEqual(sorted(manifest.stakes.filter((s) => s.kind === 'remove').map((s) => addKey(s, s.amount))));
    for (const e of of('StakeAdded')) {
      expect(e.fee).toBeNull(); // spec 218 layout
      expect(e.alpha).toBeGreaterThan(0n); // seeded pools: no degenerate 0-alpha stakes
    }
  });

  it('returns exactly the moves and children set', () => {
    const moveKey = (m: {
      blockNumber: number;
      coldkey: string;
      originHotkey: string;
      originNetuid: number;
      destinationHotkey: string;
      destinationNetuid: number;
    }) =>
      `${m.blockNumber} ${m.coldkey} ${m.originHotkey}@${m.originNetuid}>${m.destinationHotkey}@${m.destinationNetuid}`;
    expect(sorted(of('StakeMoved').map(moveKey))).toEqual(sorted(manifest.moves.map(moveKey)));
    const childKey = (c: {
      blockNumber: number;
      hotkey: string;
      netuid: number;
      children: { proportion: bigint; child: string }[];
    }) =>
      `${c.blockNumber} ${c.hotkey}@${c.netuid} ${c.children.map((x) => `${x.proportion}:${x.child}`).join(',')}`;
    expect(manifest.children.length).toBeGreaterThan(0);
    expect(sorted(of('SetChildren').map(childKey))).toEqual(sorted(manifest.children.map(childKey)));
  });

  it('sees every registration', () => {
    const regKey = (r: { blockNumber: number; netuid: number; uid: number; hotkey: string }) =>
      `${r.blockNumber} ${r.netuid}/${r.uid} ${r.hotkey}`;
    expect(sorted(of('NeuronRegistered').map(regKey))).toEqual(sorted(manifest.registrations.map(regKey)));
  });

  it('resolves hotkey owners now and at an earlier block', async () => {
    for (const h of manifest.hotkeys) expect(await ownerOf(api, h.address)).toBe(h.owner);
    const before = blocks.find((b) => b.number === 1)?.hash as string;
    expect(await ownerOf(api, manifest.hotkeys[0]?.address as string, before)).toBeNull();
  });

  it('reads children and parents from storage', async () => {
    for (const c of manifest.children) {
      expect(await childrenOf(api, c.hotkey, c.netuid)).toEqual(c.children);
      const child = c.children[0]?.child as string;
      expect(await parentsOf(api, child, c.netuid)).toContainEqual({
        proportion: c.children[0]?.proportion,
        parent: c.hotkey,
      });
    }
  });

  it('caches blocks and shares concurrent fetches', async () => {
    const cache = createBlockEventCache(api, { maxBlocks: 2 });
    const n = manifest.activityBlocks.at(-1) as number;
    const [a, b] = await Promise.all([cache.get(n), cache.get(n)]);
    expect(a).toBe(b);
    expect(a.events).toEqual(blocks.find((x) => x.number === n)?.events);
    await cache.get(1);
    await cache.get(2);
    expect(cache.size).toBe(2);
  });
});

describe('extrinsics and weights', () => {
  it('surfaces the decoded module error of a failed extrinsic', async () => {
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    const signer = keyring.addFromUri(manifest.accounts[5]?.uri as string);
    const nobody = keyring.addFromUri('//Vigil/not-registered').address;
    const err = await sendTx(
      api,
      chain,
      txOf(api, 'subtensorModule', 'addStake')(nobody, manifest.subnets[0]?.netuid, 5n * TAO),
      signer,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExtrinsicFailedError);
    expect((err as ExtrinsicFailedError).error).toBe('subtensorModule.HotKeyAccountNotExists');
  });

  it('lets a registered validator set weights (WeightsSet event)', async () => {
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    const sudo = keyring.addFromUri('//Alice');
    const coldkey = keyring.addFromUri(manifest.accounts[3]?.uri as string);
    const hotkey = keyring.addFromUri('//Vigil/validator');
    const netuid = manifest.subnets[0]?.netuid as number;
    const { uid } = await registerNeuron(api, chain, { netuid, coldkey, hotkey: hotkey.address });
    await enableWeightSetting(api, chain, { netuid, sudo, validatorUids: [uid] });
    const ev = await setWeights(api, chain, {
      netuid,
      signer: hotkey,
      uids: [0, 1, uid],
      weights: [100, 200, 300],
    });
    expect(ev).toMatchObject({ kind: 'WeightsSet', netuid, uid });
    const [block] = await readBlockEvents(api, { from: ev.blockNumber, to: ev.blockNumber });
    expect(block?.events).toContainEqual(ev);
  });
});
