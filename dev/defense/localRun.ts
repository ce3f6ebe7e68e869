/**
 * Pieces shared by the local end-to-end runs of the defense (the bench, the demo scenario and the
 * tests): the vault fixture's invariants in the registry, the miners' hotkeys registered on a
 * local chopsticks subnet (membership comes from the chain), and `vigil defense-miner` processes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ApiPromise } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import type { z } from 'zod';
import { connectSubtensor } from '../../chains/bittensor/client.ts';
import { sendTxs, txOf } from '../../chains/bittensor/extrinsics.ts';
import type { AdminChain } from '../../chains/bittensor/neurons.ts';
import { VigilError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { findFreePort } from '../../common/ports.ts';
import type { Graph } from '../../graph/driver.ts';
import { upsertInvariant } from '../../services/defense/invariantStore.ts';
import { type Membership, createMembership } from '../../services/defense/membership.ts';
import {
  type Severity,
  type defenseActionSchema,
  validateRegistration,
} from '../../services/defense/registry.ts';
import { subnetNeurons } from '../../services/patrol/chainAccess.ts';
import { type LocalSubtensor, startLocalSubtensor } from '../bittensor/localChain.ts';
import { seedScenario } from '../bittensor/seeder.ts';
import { localMinerUser } from '../minerUsers.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The three invariants protecting the fixture's Vault (services/engine/testkit.ts), ids `<idPrefix>-owner|eth|tokens`. */
export function vaultInvariants(
  idPrefix: string,
  addresses: { vault: string; token: string },
): { severity: Severity; definition: Record<string, unknown> }[] {
  const { vault, token } = addresses;
  return [
    {
      severity: 'critical',
      definition: {
        id: `${idPrefix}-owner`,
        kind: 'ownerUnchanged',
        contract: vault,
        description: 'the vault owner must not change',
      },
    },
    {
      severity: 'high',
      definition: {
        id: `${idPrefix}-eth`,
        kind: 'balanceMaxDrop',
        account: vault,
        bps: 1000,
        description: 'the vault must not lose more than 10 % of its ETH in one tx',
      },
    },
    {
      severity: 'high',
      definition: {
        id: `${idPrefix}-tokens`,
        kind: 'erc20BalanceDrop',
        token,
        holder: vault,
        mappingSlot: 0,
        bps: 1000,
        description: 'the vault must not lose more than 10 % of its tokens in one tx',
      },
    },
  ];
}

/** Validates and upserts the vault's invariants with the given actions; returns their ids. */
export async function registerVaultInvariants(
  graph: Graph,
  opts: {
    chainId: number;
    idPrefix: string;
    addresses: { vault: string; token: string };
    /** As the registry accepts them (a pause's signature defaults to pause()). */
    actions: z.input<typeof defenseActionSchema>[];
    /** One severity for all (default: owner critical, balances high). */
    severity?: Severity;
  },
): Promise<string[]> {
  const ids: string[] = [];
  for (const inv of vaultInvariants(opts.idPrefix, opts.addresses)) {
    const r = validateRegistration({
      chainId: opts.chainId,
      severity: opts.severity ?? inv.severity,
      definition: inv.definition,
      actions: opts.actions,
    });
    await upsertInvariant(graph, r.registration, r.invariant);
    ids.push(String(inv.definition.id));
  }
  return ids;
}

/**
 * burned_register of each hotkey on `netuid`, paid by `coldkeyUri` (funded), in one block; the
 * subnet must allow that many registrations per block (the seeder lifts the limit on its subnets).
 */
export async function registerDefenseHotkeys(
  api: ApiPromise,
  chain: AdminChain,
  opts: { netuid: number; coldkeyUri: string; hotkeyUris: string[] },
): Promise<string[]> {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const coldkey = keyring.addFromUri(opts.coldkeyUri);
  const hotkeys = opts.hotkeyUris.map((u) => keyring.addFromUri(u).address);
  const registered = new Set((await subnetNeurons(api, opts.netuid)).map((n) => n.hotkey));
  const todo = hotkeys.filter((h) => !registered.has(h));
  if (todo.length > 0)
    await sendTxs(
      api,
      chain,
      todo.map((h) => ({
        tx: txOf(api, 'subtensorModule', 'burnedRegister')(opts.netuid, h),
        signer: coldkey,
      })),
    );
  const now = new Set((await subnetNeurons(api, opts.netuid)).map((n) => n.hotkey));
  const missing = hotkeys.filter((h) => !now.has(h));
  if (missing.length)
    throw new VigilError(`defense hotkeys not registered on subnet ${opts.netuid}: ${missing.join(', ')}`);
  return hotkeys;
}

