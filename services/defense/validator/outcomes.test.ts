import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JsonRpcClient, createHttpRpc } from '../../../chains/ethereum/rpc.ts';
import { type LocalNode, startAnvil } from '../../../dev/ethereum/localNode.ts';
import type { OutcomeJob } from '../../../protocol/ingest.ts';
import { createRedisConnection } from '../../../queues/connection.ts';
import { type IngestQueue, createIngestQueue } from '../../../queues/ingestion.ts';
import { newHash } from '../../../test/fixtures.ts';
import { captureLogger } from '../../../test/log.ts';
import { redisUrl, silentLogger, uniquePrefix } from '../../../test/services.ts';
import { DefenseActionError } from '../actions.ts';
import { createOutcomeRecorder, outcomeReason } from './outcomes.ts';

describe('outcomeReason', () => {
  it('keeps the reason and drops the bot token, a webhook URL secret and URL passwords', () => {
    const token = '123456:AAE-secret-bot-token';
    const url = 'https://hooks.example/path?token=abcdef123456';
    const err = new DefenseActionError('Telegram sendMessage failed', {
      details: `POST https://api.telegram.org/bot${token}/sendMessage: ECONNRESET; ${url}; http://u:pw@h/x`,
    });
    const reason = outcomeReason(err, [token, url]);
    expect(reason).toBe(
      'Telegram sendMessage failed POST https://api.telegram.org/bot***/sendMessage: ECONNRESET; https://hooks.example/path?token=***; http://u:***@h/x',
    );
    expect(reason).not.toContain('AAE-secret');
    expect(reason).not.toContain('abcdef123456');
  });
});

