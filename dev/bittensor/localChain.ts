import { readFile } from 'node:fs/promises';
import {
  BuildBlockMode,
  setStorage as chopsticksSetStorage,
  defaultLogger,
  destroyWorker,
  setupWithServer,
} from '@acala-network/chopsticks';
import { Keyring } from '@polkadot/keyring';
import { StorageKey } from '@polkadot/types';
import { bnToU8a, u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { ChainSpecNotFoundError } from '../../chains/bittensor/errors.ts';
import type { StorageOverrides } from '../../chains/bittensor/neurons.ts';
import { ConfigError } from '../../common/errors.ts';
import { type Log, silentLogger } from '../../common/logger.ts';

export type { StorageOverrides };

export interface StartLocalSubtensorOptions {
  /** Path of a raw chain spec (subtensor `scripts/specs/raonet.json`, spec_version 218). */
  specPath: string;
  /** 0 (default) picks a free port. A busy port makes chopsticks try the next ones. */
  port?: number;
  host?: string;
  /** ss58 addresses (or dev URIs like `//Bob`) to fund at genesis. //Alice is always funded. */
  fundedAccounts?: string[];
  /** Free balance of each funded account, in rao. Default 1,000,000 TAO. */
  fundAmount?: bigint;
  /** Extra storage applied at start, merged over the defaults (sudo, balances, no network rate limit). */
  storage?: StorageOverrides;
  /**
   * Level of chopsticks' own pino logger. Its per-module children (block-builder logs every block at
   * info) take their level at import from the LOG_LEVEL environment variable: set that in the entry point.
   */
  chopsticksLogLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  log?: Log;
}

export interface LocalSubtensor {
  wsUrl: string;
  port: number;
  /** ss58 (prefix 42) of //Alice, the sudo key. */
  sudo: string;
  /** Build `count` blocks with whatever is in the pool; returns the last one. */
  newBlock(count?: number): Promise<{ number: number; hash: string }>;
  /** Overwrite storage at the head (like `dev_setStorage`); falsy values like 0 are encoded, not deleted. */
  setStorage(storage: StorageOverrides | [string, string | null][]): Promise<void>;
  head(): { number: number; hash: string };
  close(): Promise<void>;
}

export const TAO = 1_000_000_000n;

/** twox128("Timestamp") ++ twox128("Now"). */
const TIMESTAMP_NOW_KEY = '0xf0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb';

interface ChainSpec {
  genesis?: { raw?: { top: Record<string, string> } };
}

/**
 * Runs a real subtensor runtime in-process with chopsticks, no upstream node, blocks built only on
 * `newBlock()`. //Alice becomes sudo; the network registration rate limit is lifted (its genesis
 * value blocks register_network until block ~11).
 */
export async function startLocalSubtensor({
  specPath,
  port = 0,
  host = '127.0.0.1',
  fundedAccounts = [],
  fundAmount = 1_000_000n * TAO,
  storage = {},
  chopsticksLogLevel = 'warn',
  log = silentLogger,
}: StartLocalSubtensorOptions): Promise<LocalSubtensor> {
  let spec: ChainSpec;
  try {
    spec = JSON.parse(await readFile(specPath, 'utf8')) as ChainSpec;
  } catch (cause) {
    if (
      (cause as NodeJS.ErrnoException).code === 'ENOENT' ||
      (cause as NodeJS.ErrnoException).code === 'EACCES'
    ) {
      throw new ChainSpecNotFoundError(specPath, { cause });
    }
    throw new ConfigError(`SUBTENSOR_SPEC: the chain spec ${specPath} is not valid JSON`, { cause });
  }
  if (!spec.genesis?.raw?.top)
    throw new ConfigError(
      `SUBTENSOR_SPEC: the chain spec ${specPath} is not a raw spec (no genesis.raw.top)`,
    );
  // Genesis has no Timestamp.Now, so chopsticks reads the wall clock twice while building block 1
  // (once for the Aura slot digest, once for the timestamp inherent); across a slot boundary the
  // runtime panics "Timestamp slot must match CurrentSlot". A fixed, slot-aligned start avoids it.
  const slotAligned = (BigInt(Date.now()) / 12_000n) * 12_000n;
  spec.genesis.raw.top[TIMESTAMP_NOW_KEY] = u8aToHex(bnToU8a(slotAligned, { bitLength: 64, isLe: true }));
  // chopsticks has one process-wide logger; it is the only knob it offers.
  defaultLogger.level = chopsticksLogLevel;

  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const toAddress = (a: string) => (a.startsWith('//') ? keyring.addFromUri(a).address : a);
  const alice = keyring.addFromUri('//Alice').address;
  const funded = [...new Set([alice, ...fundedAccounts.map(toAddress)])];

  const accountInfo = (free: bigint) => ({
    nonce: 0,
    consumers: 0,
    providers: 1,
    sufficients: 0,
    data: { free: free.toString() },
  });
  const base: StorageOverrides = {
    Sudo: { Key: alice },
    System: { Account: funded.map((a) => [[a], accountInfo(fundAmount)]) },
    // Raw hex: a plain 0 in import-storage means "delete", which restores the non-zero default.
    SubtensorModule: { NetworkRateLimit: '0x0000000000000000' },
  };
  const merged = mergeOverrides(base, storage);

  const started = Date.now();
  const ctx = await setupWithServer({
    genesis: spec as never,
    port,
    host,
    'build-block-mode': BuildBlockMode.Manual,
    'import-storage': merged,
  } as Parameters<typeof setupWithServer>[0]);
  const actualPort = Number(ctx.addr.split(':').pop());
  const wsUrl = `ws://${ctx.addr}`;
  log.info(
    { wsUrl, spec: specPath, ms: Date.now() - started, fundedAccounts: funded.length },
    'local subtensor up',
  );

  const chain = ctx.chain;
  if (chain.head.number < 1) {
    await ctx.close().finally(() => destroyWorker());
    throw new ConfigError(`local subtensor from ${specPath} could not build its first block`);
  }
  // Block building is not re-entrant: serialise callers.
  let building: Promise<unknown> = Promise.resolve();
  let closed = false;

  return {
    wsUrl,
    port: actualPort,
    sudo: alice,
    head: () => ({ number: chain.head.number, hash: chain.head.hash }),
    newBlock(count = 1) {
      const run = building.then(async () => {
        for (let i = 0; i < count; i++) await chain.newBlock();
        return { number: chain.head.number, hash: chain.head.hash };
      });
      building = run.catch(() => {});
      return run;
    },
    async setStorage(values) {
      if (Array.isArray(values)) {
        await chopsticksSetStorage(chain, values);
        return;
      }
      const meta = await chain.head.meta;
      await chopsticksSetStorage(chain, encodeOverrides(meta, values));
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await building;
        await ctx.close();
      } finally {
        // The wasm executor worker keeps the process alive otherwise.
        await destroyWorker();
        log.info({ wsUrl }, 'local subtensor closed');
      }
    },
  };
}

