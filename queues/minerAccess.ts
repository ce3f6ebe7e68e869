import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  defenseAnswerStream,
  defenseChallengeStream,
  defenseHeartbeatKey,
  patrolAnswerStream,
  patrolChallengeStream,
} from '../protocol/keys.ts';

/**
 * A miner's Redis user (ACL): it may read its own challenge streams, write its own answer streams
 * and heartbeat, and nothing else — no other key, no channel, no Lua, no KEYS/SCAN/INFO/CONFIG/ACL.
 * Key permissions are per key pattern (Redis ≥ 7: `%R~` read-only, `%W~` write-only); every pattern
 * ends in the miner's hotkey, which has no glob character or colon, so it matches its keys alone.
 */

/**
 * Every command a miner's code sends (services/*\/miner.ts; PING for /health). ioredis's own
 * CLIENT SETINFO (Redis ≥ 7.2) is refused and ignored; its ready check (INFO) is off for miners.
 */
export const MINER_COMMANDS = ['ping', 'xread', 'xadd', 'set', 'del'];

const HOTKEY = /^[A-Za-z0-9_.-]{1,128}$/;

/** Glob metacharacters of a key pattern, escaped (a prefix is the operator's free text). */
const escapeGlob = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

export const minerUsername = (hotkey: string) => `vigil-miner-${hotkey}`;

/** The key patterns of one miner: `%R~` what it reads, `%W~` what it writes. */
export function minerKeyPatterns(prefix: string, hotkey: string): string[] {
  if (!HOTKEY.test(hotkey))
    throw new RangeError(
      `miner hotkey ${JSON.stringify(hotkey.slice(0, 140))} must be 1-128 of A-Z a-z 0-9 _ . -`,
    );
  const p = escapeGlob(prefix);
  // The validator's part of an answer stream's name is a wildcard: a miner answers every validator.
  return [
    `%R~${defenseChallengeStream(p, hotkey)}`,
    `%R~${patrolChallengeStream(p, hotkey)}`,
    `%W~${defenseAnswerStream(p, '*', hotkey)}`,
    `%W~${patrolAnswerStream(p, '*', hotkey)}`,
    `%W~${defenseHeartbeatKey(p, hotkey)}`,
  ];
}

/**
 * ACL SETUSER arguments after the user name: everything reset first (no keys, channels, commands
 * or passwords left from before), then on, the password's SHA-256, the commands and the keys.
 */
export function minerAclRules(prefix: string, hotkey: string, passwordSha256: string): string[] {
  return [
    'reset',
    'on',
    `#${passwordSha256}`,
    'resetchannels',
    '-@all',
    ...MINER_COMMANDS.map((c) => `+${c}`),
    ...minerKeyPatterns(prefix, hotkey),
  ];
}

export interface MinerCredentials {
  username: string;
  /** Shown once to the operator, for the miner's REDIS_URL; Redis keeps only its SHA-256. */
  password: string;
  rules: string[];
  /** The ACL SETUSER line with the password's hash only: safe to paste into redis-cli or a log. */
  command: string;
}

export function newMinerCredentials(prefix: string, hotkey: string): MinerCredentials {
  const password = randomBytes(24).toString('base64url');
  const username = minerUsername(hotkey);
  const rules = minerAclRules(prefix, hotkey, createHash('sha256').update(password).digest('hex'));
  const quote = (a: string) =>
    /^[A-Za-z0-9_.:|#%~@+\-^*/]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`;
  return { username, password, rules, command: ['ACL', 'SETUSER', username, ...rules].map(quote).join(' ') };
}

/** The validator's Redis URL with the miner's user and password instead of the validator's. */
export function minerRedisUrl(validatorRedisUrl: string, c: Pick<MinerCredentials, 'username' | 'password'>) {
  const url = new URL(validatorRedisUrl);
  url.username = encodeURIComponent(c.username);
  url.password = encodeURIComponent(c.password);
  return url.toString();
}

/** Creates (or replaces) the miner's user on the validator's Redis. */
export async function applyMinerUser(admin: Redis, c: MinerCredentials): Promise<void> {
  await admin.call('ACL', 'SETUSER', c.username, ...c.rules);
}

/** Deletes the miner's user and closes its connections; true if it existed. */
export async function revokeMinerUser(admin: Redis, hotkey: string): Promise<boolean> {
  return (await admin.call('ACL', 'DELUSER', minerUsername(hotkey))) === 1;
}