// The pause's verdict from real receipts on anvil (no automine: blocks come when the test mines,
// and anvil orders a block's txs by priority fee). The recorded jobs are read back from the queue.
describe('pause watch on anvil', () => {
  let node: LocalNode;
  let rpc: JsonRpcClient;
  let queue: IngestQueue;
  const conn = createRedisConnection(redisUrl(), 'worker');
  const log = silentLogger();
  beforeAll(async () => {
    node = await startAnvil({ log });
    rpc = createHttpRpc({ url: node.rpcUrl });
    queue = createIngestQueue(conn, uniquePrefix());
  }, 120_000);
  afterAll(async () => {
    await queue?.obliterate({ force: true });
    await queue?.close();
    conn.disconnect();
    rpc?.close();
    await node?.stop();
  });

  const gwei = (n: number) => `0x${(BigInt(n) * 1_000_000_000n).toString(16)}`;
  const send = (from: number, tipGwei: number) =>
    node.rpc<string>('eth_sendTransaction', [
      {
        from: node.accounts[from]!.address,
        to: node.accounts[9]!.address,
        value: '0x1',
        maxPriorityFeePerGas: gwei(tipGwei),
        maxFeePerGas: gwei(100),
      },
    ]);
  /** A contract creation whose code reverts (PUSH1 0 PUSH1 0 REVERT): mined with status 0x0. */
  const sendReverting = (from: number, tipGwei: number) =>
    node.rpc<string>('eth_sendTransaction', [
      {
        from: node.accounts[from]!.address,
        data: '0x60006000fd',
        gas: '0x30000',
        maxPriorityFeePerGas: gwei(tipGwei),
        maxFeePerGas: gwei(100),
      },
    ]);
  const receipt = (h: string) =>
    node.rpc<{ blockNumber: string; transactionIndex: string }>('eth_getTransactionReceipt', [h]);
  const recorded = async (alertId: string) => {
    const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
    return jobs.map((j) => j.data as OutcomeJob).filter((j) => j.alertId === alertId);
  };
  const watch = (
    pauseHash: string,
    attackHash: string,
    opts: { rpc?: JsonRpcClient; log?: typeof log; maxFailures?: number } = {},
  ) => {
    const alertId = `ethereum:31337:${attackHash}:inv-${crypto.randomUUID()}`;
    const track: Promise<unknown>[] = [];
    const r = createOutcomeRecorder({
      validatorId: 'v-test',
      ingest: queue,
      rpc: opts.rpc ?? rpc,
      log: opts.log ?? log,
      maxFailures: opts.maxFailures,
      track: (p) => void track.push(p),
      pauseBlocks: 2,
      pollMs: 50,
    });
    const done = r.watchPause({ alertId, index: 0, pauseHash, attackHash });
    return { alertId, done: done.then(() => Promise.all(track)) };
  };

  it('landed first: same block, lower index than the attack (read back from the receipts)', async () => {
    // First in and the higher tip: first in the block whether the pool orders by arrival or by fee.
    const pause = await send(2, 5);
    const attack = await send(1, 2);
    const w = watch(pause, attack);
    await node.mine();
    await w.done;
    const [p, a] = [await receipt(pause), await receipt(attack)];
    expect(p.blockNumber).toBe(a.blockNumber);
    expect(Number(p.transactionIndex)).toBeLessThan(Number(a.transactionIndex));
    const [o] = await recorded(w.alertId);
    expect(o).toMatchObject({ action: 'pause', status: 'landed-first', landedFirst: true, txHash: pause });
    expect(o!.detail).toBe(
      `pause block ${Number(p.blockNumber)} index ${Number(p.transactionIndex)}; attack block ${Number(a.blockNumber)} index ${Number(a.transactionIndex)}`,
    );
  });

  it('landed after: the attack outbid the pause in the same block', async () => {
    const attack = await send(3, 9); // first in, higher tip
    const pause = await send(4, 1);
    const w = watch(pause, attack);
    await node.mine();
    await w.done;
    const [p, a] = [await receipt(pause), await receipt(attack)];
    expect(Number(p.transactionIndex)).toBeGreaterThan(Number(a.transactionIndex));
    expect(await recorded(w.alertId)).toMatchObject([
      { status: 'landed-after', landedFirst: false, txHash: pause },
    ]);
  });

  it('reverted: a pause mined before the attack but reverted never counts as landed first', async () => {
    const pause = await sendReverting(6, 5);
    const attack = await send(7, 2);
    const w = watch(pause, attack);
    await node.mine();
    await w.done;
    const [p, a] = [await receipt(pause), await receipt(attack)];
    expect((p as { status?: string }).status).toBe('0x0');
    expect(Number(p.transactionIndex)).toBeLessThan(Number(a.transactionIndex));
    const [o] = await recorded(w.alertId);
    expect(o).toMatchObject({ status: 'reverted', landedFirst: false, txHash: pause });
    expect(o!.detail).toBe(
      `pause block ${Number(p.blockNumber)} index ${Number(p.transactionIndex)} reverted; attack block ${Number(a.blockNumber)} index ${Number(a.transactionIndex)}`,
    );
  });

  /** The real client, with its first `n` receipt reads failing as a node blip would (or all). */
  const blipping = (n: number): JsonRpcClient => {
    let left = n;
    return {
      ...rpc,
      call: <T>(method: string, params?: unknown[]) => {
        if (method === 'eth_getTransactionReceipt' && left-- > 0)
          return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8545'));
        return rpc.call<T>(method, params);
      },
    };
  };

  it('looks past a node blip: two failed receipt reads, then the verdict from the receipts', async () => {
    const pause = await send(6, 5);
    const attack = await send(7, 2);
    const w = watch(pause, attack, { rpc: blipping(2) });
    await node.mine();
    await w.done;
    expect(await recorded(w.alertId)).toMatchObject([
      { status: 'landed-first', landedFirst: true, txHash: pause },
    ]);
  });

  it('gives up after maxFailures failed reads in a row, logged, recording nothing more', async () => {
    const { log: captured, lines } = captureLogger('warn');
    const attack = await send(5, 2);
    const w = watch(newHash(), attack, {
      rpc: blipping(Number.POSITIVE_INFINITY),
      log: captured,
      maxFailures: 3,
    });
    await w.done;
    expect(await recorded(w.alertId)).toEqual([]);
    expect(lines.map((l) => [l.msg, l.failures, l.err])).toEqual([
      ['pause receipt watch gave up: its outcome stays "sent"', 3, 'connect ECONNREFUSED 127.0.0.1:8545'],
    ]);
    await node.mine();
  });

  it('not mined: no receipt within the blocks allowed', async () => {
    const attack = await send(5, 2);
    const never = newHash(); // a pause the node never received
    const w = watch(never, attack);
    await new Promise((r) => setTimeout(r, 300)); // the watch reads its start block first
    await node.mine(3);
    await w.done;
    const [o] = await recorded(w.alertId);
    expect(o).toMatchObject({ status: 'not-mined', landedFirst: false, txHash: never });
    expect(o!.detail).toMatch(/^not mined in \d+ blocks after \d+; attack mined in block \d+$/);
  });
});