function mergeOverrides(a: StorageOverrides, b: StorageOverrides): StorageOverrides {
  const out: StorageOverrides = { ...a };
  for (const [pallet, items] of Object.entries(b)) out[pallet] = { ...(out[pallet] ?? {}), ...items };
  return out;
}

type DecoratedMeta = Awaited<import('@acala-network/chopsticks').Block['meta']>;

/**
 * Like chopsticks' own object form, but every value is SCALE-encoded here, so 0/false/'' are
 * written as values; only an explicit `null` deletes.
 */
export function encodeOverrides(meta: DecoratedMeta, storage: StorageOverrides): [string, string | null][] {
  const out: [string, string | null][] = [];
  const camel = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
  const encode = (key: StorageKey, value: unknown): string | null => {
    if (value === null) return null;
    if (typeof value === 'string' && value.startsWith('0x')) return value;
    return u8aToHex(meta.registry.createType(key.outputType, value).toU8a());
  };
  for (const [palletName, items] of Object.entries(storage)) {
    const pallet = meta.query[camel(palletName)];
    if (!pallet) throw new Error(`no pallet ${palletName} in runtime metadata`);
    for (const [itemName, value] of Object.entries(items)) {
      const entry = pallet[camel(itemName)];
      if (!entry) throw new Error(`no storage item ${palletName}.${itemName} in runtime metadata`);
      if (entry.meta.type.isPlain) {
        const key = new StorageKey(meta.registry, [entry]);
        out.push([key.toHex(), encode(key, value)]);
      } else {
        for (const [keys, v] of value as [unknown[], unknown][]) {
          const key = new StorageKey(meta.registry, [entry, keys]);
          out.push([key.toHex(), encode(key, v)]);
        }
      }
    }
  }
  return out;
}
