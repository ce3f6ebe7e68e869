/**
 * Pieces shared by the local end-to-end runs of the defense (the bench and the demo scenario):
 * the vault fixture's invariants in the registry, and `vigil defense-miner` processes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { z } from 'zod';
import { findFreePort } from '../../common/ports.ts';
import type { Graph } from '../../graph/driver.ts';
import { upsertInvariant } from '../../services/defense/invariantStore.ts';
import {
  type Severity,
  type defenseActionSchema,
  validateRegistration,
} from '../../services/defense/registry.ts';
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

export interface MinerProcesses {
  ids: string[];
  children: ChildProcess[];
  /** SIGTERM to each (they deregister and close), resolves when all exited (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/**
 * Starts `count` `vigil defense-miner` processes (bin/vigil.ts defense-miner) on the node,
 * Redis and queue prefix given, ids `<idPrefix>-m<i>`, each with a metrics port of its own.
 */
export async function spawnDefenseMiners(opts: {
  count: number;
  rpcUrl: string;
  chainId: number;
  redisUrl: string;
  prefix: string;
  idPrefix: string;
  logLevel?: string;
  /** 'inherit' (default): their logs go to this process's stdout/stderr. */
  stdio?: 'inherit' | 'ignore';
}): Promise<MinerProcesses> {
  const ids = Array.from({ length: opts.count }, (_, i) => `${opts.idPrefix}-m${i}`);
  const children: ChildProcess[] = [];
  // Each miner on its own Redis user, as on a real validator's Redis (README "Onboarding a miner").
  const users = await Promise.all(ids.map((id) => localMinerUser(opts.redisUrl, opts.prefix, id)));
  for (const [i, id] of ids.entries()) {
    children.push(
      spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'vigil.ts'), 'defense-miner'], {
        cwd: ROOT,
        env: {
          ...process.env,
          ETH_RPC_URL: opts.rpcUrl,
          ETH_CHAIN_ID: String(opts.chainId),
          REDIS_URL: users[i]!.url,
          VIGIL_QUEUE_PREFIX: opts.prefix,
          DEFENSE_MINER_ID: id,
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
  timeoutMs = 60_000,
): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const live = new Set(await validator.liveMiners());
    if (ids.every((id) => live.has(id))) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`defense miner processes did not come up within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
