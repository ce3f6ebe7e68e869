import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusedPort, runVigil } from '../test/cli.ts';

/**
 * Every command that can fail at start, started with a secret planted in every secret setting and
 * the dependency it needs first not answering: its output (stdout and stderr) names the setting to
 * fix and contains none of the secrets.
 */
const MNEMONIC = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';
const GUARDIAN = `0x${'ab12'.repeat(16)}`;
const CANARY_KEY = `0x${'cd34'.repeat(16)}`;

describe('no secret in what a failing command prints', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-secrets-'));
  let port = 0;
  let env: Record<string, string> = {};
  /** The planted values: none may appear in any output. */
  let secrets: string[] = [];

  beforeAll(async () => {
    port = await refusedPort();
    env = {
      VIGIL_DATA_DIR: dataDir,
      VIGIL_QUEUE_PREFIX: `secrets-${process.pid}`,
      LOG_LEVEL: 'info',
      METRICS_PORT: '0',
      API_PORT: '0',
      NEO4J_URI: `bolt://neo4j:uripass-PLANTED-91c2@127.0.0.1:${port}`,
      NEO4J_PASSWORD: 'neo4jpass-PLANTED-7f3a',
      REDIS_URL: `redis://default:redispass-PLANTED-55e1@127.0.0.1:${port}`,
      VIGIL_API_KEYS: 'read:readkey-PLANTED-0123456789,write:writekey-PLANTED-0123456789',
      PATROL_HOTKEY_URI: `${MNEMONIC}//PlantedHotkey`,
      DEFENSE_MINER_HOTKEY_URI: `${MNEMONIC}//PlantedDefenseHotkey`,
      DEFENSE_CANARY_KEYS: CANARY_KEY,
      DEFENSE_GUARDIAN_KEY: GUARDIAN,
      DEFENSE_WEBHOOK_SECRET: 'webhook-PLANTED-c0ffee',
      DEFENSE_TELEGRAM_BOT_TOKEN: '123456:telegram-PLANTED-token',
      ETH_RPC_URL: `http://127.0.0.1:${port}/v3/rpcpathkeyPLANTED0123456789abcdef?apikey=rpcquery-PLANTED-1`,
      ETH_WS_URL: `ws://wsuser:wspass-PLANTED-2@127.0.0.1:${port}`,
      SUBTENSOR_URL: `ws://subuser:subpass-PLANTED-3@127.0.0.1:${port}`,
    };
    secrets = [
      'uripass-PLANTED-91c2',
      'neo4jpass-PLANTED-7f3a',
      'redispass-PLANTED-55e1',
      'readkey-PLANTED-0123456789',
      'writekey-PLANTED-0123456789',
      MNEMONIC,
      'PlantedHotkey',
      'PlantedDefenseHotkey',
      CANARY_KEY.slice(2),
      GUARDIAN.slice(2),
      'webhook-PLANTED-c0ffee',
      'telegram-PLANTED-token',
      'rpcpathkeyPLANTED0123456789abcdef',
      'rpcquery-PLANTED-1',
      'wspass-PLANTED-2',
      'subpass-PLANTED-3',
    ];
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // [command, the setting its message must name, settings overridden for this case]
  const cases: [string[], string, Record<string, string>?][] = [
    [['api'], 'NEO4J_URI'],
    [['ingest-worker'], 'NEO4J_URI'],
    [['ingest', 'stats'], 'REDIS_URL'],
    [['ingest', 'retry-failed'], 'REDIS_URL'],
    [['invariants', 'list'], 'NEO4J_URI'],
    [['invariants', 'list'], 'NEO4J_URI', { LOG_LEVEL: 'debug' }],
    [['patrol-miner'], 'SUBTENSOR_URL'],
    [['patrol-validator'], 'SUBTENSOR_URL'],
    [['patrol-miner'], 'PATROL_HOTKEY_URI', { PATROL_HOTKEY_URI: 'not-a-mnemonic PlantedHotkey words' }],
    [['defense-miner'], 'ETH_RPC_URL'],
    // The validator reads its members from the subnet before it watches the Ethereum node.
    [['defense-validator'], 'SUBTENSOR_URL'],
  ];

  it.each(cases)('vigil %s names %s and prints no secret', async (args, variable, overrides = {}) => {
    const run = await runVigil(
      args,
      { ...env, ...overrides },
      {
        // Long-running services may start degraded instead of exiting: stop them once they said why.
        stopWhen: new RegExp(variable),
        killAfterMs: 90_000,
      },
    );
    expect(run.output).toContain(variable);
    for (const secret of secrets) expect(run.output).not.toContain(secret);
  });

  it('vigil infra up with a non-local REDIS_URL names it and prints no secret', async () => {
    const run = await runVigil(['infra', 'up'], {
      ...env,
      REDIS_URL: `redis://default:redispass-PLANTED-55e1@127.0.0.2:${port}`,
    });
    expect(run.code).toBe(3);
    expect(run.output).toContain('REDIS_URL');
    expect(run.output).toContain('redis://default:***@127.0.0.2');
    for (const secret of secrets) expect(run.output).not.toContain(secret);
  });
});
