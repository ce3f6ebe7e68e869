import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.ts';
import { ConfigError } from '../common/errors.ts';
import { STACK_LINE, runVigil } from '../test/cli.ts';

/** Every bad setting fails naming its variable and what it expects, with exit code 2 and no stack. */
describe('bad settings', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-settings-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = { VIGIL_DATA_DIR: dataDir, LOG_LEVEL: 'info' };

  it.each([
    // [command, variable, value, what the message must say]
    [['api'], 'NEO4J_URI', 'foo', /bolt:\/\/.*neo4j:\/\//],
    [['api'], 'API_PORT', 'abc', /whole number from 0 to 65535/],
    [['ingest', 'stats'], 'REDIS_URL', 'http://127.0.0.1:6379', /redis:\/\/, rediss:\/\//],
    [['infra', 'up'], 'NEO4J_HTTP_PORT', '70000', /whole number from 1 to 65535/],
  ])('vigil %s with %s=%s', async (args, name, value, expected) => {
    const run = await runVigil(args, { ...base, [name]: value });
    expect(run.code).toBe(2);
    const firstLine = run.output.trim().split('\n')[0];
    expect(firstLine).toContain(name);
    expect(firstLine).toMatch(expected);
    expect(run.output).not.toMatch(STACK_LINE);
    expect(run.output).not.toMatch(/received nan|Unknown scheme/i);
  });

  it('vigil demo with a missing SUBTENSOR_SPEC names it before starting anything', async () => {
    const spec = path.join(dataDir, 'no-such-spec.json');
    const run = await runVigil(['demo', '--exit'], { ...base, SUBTENSOR_SPEC: spec });
    expect(run.code).toBe(2);
    expect(run.output).toContain('SUBTENSOR_SPEC');
    expect(run.output).toContain(spec);
    expect(run.output).not.toMatch(STACK_LINE);
    // Failed before the infrastructure step: nothing was started for a demo that cannot run.
    expect(run.output).not.toContain('infrastructure');
  });

  it('a failure that is not a VigilError prints its message, and the stack only with LOG_LEVEL=debug', async () => {
    // An unknown subcommand is a usage error (2); a bad LOG_LEVEL names the variable itself.
    const usage = await runVigil(['infra', 'sideways'], base);
    expect(usage.code).toBe(2);
    expect(usage.output).toMatch(/unknown infra command "sideways"/);
    expect(usage.output).not.toMatch(STACK_LINE);
    const level = await runVigil(['ingest', 'stats'], { ...base, LOG_LEVEL: 'loud' });
    expect(level.code).toBe(2);
    expect(level.output).toMatch(/LOG_LEVEL="loud" is invalid: expected one of fatal, error/);
  });
});

describe('loadConfig names each bad setting and the fix', () => {
  const messageFor = (env: Record<string, string>): string => {
    try {
      loadConfig(env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
  };

  it.each([
    [
      'NEO4J_URI',
      'http://127.0.0.1:7474',
      /NEO4J_URI="http:\/\/127\.0\.0\.1:7474" is invalid: expected a bolt:\/\//,
    ],
    ['NEO4J_URI', 'bolt://', /NEO4J_URI=.* with a host/],
    ['REDIS_URL', 'localhost:6379', /REDIS_URL="localhost:6379" is invalid: expected a redis:\/\//],
    ['NEO4J_HTTP_PORT', '0', /NEO4J_HTTP_PORT="0" is invalid: expected a whole number from 1 to 65535/],
    ['METRICS_PORT', '1.5', /METRICS_PORT="1\.5" is invalid: expected a whole number from 0 to 65535/],
    ['API_PORT', '-1', /API_PORT="-1" is invalid: expected a whole number from 0 to 65535/],
    [
      'INGEST_CONCURRENCY',
      '100',
      /INGEST_CONCURRENCY="100" is invalid: expected a whole number from 1 to 64/,
    ],
    ['PATROL_WINDOW', 'many', /PATROL_WINDOW="many" is invalid: expected a whole number ≥ 1/],
    ['NEO4J_HEAP', 'lots', /NEO4J_HEAP="lots" is invalid: expected a size such as 512m/],
    ['ETH_RPC_URL', 'ws://127.0.0.1:8545', /ETH_RPC_URL=.* expected a http:\/\/, https:\/\/ URL/],
    ['ETH_WS_URL', 'http://127.0.0.1:8545', /ETH_WS_URL=.* expected a ws:\/\/, wss:\/\/ URL/],
    ['SUBTENSOR_URL', '127.0.0.1:9944', /SUBTENSOR_URL=.* expected a ws:\/\/, wss:\/\/ URL/],
    ['ETH_HARDFORK', 'london', /ETH_HARDFORK="london" is invalid: expected one of shanghai, cancun/],
    ['DEFENSE_CONSENSUS', '0.4', /DEFENSE_CONSENSUS="0\.4" is invalid/],
  ])('%s=%s', (name, value, expected) => {
    const message = messageFor({ [name]: value });
    expect(message).toMatch(expected);
    expect(message).toContain(`Fix ${name}`);
  });

  it('lists every bad setting, one per line', () => {
    const lines = messageFor({ API_PORT: 'x', REDIS_URL: 'y', LOG_LEVEL: 'z' }).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l.slice(0, l.indexOf('=')))).toEqual(
      expect.arrayContaining(['API_PORT', 'REDIS_URL', 'LOG_LEVEL']),
    );
  });

  it('never echoes a secret setting, and masks the password of a URL setting', () => {
    const keys = messageFor({ VIGIL_API_KEYS: 'read:short-PLANTED' });
    expect(keys).toContain('VIGIL_API_KEYS');
    expect(keys).not.toContain('short-PLANTED');
    const uri = messageFor({ NEO4J_URI: 'http://neo4j:pw-PLANTED@127.0.0.1:7687' });
    expect(uri).toContain('NEO4J_URI');
    expect(uri).not.toContain('pw-PLANTED');
  });

  it('DEFENSE_CANARY_KEYS: a list of keys, each checked, never echoed', () => {
    const bad = messageFor({ DEFENSE_CANARY_KEYS: `0x${'c3'.repeat(32)},0xPLANTED` });
    expect(bad).toMatch(
      /DEFENSE_CANARY_KEYS.* expected comma-separated 0x-prefixed 32-byte hex private keys/,
    );
    expect(bad).not.toContain('PLANTED');
    expect(bad).not.toContain('c3c3c3c3');
    const c = loadConfig({ DEFENSE_CANARY_KEYS: ` 0x${'c3'.repeat(32)} , 0x${'d4'.repeat(32)}` });
    expect(c.defense.canaryKeys).toEqual([`0x${'c3'.repeat(32)}`, `0x${'d4'.repeat(32)}`]);
    expect(c.defense.canariesPerEpoch).toBe(3);
    expect(loadConfig({}).defense.canaryKeys).toEqual([]);
    expect(messageFor({ DEFENSE_CANARIES_PER_EPOCH: '-1' })).toMatch(
      /DEFENSE_CANARIES_PER_EPOCH="-1" is invalid/,
    );
  });

  it('accepts the documented forms', () => {
    const c = loadConfig({
      NEO4J_URI: 'neo4j+s://db.example.com',
      REDIS_URL: 'rediss://user:pw@cache.example.com:6380/2',
      API_PORT: '0',
      NEO4J_HEAP: '2g',
      ETH_RPC_URL: 'https://rpc.example.com/v3/key',
    });
    expect([c.neo4j.uri, c.redisUrl, c.api.port, c.neo4j.heap]).toEqual([
      'neo4j+s://db.example.com',
      'rediss://user:pw@cache.example.com:6380/2',
      0,
      '2g',
    ]);
  });
});
