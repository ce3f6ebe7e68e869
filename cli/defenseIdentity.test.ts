import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../common/ports.ts';
import { STACK_LINE, runVigil } from '../test/cli.ts';

/** Defense identity and membership settings: each missing or unreachable one is named, no stack. */
describe('defense identity and membership settings', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-defense-id-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = { VIGIL_DATA_DIR: dataDir, LOG_LEVEL: 'info', ETH_RPC_URL: 'http://127.0.0.1:9' };

  it('a defense miner without its hotkey, or with a bad one, stops naming DEFENSE_MINER_HOTKEY_URI', async () => {
    const missing = await runVigil(['defense-miner'], base);
    expect(missing.code).toBe(2);
    expect(missing.output).toContain('DEFENSE_MINER_HOTKEY_URI is not set');
    // Not a mnemonic, and over 32 bytes (a shorter phrase would be taken as a raw seed).
    const secret = 'not a mnemonic and too long for a raw seed PlantedDefenseKey';
    const bad = await runVigil(['defense-miner'], { ...base, DEFENSE_MINER_HOTKEY_URI: secret });
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('DEFENSE_MINER_HOTKEY_URI is not a valid secret URI');
    expect(bad.output).not.toContain('PlantedDefenseKey');
    expect(bad.output).not.toMatch(STACK_LINE);
  }, 300_000);

  it('a defense validator without a subtensor node to read membership from stops naming SUBTENSOR_URL', async () => {
    const unset = await runVigil(['defense-validator'], base);
    expect(unset.code).toBe(2);
    expect(unset.output).toContain('SUBTENSOR_URL is not set');
    const port = await findFreePort();
    const down = await runVigil(['defense-validator'], { ...base, SUBTENSOR_URL: `ws://127.0.0.1:${port}` });
    expect(down.code).toBe(3);
    expect(down.output).toContain('SUBTENSOR_URL');
    expect(down.output).not.toMatch(STACK_LINE);
  }, 300_000);
});
