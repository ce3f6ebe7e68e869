import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RpcTransaction } from '../../../chains/ethereum/types.ts';
import type { Graph } from '../../../graph/driver.ts';
import { createRedisConnection } from '../../../queues/connection.ts';
import { createIngestQueue } from '../../../queues/ingestion.ts';
import { newEthAddress, newHash } from '../../../test/fixtures.ts';
import { captureLogger } from '../../../test/log.ts';
import { openTestGraph, redisUrl, uniquePrefix, waitFor } from '../../../test/services.ts';
import { SIGNATURE_HEADER, signBody } from '../actions.ts';
import type { InvariantConsensus } from '../consensus.ts';
import { upsertInvariant } from '../invariantStore.ts';
import { type RegisteredInvariant, validateRegistration } from '../registry.ts';
import { type Violation, createDispatch } from './dispatch.ts';
import { countOf, createDefenseMetrics } from './metrics.ts';
import type { RoundReport } from './types.ts';

/** Action dispatch against the real ingest queue (BullMQ on Redis) and a real HTTP webhook receiver. */
describe('action dispatch', () => {
  let conn: ReturnType<typeof createRedisConnection>;
  let graph: Graph;
  let server: http.Server;
  let hookUrl: string;
  const received: { body: string; signature: string }[] = [];
  beforeAll(async () => {
    conn = createRedisConnection(redisUrl(), 'worker');
    graph = await openTestGraph();
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ body, signature: String(req.headers[SIGNATURE_HEADER]) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    conn?.disconnect();
    await graph?.close();
    await new Promise((r) => server?.close(r));
  });

  async function invariant(actions: unknown[]): Promise<RegisteredInvariant> {
    const chainId = 900_000 + Math.floor(Math.random() * 90_000);
    const reg = validateRegistration({
      chainId,
      definition: { id: `dispatch-${chainId}`, kind: 'ownerUnchanged', contract: newEthAddress() },
      actions,
    });
    return upsertInvariant(graph, reg.registration, reg.invariant);
  }
  const consensus = (id: string): InvariantConsensus => ({
    id,
    outcome: 'violated',
    votes: { violated: 2, holds: 1, error: 0, missing: 0 },
    asked: 3,
    agreeing: ['m1', 'm2'],
    before: '0x1',
    after: '0x2',
  });
  const report = (): RoundReport => ({
    challengeId: 'c',
    txHash: '',
    from: '',
    asked: [],
    answers: 0,
    consensus: [],
    latencies: [],
    pauses: [],
    findings: [],
    marks: { seen: performance.now(), sent: 0, closed: 0 },
  });

  it('queues the finding, sends the signed webhook, counts a pause it cannot send, then calls onViolation', async () => {
    const inv = await invariant([
      { kind: 'pause' },
      { kind: 'webhook', url: hookUrl },
      { kind: 'telegram', chatId: '1' },
    ]);
    const prefix = uniquePrefix();
    const ingest = createIngestQueue(conn, prefix);
    const metrics = createDefenseMetrics();
    const { log, lines } = captureLogger();
    const background: Promise<unknown>[] = [];
    const violations: Violation[] = [];
    const dispatch = createDispatch({
      id: 'v1',
      chainId: inv.chainId,
      ingest,
      log,
      metrics,
      notifiers: { webhookSecret: 's3cret', telegram: { baseUrl: 'http://127.0.0.1:9', token: '' } },
      onViolation: (v) => void violations.push(v),
      track: (p) => void background.push(p),
    });
    const tx: RpcTransaction = {
      hash: newHash(),
      from: newEthAddress(),
      to: inv.contract,
      nonce: '0x3',
      gas: '0x1',
    };
    const r = report();
    await dispatch(inv, consensus(inv.id), tx, r);
    await Promise.all(background);
    // The finding, in the real queue.
    expect(r.findings.length).toBe(1);
    const job = await ingest.getJob(r.findings[0]!);
    expect(job!.data).toMatchObject({
      kind: 'finding',
      chainId: inv.chainId,
      invariant: { id: inv.id },
      tx: { hash: tx.hash!.toLowerCase(), nonce: 3 },
      // The tx calls the protected contract itself: no other contract to follow.
      attackerContracts: [],
      consensus: { violated: 2, total: 3, miners: ['m1', 'm2'] },
      validator: { hotkey: 'v1' },
    });
    // The webhook, signed with the secret.
    expect(received.length).toBe(1);
    expect(received[0]!.signature).toBe(signBody(received[0]!.body, 's3cret'));
    expect(JSON.parse(received[0]!.body)).toMatchObject({
      event: 'alert',
      invariant: { id: inv.id },
      pause: null,
    });
    expect(await countOf(metrics.actions, { kind: 'webhook', result: 'sent' })).toBe(1);
    // No guardian key: counted and said; no Telegram token: said, not sent.
    expect(await countOf(metrics.actions, { kind: 'pause', result: 'no-guardian' })).toBe(1);
    expect(r.pauses).toEqual([]);
    expect(lines.some((l) => /DEFENSE_TELEGRAM_BOT_TOKEN is not set/.test(l.msg))).toBe(true);
    expect(violations.length).toBe(1);
    expect(violations[0]).toMatchObject({ invariant: { id: inv.id }, tx: { hash: tx.hash }, pause: null });
    await ingest.obliterate({ force: true });
    await ingest.close();
  });

  it('a failing onViolation is logged, never thrown into the round', async () => {
    const inv = await invariant([]);
    const prefix = uniquePrefix();
    const ingest = createIngestQueue(conn, prefix);
    const { log, lines } = captureLogger();
    const background: Promise<unknown>[] = [];
    const dispatch = createDispatch({
      id: 'v1',
      chainId: inv.chainId,
      ingest,
      log,
      metrics: createDefenseMetrics(),
      onViolation: () => {
        throw new Error('trail lookup down');
      },
      track: (p) => void background.push(p),
    });
    const tx: RpcTransaction = {
      hash: newHash(),
      from: newEthAddress(),
      to: inv.contract,
      nonce: '0x0',
      gas: '0x1',
    };
    await dispatch(inv, consensus(inv.id), tx, report());
    await Promise.all(background);
    await waitFor('the warning', async () => lines.some((l) => l.msg === 'onViolation failed'));
    expect(lines.find((l) => l.msg === 'onViolation failed')!.err).toBe('trail lookup down');
    await ingest.obliterate({ force: true });
    await ingest.close();
  });
});
