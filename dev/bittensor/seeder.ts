import type { ApiPromise } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { type ChildLink, type DomainEvent, createEventDecoder } from '../../chains/bittensor/events.ts';
import {
  type TxRequest,
  type TxResult,
  createNonceTracker,
  sendTxs,
  txOf,
} from '../../chains/bittensor/extrinsics.ts';
import type { AdminChain } from '../../chains/bittensor/neurons.ts';
import { VigilError } from '../../common/errors.ts';
import { type Log, silentLogger } from '../../common/logger.ts';
import { TAO } from './localChain.ts';

export interface SeedOptions {
  /** Funded coldkeys `//Vigil/<i>`. Default 200. */
  accounts?: number;
  subnets?: number;
  /** Blocks of random activity (setup blocks come on top). Default 40. */
  blocks?: number;
  /** Hotkeys registered per subnet, besides the owner's. Default 4. */
  hotkeysPerSubnet?: number;
  /** Transactions per activity block. Default 12. */
  txPerBlock?: number;
  seed?: number;
  /** Prefix of the derivation URIs (`<prefix>/<i>`); change it to seed twice on one chain. */
  uriPrefix?: string;
  sudoUri?: string;
  log?: Log;
}

export interface SeededAccount {
  uri: string;
  address: string;
}

export interface SeedManifest {
  seed: number;
  firstBlock: number;
  lastBlock: number;
  accounts: SeededAccount[];
  subnets: { netuid: number; ownerColdkey: string; ownerHotkey: string }[];
  hotkeys: (SeededAccount & { owner: string; netuids: number[] })[];
  /** Blocks holding at least one seeded extrinsic, ascending. */
  activityBlocks: number[];
  transfers: { blockNumber: number; extrinsicIndex: number; from: string; to: string; amount: bigint }[];
  /** `amount` is TAO for add, alpha for remove (what the call took). */
  stakes: {
    kind: 'add' | 'remove';
    blockNumber: number;
    extrinsicIndex: number;
    coldkey: string;
    hotkey: string;
    netuid: number;
    amount: bigint;
  }[];
  moves: {
    blockNumber: number;
    extrinsicIndex: number;
    coldkey: string;
    originHotkey: string;
    originNetuid: number;
    destinationHotkey: string;
    destinationNetuid: number;
    alpha: bigint;
  }[];
  children: {
    blockNumber: number;
    extrinsicIndex: number;
    hotkey: string;
    netuid: number;
    children: ChildLink[];
  }[];
  registrations: { blockNumber: number; netuid: number; uid: number; hotkey: string }[];
}

/** Small deterministic PRNG (mulberry32): the same seed gives the same plan. */
export function createRng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)] as T };
}

const FUND = 10_000n * TAO;
/** New subnets start with ~1 rao of alpha in the pool: every stake would get 0 alpha. */
const POOL_RESERVE = 10_000n * TAO;

/**
 * Real activity on a local chain through real extrinsics: subnets (register_network), hotkeys
 * (burned_register), transfers, add/remove/move stake across subnets and set_children, spread over
 * `blocks` blocks. Returns what was done, to compare against what the decoders read back.
 */
