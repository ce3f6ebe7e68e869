import { once } from 'node:events';
import { decodeAddress } from '@polkadot/util-crypto';
import pTimeout from 'p-timeout';
import { connectSubtensor } from '../../chains/bittensor/client.ts';
import { UsageError, VigilError, namingSetting } from '../../common/errors.ts';
import { redactUrl } from '../../common/redact.ts';
import { createRedisConnection, requireRedis } from '../../queues/connection.ts';
import {
  applyMinerUser,
  minerRedisUrl,
  minerUsername,
  newMinerCredentials,
  revokeMinerUser,
} from '../../queues/minerAccess.ts';
import { subnetNeurons } from '../../services/patrol/chainAccess.ts';
import { DEPENDENCY_WAIT_MS, type Runtime } from '../runtime.ts';

const USAGE = 'use "vigil miners credentials <hotkey> [--apply]" or "vigil miners revoke <hotkey>"';

/**
 * The one place Vigil shows a secret: a new miner's password, once, to the operator who asked for
 * it. Written past the console (which masks URL credentials) and never through the logger.
 */
const showOnce = (text: string) => process.stdout.write(`${text}\n`);

/** The hotkey must be an ss58 address and a registered neuron of the validator's subnet. */
async function registeredHotkey(rt: Runtime, hotkey: string | undefined): Promise<string> {
  if (!hotkey) throw new UsageError(`the miner's hotkey is missing: ${USAGE}`);
  try {
    decodeAddress(hotkey);
  } catch {
    throw new UsageError(`${JSON.stringify(hotkey.slice(0, 80))} is not an ss58 hotkey address`);
  }
  const netuid = rt.config.patrol.netuid;
  const api = await namingSetting(
    'SUBTENSOR_URL',
    // Connection lines only at LOG_LEVEL=debug: this command's output is the table.
    connectSubtensor(rt.config.subtensor.url, {
      log: rt.log.child(
        { component: 'subtensor' },
        { level: rt.log.isLevelEnabled('debug') ? 'debug' : 'warn' },
      ),
    }),
  );
  try {
    const neurons = await subnetNeurons(api, netuid);
    if (!neurons.some((n) => n.hotkey === hotkey))
      throw new VigilError(`hotkey ${hotkey} is not a registered neuron of netuid ${netuid}`, {
        details: `Read from SUBTENSOR_URL (${redactUrl(rt.config.subtensor.url)}), netuid from PATROL_NETUID: the miner registers its hotkey on the subnet first.`,
      });
  } finally {
    await api.disconnect();
  }
  return hotkey;
}

/**
 * `vigil miners credentials <hotkey> [--apply]`: a miner's own Redis user (queues/minerAccess.ts)
 * for a registered hotkey. Prints the ACL SETUSER line (with the password's hash) and the miner's
 * REDIS_URL; with --apply, creates the user on the validator's Redis (REDIS_URL), saving the ACL
 * file when the server has one. `vigil miners revoke <hotkey>` deletes the user.
 */
export async function minersCommand(rt: Runtime, args: string[]): Promise<void> {
  const [sub, hotkeyArg, ...rest] = args;
  if (sub !== 'credentials' && sub !== 'revoke') throw new UsageError(`unknown miners command: ${USAGE}`);
  const unknown = rest.filter((a) => a !== '--apply' || sub !== 'credentials');
  if (unknown.length > 0) throw new UsageError(`unknown option ${unknown[0]}: ${USAGE}`);
  const apply = rest.includes('--apply');
  const prefix = rt.config.queuePrefix;
  if (sub === 'revoke') {
    if (!hotkeyArg) throw new UsageError(`the miner's hotkey is missing: ${USAGE}`);
    await withAdmin(rt, async (admin) => {
      const existed = await revokeMinerUser(admin, hotkeyArg);
      await saveAcl(rt, admin);
      console.log(
        existed
          ? `deleted Redis user ${minerUsername(hotkeyArg)} (its connections are closed)`
          : `no Redis user ${minerUsername(hotkeyArg)}: nothing to revoke`,
      );
    });
    return;
  }
  const hotkey = await registeredHotkey(rt, hotkeyArg);
  const c = newMinerCredentials(prefix, hotkey);
  if (apply) {
    await withAdmin(rt, async (admin) => {
      await applyMinerUser(admin, c);
      await saveAcl(rt, admin);
    });
    console.log(
      `created Redis user ${c.username} on ${redactUrl(rt.config.redisUrl)} (queue prefix "${prefix}")`,
    );
  } else {
    console.log("Run on the validator's Redis as an admin user (the password is stored as its SHA-256):");
    console.log(`  ${c.command}`);
  }
  showOnce(
    `Give the miner, privately (shown once, not stored):\n  REDIS_URL=${minerRedisUrl(rt.config.redisUrl, c)}\n  VIGIL_QUEUE_PREFIX=${prefix}\n(replace the host if miners reach this Redis at another address)`,
  );
}

async function withAdmin(
  rt: Runtime,
  run: (admin: ReturnType<typeof createRedisConnection>) => Promise<void>,
) {
  await requireRedis(rt.config.redisUrl, DEPENDENCY_WAIT_MS);
  const admin = createRedisConnection(rt.config.redisUrl, 'producer');
  try {
    // A producer connection refuses commands until it is ready (no offline queue).
    await pTimeout(once(admin, 'ready'), {
      milliseconds: DEPENDENCY_WAIT_MS,
      message: `Redis at ${redactUrl(rt.config.redisUrl)} (REDIS_URL) did not get ready`,
    });
    await run(admin);
  } finally {
    admin.disconnect();
  }
}

/** ACL SAVE when the server keeps users in an ACL file; otherwise says how they survive a restart. */
async function saveAcl(rt: Runtime, admin: ReturnType<typeof createRedisConnection>) {
  const [, aclfile] = ((await admin.config('GET', 'aclfile').catch(() => [])) as string[]) ?? [];
  if (aclfile) {
    await admin.call('ACL', 'SAVE');
    console.log(`saved to the server's ACL file ${aclfile}`);
  } else {
    rt.log.warn(
      'this Redis has no aclfile: users live until it restarts (set aclfile in redis.conf, or CONFIG REWRITE if it runs from a config file)',
    );
  }
}