/** Membership of `netuid` read from the chain, as `vigil defense-validator` builds it. */
export async function chainMembership(
  api: ApiPromise,
  netuid: number,
  log: Logger,
  refreshMs = 60_000,
  timeoutMs = 30_000,
): Promise<Membership> {
  const m = createMembership({
    load: async () => (await subnetNeurons(api, netuid)).map((n) => n.hotkey),
    refreshMs,
    timeoutMs,
    log,
    setting: `the local chain, subnet ${netuid}`,
  });
  await m.start();
  return m;
}

export interface DefenseSubnet {
  api: ApiPromise;
  chain: LocalSubtensor;
  netuid: number;
  /** The hotkeys registered, in the order of `hotkeyUris`. */
  hotkeys: string[];
  membership: Membership;
  close(): Promise<void>;
}

/**
 * A local chopsticks subtensor with one fresh subnet holding the given hotkeys, and the membership
 * read from it: for runs that have no Bittensor chain of their own (the bench, the tests).
 */
export async function startDefenseSubnet(opts: {
  specPath: string;
  hotkeyUris: string[];
  log: Logger;
}): Promise<DefenseSubnet> {
  const chain = await startLocalSubtensor({ specPath: opts.specPath, chopsticksLogLevel: 'warn' });
  try {
    const api = await connectSubtensor(chain.wsUrl, { timeoutMs: 60_000 });
    const manifest = await seedScenario(api, chain, {
      accounts: 4,
      subnets: 1,
      blocks: 0,
      hotkeysPerSubnet: 0,
      uriPrefix: '//VigilDefense',
    });
    const netuid = manifest.subnets[0]!.netuid;
    const hotkeys = await registerDefenseHotkeys(api, chain, {
      netuid,
      coldkeyUri: manifest.accounts[1]!.uri,
      hotkeyUris: opts.hotkeyUris,
    });
    const membership = await chainMembership(api, netuid, opts.log);
    return {
      api,
      chain,
      netuid,
      hotkeys,
      membership,
      async close() {
        membership.close();
        await api.disconnect();
        await chain.close();
      },
    };
  } catch (e) {
    await chain.close();
    throw e;
  }
}

/** The dev hotkey URI of a local defense miner called `name`. */
export const defenseHotkeyUri = (name: string) => `//VigilDefense/miner/${name}`;

export interface MinerProcesses {
  ids: string[];
  children: ChildProcess[];
  /** SIGTERM to each (they deregister and close), resolves when all exited (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/**
 * Starts one `vigil defense-miner` process (bin/vigil.ts defense-miner) per hotkey URI on the
 * node, Redis and queue prefix given, each with a metrics port of its own; their ids are the
 * hotkeys' addresses (register them first: registerDefenseHotkeys).
 */
export async function spawnDefenseMiners(opts: {
  hotkeyUris: string[];
  rpcUrl: string;
  chainId: number;
  redisUrl: string;
  prefix: string;
  logLevel?: string;
  /** 'inherit' (default): their logs go to this process's stdout/stderr. */
  stdio?: 'inherit' | 'ignore';
}): Promise<MinerProcesses> {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const ids = opts.hotkeyUris.map((u) => keyring.addFromUri(u).address);
  const children: ChildProcess[] = [];
  // Each miner on its own Redis user, as on a real validator's Redis (README "Onboarding a miner").
  const users = await Promise.all(ids.map((id) => localMinerUser(opts.redisUrl, opts.prefix, id)));
  for (const [i, uri] of opts.hotkeyUris.entries()) {
    children.push(
      spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'vigil.ts'), 'defense-miner'], {
        cwd: ROOT,
        env: {
          ...process.env,
          ETH_RPC_URL: opts.rpcUrl,
          ETH_CHAIN_ID: String(opts.chainId),
          REDIS_URL: users[i]!.url,
          VIGIL_QUEUE_PREFIX: opts.prefix,
          DEFENSE_MINER_HOTKEY_URI: uri,
          DEFENSE_ENGINE_POOL: '1',
          METRICS_PORT: String(await findFreePort()),
          LOG_LEVEL: opts.logLevel ?? 'warn',
        },
        stdio: ['ignore', opts.stdio ?? 'inherit', opts.stdio ?? 'inherit'],
      }),
    );
  }
  return {
    ids,
    children,
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              const t = setTimeout(() => c.kill('SIGKILL'), 5000);
              c.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              c.kill('SIGTERM');
            }),
        ),
      );
      await Promise.allSettled(users.map((u) => u.revoke()));
    },
  };
}

/** Waits until every one of `ids` heartbeats (as the validator sees them); returns the wait in ms. */
export async function waitForMiners(
  validator: { liveMiners(): Promise<string[]> },
  ids: string[],
  // Generous: three processes compiling TypeScript on a loaded 2-core machine took over a minute.
  timeoutMs = 180_000,
): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const live = new Set(await validator.liveMiners());
    if (ids.every((id) => live.has(id))) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs)
      throw new VigilError(`defense miner processes did not come up within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
