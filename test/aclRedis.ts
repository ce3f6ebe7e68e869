import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import {
  type MinerCredentials,
  applyMinerUser,
  minerRedisUrl,
  newMinerCredentials,
} from '../queues/minerAccess.ts';

/**
 * A redis-server of the test's own, with ACLs as a validator operator would run it: the default
 * user (the validator's) has a password, so a miner reaches Redis only as its own ACL user.
 * Loopback only, no persistence, stopped by `stop()`.
 */
export interface AclRedis {
  /** The validator's (operator's) URL: the default user with its password. */
  url: string;
  admin: Redis;
  /** Creates a miner's user on this server (as `vigil miners credentials --apply` does) and returns its URL. */
  addMiner(prefix: string, hotkey: string): Promise<{ url: string; credentials: MinerCredentials }>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startAclRedis(): Promise<AclRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vigil-acl-redis-'));
  const port = await freePort();
  const password = crypto.randomUUID();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const url = `redis://default:${password}@127.0.0.1:${port}`;
  const boot = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => null });
  boot.on('error', () => {});
  for (let i = 0; ; i++) {
    try {
      await boot.connect();
      break;
    } catch (e) {
      if (i > 100 || child.exitCode !== null)
        throw new Error(`redis-server on port ${port} did not start: ${(e as Error).message} ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await boot.call('ACL', 'SETUSER', 'default', 'on', `>${password}`);
  boot.disconnect();
  const admin = new Redis(url, { maxRetriesPerRequest: null });
  admin.on('error', () => {});
  return {
    url,
    admin,
    async addMiner(prefix, hotkey) {
      const credentials = newMinerCredentials(prefix, hotkey);
      await applyMinerUser(admin, credentials);
      return { url: minerRedisUrl(url, credentials), credentials };
    },
    async stop() {
      admin.disconnect();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
