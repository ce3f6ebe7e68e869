import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { type JsonRpcClient, createHttpRpc } from '../../chains/ethereum/rpc.ts';
import { closeMonitorProvider, createMonitorProvider } from '../../chains/ethereum/watcher.ts';
import type { Logger } from '../../common/logger.ts';
import type { Graph } from '../../graph/driver.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { createIngestQueue } from '../../queues/ingestion.ts';
import {
  type DefenseMiner,
  type DefenseMinerDeps,
  createDefenseMiner,
} from '../../services/defense/miner.ts';
import {
  type DefenseValidator,
  type DefenseValidatorDeps,
  createDefenseValidator,
} from '../../services/defense/validator.ts';
import type { Engine } from '../../services/engine/engine.ts';
import type { LocalNode } from '../ethereum/localNode.ts';

/**
 * One defense run for tests and benches: a validator on its own queue prefix (its Redis
 * connection, ingest queue, RPC client and monitor provider) and the miners added to it, all
 * closed by `close()` in reverse order. The chain (anvil fixture), Neo4j and the membership are
 * the caller's; so are the validator's optional parts (pause agent, notifiers, canaries, rewards).
 */

/** Test miner hotkeys derived from names (`//<name>`): a miner's address is its id. */
const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
export const hotkeyOf = (name: string): KeyringPair => keyring.addFromUri(`//${name}`);
export const addressOf = (name: string): string => hotkeyOf(name).address;
/** Membership as the chain would give it (services/defense/membership.ts reads it from subtensor). */
export const membersNamed = (names: string[]) => {
  const set = new Set(names.map(addressOf));
  return { has: (h: string) => set.has(h) };
};

export interface DefenseRunOptions {
  node: LocalNode;
  graph: Graph;
  redisUrl: string;
  log: Logger;
  chainId: number;
  /** The validator's id (default: derived from the prefix). */
  id?: string;
  prefix: string;
  /** Watch over WebSocket (default: HTTP polling). */
  ws?: boolean;
  /**
   * Everything else the validator takes (members, params, pauseAgent, notifiers, rewards, ...), or
   * a function of the run's RPC client and Redis connection returning it (a pause agent or canary
   * maker built on them).
   */
  validator: ValidatorExtras | ((run: { rpc: JsonRpcClient; connection: Redis }) => ValidatorExtras);
}

export type ValidatorExtras = Omit<
  DefenseValidatorDeps,
  'id' | 'chainId' | 'connection' | 'prefix' | 'provider' | 'rpc' | 'graph' | 'ingest' | 'log'
>;

export interface MinerSpec {
  hotkey: KeyringPair;
  engine: Engine;
  tamper?: DefenseMinerDeps['tamper'];
  registry?: Registry;
  heartbeatMs?: number;
}

export interface DefenseRun {
  readonly validator: DefenseValidator;
  readonly prefix: string;
  readonly ingest: ReturnType<typeof createIngestQueue>;
  readonly rpc: ReturnType<typeof createHttpRpc>;
  /** A Redis connection of the run's own (closed with it). */
  conn(): ReturnType<typeof createRedisConnection>;
  /** Starts a real miner on the run's prefix. */
  addMiner(spec: MinerSpec): DefenseMiner;
  /** Resolves once every address in `ids` is live for the validator. */
  untilLive(ids: string[], timeoutMs?: number): Promise<string[]>;
  /** Stops the validator and starts a new one on the same prefix and id (what a restart does). */
  restart(opts?: { watch?: boolean }): Promise<DefenseValidator>;
  /** Registers something to close with the run (closed first). */
  onClose(c: () => Promise<unknown>): void;
  close(): Promise<void>;
}

/**
 * Builds the run and starts its validator (`watch: false` unless asked); with `start: false` the
 * caller starts it (`run.validator.start()`), e.g. once its miners are live.
 */
export async function startDefenseRun(
  opts: DefenseRunOptions,
  start: { watch?: boolean } | false = {},
): Promise<DefenseRun> {
  const conns: ReturnType<typeof createRedisConnection>[] = [];
  const conn = () => {
    const c = createRedisConnection(opts.redisUrl, 'worker');
    conns.push(c);
    return c;
  };
  const closers: (() => Promise<unknown>)[] = [];
  const producer = conn();
  const ingest = createIngestQueue(producer, opts.prefix);
  const rpc = createHttpRpc({ url: opts.node.rpcUrl });
  const provider = createMonitorProvider({
    url: opts.ws ? opts.node.wsUrl : opts.node.rpcUrl,
    chainId: opts.node.chainId,
  });
  const extras =
    typeof opts.validator === 'function' ? opts.validator({ rpc, connection: producer }) : opts.validator;
  const make = () =>
    createDefenseValidator({
      ...extras,
      id: opts.id ?? `v-${opts.prefix.slice(-8)}`,
      chainId: opts.chainId,
      connection: producer,
      prefix: opts.prefix,
      provider,
      rpc,
      graph: opts.graph,
      ingest,
      log: opts.log,
    });
  let validator = make();
  if (start !== false) await validator.start({ watch: start.watch ?? false });
  const miners: DefenseMiner[] = [];

  return {
    get validator() {
      return validator;
    },
    prefix: opts.prefix,
    ingest,
    rpc,
    conn,
    addMiner(spec) {
      const m = createDefenseMiner({
        hotkey: spec.hotkey,
        connection: conn(),
        prefix: opts.prefix,
        engine: spec.engine,
        log: opts.log,
        heartbeatMs: spec.heartbeatMs ?? 300,
        registry: spec.registry,
        tamper: spec.tamper,
      });
      miners.push(m);
      return m;
    },
    async untilLive(ids, timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const live = await validator.liveMiners();
        if (ids.every((m) => live.includes(m))) return live;
        if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for live miners`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async restart(o = {}) {
      await validator.close();
      validator = make();
      await validator.start({ watch: o.watch ?? false });
      return validator;
    },
    onClose(c) {
      closers.push(c);
    },
    async close() {
      for (const c of closers.reverse()) await c().catch(() => {});
      for (const m of miners) await m.close().catch(() => {});
      await validator.close().catch(() => {});
      await ingest.obliterate({ force: true }).catch(() => {});
      await ingest.close().catch(() => {});
      rpc.close();
      await closeMonitorProvider(provider).catch(() => {});
      for (const c of conns) c.disconnect();
    },
  };
}
