import { describe, expect, it } from 'vitest';
import { findFreePort } from '../common/ports.ts';
import { STACK_LINE, runVigil } from '../test/cli.ts';

/** PATROL_ETH_RPC_URL turns Ethereum Patrol on; a node it cannot use is named before anything else. */
describe('PATROL_ETH_RPC_URL', () => {
  const base = { LOG_LEVEL: 'info', PATROL_HOTKEY_URI: '//eth-cli', SUBTENSOR_URL: 'ws://127.0.0.1:1' };

  it('must be an http(s) URL', async () => {
    const run = await runVigil(['patrol-miner'], { ...base, PATROL_ETH_RPC_URL: 'ws://127.0.0.1:8545' });
    expect(run.code).toBe(2);
    const firstLine = run.output.trim().split('\n')[0];
    expect(firstLine).toContain('PATROL_ETH_RPC_URL');
    expect(firstLine).toMatch(/http:\/\/, https:\/\//);
    expect(run.output).not.toMatch(STACK_LINE);
  });

  it.each([['patrol-miner'], ['patrol-validator']])(
    '%s with an unreachable node fails naming it, before connecting to subtensor',
    async (command) => {
      const port = await findFreePort();
      const run = await runVigil([command], { ...base, PATROL_ETH_RPC_URL: `http://127.0.0.1:${port}` });
      expect(run.code).not.toBe(0);
      expect(run.output).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} unreachable.*\\(PATROL_ETH_RPC_URL\\)`));
      expect(run.output).not.toContain('SUBTENSOR_URL');
      expect(run.output).not.toMatch(STACK_LINE);
    },
  );
});