export async function seedScenario(
  api: ApiPromise,
  chain: AdminChain,
  {
    accounts = 200,
    subnets = 2,
    blocks = 40,
    hotkeysPerSubnet = 4,
    txPerBlock = 12,
    seed = 1,
    uriPrefix = '//Vigil',
    sudoUri = '//Alice',
    log = silentLogger,
  }: SeedOptions = {},
): Promise<SeedManifest> {
  if (accounts < subnets + 2) throw new VigilError(`seedScenario needs at least ${subnets + 2} accounts`);
  await cryptoWaitReady();
  const started = Date.now();
  const rng = createRng(seed);
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const sudo = keyring.addFromUri(sudoUri);
  const nonces = createNonceTracker(api);
  const decoder = createEventDecoder(api.registry);
  const tx = (section: string, method: string, ...args: unknown[]) => txOf(api, section, method)(...args);

  const coldkeys: KeyringPair[] = Array.from({ length: accounts }, (_, i) =>
    keyring.addFromUri(`${uriPrefix}/${i}`),
  );
  const manifest: SeedManifest = {
    seed,
    firstBlock: 0,
    lastBlock: 0,
    accounts: coldkeys.map((k, i) => ({ uri: `${uriPrefix}/${i}`, address: k.address })),
    subnets: [],
    hotkeys: [],
    activityBlocks: [],
    transfers: [],
    stakes: [],
    moves: [],
    children: [],
    registrations: [],
  };

  // Funding by storage: 200 transfers from Alice would need their own blocks and fees.
  await chain.setStorage({
    System: {
      Account: coldkeys.map((k) => [
        [k.address],
        { nonce: 0, consumers: 0, providers: 1, sufficients: 0, data: { free: FUND.toString() } },
      ]),
    },
  });

  let blockCount = 0;
  const run = async (requests: TxRequest[]): Promise<TxResult[]> => {
    const results = await sendTxs(api, chain, requests, { nonces });
    blockCount++;
    const first = results[0];
    if (first) {
      if (!manifest.firstBlock) manifest.firstBlock = first.blockNumber;
      manifest.lastBlock = first.blockNumber;
      if (!manifest.activityBlocks.includes(first.blockNumber))
        manifest.activityBlocks.push(first.blockNumber);
    }
    return results;
  };
  const eventsOf = (r: TxResult): DomainEvent[] =>
    decoder.decode(r.events, {
      blockNumber: r.blockNumber,
      blockHash: r.blockHash,
      eventIndexes: r.eventIndexes,
    });

  // 1. Subnets, owned by the first `subnets` coldkeys (register_network also registers the owner hotkey).
  const ownerHotkeys = Array.from({ length: subnets }, (_, s) =>
    keyring.addFromUri(`${uriPrefix}/hk/${s}/owner`),
  );
  const regNet = await run(
    ownerHotkeys.map((hk, s) => ({
      tx: tx('subtensorModule', 'registerNetwork', hk.address, 1),
      signer: coldkeys[s] as KeyringPair,
    })),
  );
  const hotkeyInfo = new Map<string, { pair: KeyringPair; uri: string; owner: string; netuids: number[] }>();
  const netuids: number[] = [];
  regNet.forEach((r, s) => {
    // On spec 218 register_network emits NetworkAdded(netuid, mechanism), not NeuronRegistered:
    // the owner hotkey becomes uid 0 silently.
    const added = r.events.find(
      ({ event }) => event.section === 'subtensorModule' && event.method === 'NetworkAdded',
    );
    if (!added)
      throw new VigilError(
        `register_network emitted no NetworkAdded (events: ${r.events.map(({ event }) => event.method).join(', ')})`,
      );
    const netuid = Number((added.event.data[0] as unknown as { toString(): string }).toString());
    const hotkey = (ownerHotkeys[s] as KeyringPair).address;
    netuids.push(netuid);
    const owner = (coldkeys[s] as KeyringPair).address;
    manifest.subnets.push({ netuid, ownerColdkey: owner, ownerHotkey: hotkey });
    hotkeyInfo.set(hotkey, {
      pair: ownerHotkeys[s] as KeyringPair,
      uri: `${uriPrefix}/hk/${s}/owner`,
      owner,
      netuids: [netuid],
    });
  });
  log.info({ netuids: netuids.join(', ') }, 'seed: registered subnets');

  // Pools with real reserves, and registration limits lifted so all hotkeys fit in one block.
  await chain.setStorage({
    SubtensorModule: {
      SubnetTAO: netuids.map((n) => [[n], POOL_RESERVE.toString()]),
      SubnetAlphaIn: netuids.map((n) => [[n], POOL_RESERVE.toString()]),
      MaxRegistrationsPerBlock: netuids.map((n) => [[n], 1000]),
      TargetRegistrationsPerInterval: netuids.map((n) => [[n], 1000]),
    },
  });

  // 2. Hotkeys: each owned by a random coldkey; a few are registered on every subnet so moves
  //    across subnets keep the same hotkey.
  const regRequests: TxRequest[] = [];
  const planned: { hk: KeyringPair; uri: string; owner: KeyringPair; netuid: number }[] = [];
  for (let s = 0; s < subnets; s++) {
    for (let j = 0; j < hotkeysPerSubnet; j++) {
      const uri = `${uriPrefix}/hk/${s}/${j}`;
      const hk = keyring.addFromUri(uri);
      const owner = coldkeys[subnets + rng.int(accounts - subnets)] as KeyringPair;
      planned.push({ hk, uri, owner, netuid: netuids[s] as number });
      // The first hotkey of subnet 0 also joins the other subnets (same owner, as the chain requires).
      if (s === 0 && j === 0)
        for (const other of netuids.slice(1)) planned.push({ hk, uri, owner, netuid: other });
    }
  }
  for (const p of planned)
    regRequests.push({
      tx: tx('subtensorModule', 'burnedRegister', p.netuid, p.hk.address),
      signer: p.owner,
    });
  const regs = await run(regRequests);
  regs.forEach((r, i) => {
    const p = planned[i] as (typeof planned)[number];
    const ev = eventsOf(r).find((e) => e.kind === 'NeuronRegistered');
    if (ev?.kind !== 'NeuronRegistered')
      throw new VigilError(`burned_register of ${p.uri} emitted no NeuronRegistered`);
    manifest.registrations.push({
      blockNumber: ev.blockNumber,
      netuid: ev.netuid,
      uid: ev.uid,
      hotkey: ev.hotkey,
    });
    const info = hotkeyInfo.get(p.hk.address);
    if (info) info.netuids.push(p.netuid);
    else
      hotkeyInfo.set(p.hk.address, { pair: p.hk, uri: p.uri, owner: p.owner.address, netuids: [p.netuid] });
  });
  for (const [address, h] of hotkeyInfo)
    manifest.hotkeys.push({ uri: h.uri, address, owner: h.owner, netuids: h.netuids });
  log.info({ hotkeys: regs.length }, 'seed: registered hotkeys');

  // 3. Random activity. Positions (coldkey, hotkey, netuid) → alpha held, from our own events.
  const held = new Map<string, bigint>();
  const posKey = (c: string, h: string, n: number) => `${c}|${h}|${n}`;
  const hotkeysOn = (n: number) => manifest.hotkeys.filter((h) => h.netuids.includes(n));
  const childrenSet = new Set<string>();
  // A move emits StakeRemoved+StakeAdded too, so every op is tracked by its events alone.
  const trackAlpha = (evs: DomainEvent[]) => {
    for (const e of evs) {
      if (e.kind === 'StakeAdded') bump(held, posKey(e.coldkey, e.hotkey, e.netuid), e.alpha);
      if (e.kind === 'StakeRemoved') bump(held, posKey(e.coldkey, e.hotkey, e.netuid), -e.alpha);
    }
  };
  const spare = coldkeys.slice(subnets);

  for (let b = 0; b < blocks; b++) {
    const requests: TxRequest[] = [];
    // What to record once the block is in: one callback per request, in order.
    const record: ((at: { blockNumber: number; extrinsicIndex: number }, evs: DomainEvent[]) => void)[] = [];
    const touched = new Set<string>();
    for (let t = 0; t < txPerBlock; t++) {
      const roll = rng.next();
      const positions = [...held.entries()].filter(([k, a]) => a > 1_000_000n && !touched.has(k));
      if (roll < 0.4 || (roll >= 0.6 && positions.length === 0)) {
        const from = rng.pick(spare);
        let to = rng.pick(coldkeys);
        if (to === from) to = coldkeys[0] as KeyringPair;
        const amount = TAO + BigInt(rng.int(100_000)) * 1_000_000n;
        requests.push({ tx: tx('balances', 'transferKeepAlive', to.address, amount), signer: from });
        record.push((at) => manifest.transfers.push({ ...at, from: from.address, to: to.address, amount }));
      } else if (roll < 0.6) {
        const netuid = rng.pick(netuids);
        const hk = rng.pick(hotkeysOn(netuid));
        const who = rng.pick(spare);
        const amount = 2n * TAO + BigInt(rng.int(20_000)) * 1_000_000n;
        requests.push({ tx: tx('subtensorModule', 'addStake', hk.address, netuid, amount), signer: who });
        record.push((at, evs) => {
          manifest.stakes.push({
            kind: 'add',
            ...at,
            coldkey: who.address,
            hotkey: hk.address,
            netuid,
            amount,
          });
          trackAlpha(evs);
        });
      } else {
        const [key, alpha] = rng.pick(positions);
        touched.add(key);
        const [coldkey, hotkey, n] = key.split('|') as [string, string, string];
        const netuid = Number(n);
        const signer = keyring.getPair(coldkey);
        const part = alpha / BigInt(2 + rng.int(3));
        if (roll < 0.8) {
          requests.push({ tx: tx('subtensorModule', 'removeStake', hotkey, netuid, part), signer });
          record.push((at, evs) => {
            manifest.stakes.push({ kind: 'remove', ...at, coldkey, hotkey, netuid, amount: part });
            trackAlpha(evs);
          });
        } else {
          const destNetuid = rng.pick(netuids);
          const dest = rng.pick(
            hotkeysOn(destNetuid).filter((h) => h.address !== hotkey || destNetuid !== netuid),
          );
          requests.push({
            tx: tx('subtensorModule', 'moveStake', hotkey, dest.address, netuid, destNetuid, part),
            signer,
          });
          record.push((at, evs) => {
            manifest.moves.push({
              ...at,
              coldkey,
              originHotkey: hotkey,
              originNetuid: netuid,
              destinationHotkey: dest.address,
              destinationNetuid: destNetuid,
              alpha: part,
            });
            trackAlpha(evs);
          });
        }
      }
    }
    // One set_children every few blocks, once per (parent, subnet): the call is rate-limited.
    if (b % 3 === 1) {
      const netuid = rng.pick(netuids);
      const candidates = hotkeysOn(netuid).filter(
        (h) =>
          !childrenSet.has(`${h.address}|${netuid}`) &&
          !manifest.subnets.some((s) => s.ownerHotkey === h.address),
      );
      const parent = candidates.length ? rng.pick(candidates) : undefined;
      const others = hotkeysOn(netuid).filter((h) => h.address !== parent?.address);
      if (parent && others.length) {
        childrenSet.add(`${parent.address}|${netuid}`);
        const child = rng.pick(others);
        const proportion = 2n ** 63n + BigInt(rng.int(1_000_000));
        requests.push({
          tx: tx('subtensorModule', 'setChildren', parent.address, netuid, [[proportion, child.address]]),
          signer: keyring.getPair(parent.owner),
        });
        record.push((at) =>
          manifest.children.push({
            ...at,
            hotkey: parent.address,
            netuid,
            children: [{ proportion, child: child.address }],
          }),
        );
      }
    }

    const results = await run(requests);
    results.forEach((r, i) =>
      record[i]?.({ blockNumber: r.blockNumber, extrinsicIndex: r.extrinsicIndex }, eventsOf(r)),
    );
    log.info(
      {
        block: results[0]?.blockNumber,
        txs: requests.length,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      },
      `seed: block ${b + 1}/${blocks}`,
    );
  }
  log.info(
    {
      seconds: Math.round((Date.now() - started) / 100) / 10,
      blocks: blockCount,
      transfers: manifest.transfers.length,
      stakeOps: manifest.stakes.length,
      moves: manifest.moves.length,
      setChildren: manifest.children.length,
    },
    'seed: done',
  );
  return manifest;
}

function bump(map: Map<string, bigint>, key: string, delta: bigint) {
  map.set(key, (map.get(key) ?? 0n) + delta);
}
