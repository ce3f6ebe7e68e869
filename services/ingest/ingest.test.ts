import { type Job, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidPayloadError, ServiceUnavailableError } from '../../common/errors.ts';
import { getAlert } from '../../graph/alerts.ts';
import type { Graph } from '../../graph/driver.ts';
import { writeFinding, writeSubgraph } from '../../graph/ingest.ts';
import { writeOutcome } from '../../graph/outcomes.ts';
import { alertId } from '../../protocol/ids.ts';
import {
  type FindingJob,
  JOB_LIMITS,
  type OutcomeJob,
  type SubgraphJob,
  parseIngestJob,
} from '../../protocol/ingest.ts';
import { alertChannel } from '../../protocol/keys.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { type IngestQueue, createIngestQueue, enqueueIngest } from '../../queues/ingestion.ts';
import { createTestApi } from '../../test/api.ts';
import { newHash, newSs58, sampleFinding, sampleSubgraph } from '../../test/fixtures.ts';
import {
  openTestGraph,
  redisUrl,
  startTestIngestWorker,
  uniquePrefix,
  waitFor,
} from '../../test/services.ts';

let graph: Graph;
beforeAll(async () => {
  graph = await openTestGraph();
});
afterAll(() => graph.close());

/**
 * A queue, its events and a worker on a prefix of their own; `graphFor` lets a test inject faults.
 * `firstWorkerDies`: the first worker stops for good after its first write, holding its job (a
 * crash mid-job); `replaceDeadWorker()` gives up on it and starts a healthy one.
 */
async function harness(
  opts: {
    graphFor?: (g: Graph) => Graph;
    lockDurationMs?: number;
    firstWorkerDies?: boolean;
    concurrency?: number;
  } = {},
) {
  let dying = opts.firstWorkerDies === true;
  if (dying) {
    opts.lockDurationMs ??= 1500;
    opts.graphFor = (g) => ({
      ...g,
      write: async (work, o) => {
        const r = await g.write(work, o);
        if (dying) await new Promise(() => {});
        return r;
      },
    });
  }
  const prefix = uniquePrefix();
  const producer = createRedisConnection(redisUrl(), 'producer');
  const workerConn = createRedisConnection(redisUrl(), 'worker');
  const eventsConn = createRedisConnection(redisUrl(), 'worker');
  const queue = createIngestQueue(producer, prefix);
  const events = new QueueEvents('ingest', { connection: eventsConn, prefix });
  await events.waitUntilReady();
  const start = () =>
    startTestIngestWorker(workerConn, prefix, opts.graphFor ? opts.graphFor(graph) : graph, {
      concurrency: opts.concurrency ?? 1,
      batchSize: 2,
      lockDurationMs: opts.lockDurationMs,
      stalledIntervalMs: opts.lockDurationMs,
    });
  // Every worker started is closed with the harness (a test may start a second one).
  const workers = [start()];
  return {
    prefix,
    queue,
    events,
    worker: workers[0]!,
    async replaceDeadWorker() {
      await workers[0]!.close(true);
      dying = false;
      const w = start();
      workers.push(w);
      return w;
    },
    start: () => {
      const w = start();
      workers.push(w);
      return w;
    },
    async close() {
      for (const w of workers) await w.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      producer.disconnect();
      workerConn.disconnect();
      eventsConn.disconnect();
    },
  };
}

async function finished(queue: IngestQueue, events: QueueEvents, id: string) {
  const job = (await queue.getJob(id))!;
  return job.waitUntilFinished(events, 60_000);
}

/**
 * The real graph, with `before(n)` awaited before the n-th statement (from 1) of each write
 * transaction: to fail or meddle in the middle of one.
 */
function aroundRuns(g: Graph, before: (n: number) => Promise<void>): Graph {
  return {
    ...g,
    write: (work, o) =>
      g.write((tx) => {
        let n = 0;
        const run = async (...args: Parameters<typeof tx.run>) => {
          await before(++n);
          return tx.run(...args);
        };
        return work({ ...tx, run } as typeof tx);
      }, o),
  };
}

/** Wallets among `addresses`, their relationships, and Submissions with this id. */
async function countWithSubmission(addresses: string[], submissionId: string) {
  const res = await graph.read((tx) =>
    tx.run('MATCH (s:Submission {id: $submissionId}) RETURN count(s) AS n', { submissionId }),
  );
  return { ...(await countFor(addresses)), submissions: res.records[0]!.get('n') as number };
}

async function countFor(addresses: string[]) {
  const res = await graph.read((tx) =>
    tx.run(
      `MATCH (w:Wallet {chain: 'bittensor'}) WHERE w.address IN $addresses
       OPTIONAL MATCH (w)-[r]->(:Wallet)
       RETURN count(DISTINCT w) AS nodes, count(DISTINCT r) AS rels`,
      { addresses },
    ),
  );
  return { nodes: res.records[0]!.get('nodes') as number, rels: res.records[0]!.get('rels') as number };
}

const QUERY = `query ($address: String!) {
  wallet(chain: BITTENSOR, address: $address) {
    chain address isHotkey firstSeenBlock lastSeenBlock
    neighbors(direction: BOTH, first: 10) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node { address isHotkey }
        relationship {
          id type direction from to amount alphaAmount blockNumber blockHash eventIndex extrinsicIndex netuid proportion
          provenance { miners validators firstAcceptedAt }
        }
      }
    }
  }
}`;

async function gql(query: string, variables: Record<string, unknown>) {
  const yoga = createTestApi({ graph });
  const res = await yoga.fetch('http://vigil.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

describe('ingestion queue → Neo4j → GraphQL', () => {
  it('returns an ingested subgraph field by field', async () => {
    const h = await harness();
    try {
      const job = sampleSubgraph();
      const id = await enqueueIngest(h.queue, job);
      const result = await finished(h.queue, h.events, id);
      expect(result).toMatchObject({ kind: 'subgraph', nodes: 6, edges: 5 });

      const { data, errors } = await gql(QUERY, { address: job.target });
      expect(errors).toBeUndefined();
      const w = data.wallet;
      const transfer = job.edges[0]!;
      const stake = job.edges[1]!;
      expect(w).toMatchObject({
        chain: 'BITTENSOR',
        address: job.target,
        isHotkey: false,
        firstSeenBlock: transfer.evidence.blockNumber,
        lastSeenBlock: stake.evidence.blockNumber,
      });
      expect(w.neighbors.totalCount).toBe(2);
      expect(w.neighbors.pageInfo.hasNextPage).toBe(false);
      const byType = Object.fromEntries(w.neighbors.edges.map((e: any) => [e.relationship.type, e]));
      expect(byType.TRANSFER).toEqual({
        node: { address: transfer.to, isHotkey: false },
        relationship: {
          id: `bittensor:TRANSFER:${transfer.evidence.blockNumber}:3:0`,
          type: 'TRANSFER',
          direction: 'OUT',
          from: job.target,
          to: transfer.to,
          amount: '1500000000',
          alphaAmount: null,
          blockNumber: transfer.evidence.blockNumber,
          blockHash: transfer.evidence.blockHash,
          eventIndex: 3,
          extrinsicIndex: 2,
          netuid: null,
          proportion: null,
          provenance: {
            miners: [job.miner.hotkey],
            validators: [job.validator.hotkey],
            firstAcceptedAt: job.acceptedAt,
          },
        },
      });
      expect(byType.STAKE_ADD.node).toEqual({ address: stake.to, isHotkey: true });
      expect(byType.STAKE_ADD.relationship).toMatchObject({
        amount: '700',
        alphaAmount: '650',
        netuid: 1,
        direction: 'OUT',
      });

      // The hotkey sees its owner, its staker, its unstake and its child, with directions from its side.
      const hot = await gql(QUERY, { address: stake.to });
      const types = hot.data.wallet.neighbors.edges.map(
        (e: any) => `${e.relationship.type}:${e.relationship.direction}`,
      );
      expect(types.sort()).toEqual(['OWNS_HOTKEY:IN', 'PARENT_OF:OUT', 'STAKE_ADD:IN', 'STAKE_REMOVE:OUT']);
      const child = hot.data.wallet.neighbors.edges.find((e: any) => e.relationship.type === 'PARENT_OF');
      expect(child.relationship.proportion).toBe('9223372036854775807');
    } finally {
      await h.close();
    }
  });

  it('pages neighbors with cursors and caps the page size with a coded error', async () => {
    const h = await harness();
    try {
      const job = sampleSubgraph();
      const hub = job.target;
      const block = job.edges[0]!.evidence.blockNumber;
      for (let i = 0; i < 5; i++) {
        const other = newSs58();
        job.nodes.push({ address: other, type: 'wallet' });
        job.edges.push({
          type: 'TRANSFER',
          from: other,
          to: hub,
          evidence: { blockNumber: block, eventIndex: 100 + i, amount: `${i + 1}` },
        });
      }
      await finished(h.queue, h.events, await enqueueIngest(h.queue, job));
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 10; page++) {
        const q = `query ($a: String!, $after: String) { wallet(chain: BITTENSOR, address: $a) {
          neighbors(direction: IN, types: [TRANSFER], first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { relationship { id } } } } }`;
        const { data } = await gql(q, { a: hub, after });
        const conn = data.wallet.neighbors;
        expect(conn.totalCount).toBe(5);
        seen.push(...conn.edges.map((e: any) => e.relationship.id));
        if (!conn.pageInfo.hasNextPage) break;
        after = conn.pageInfo.endCursor;
      }
      expect(seen).toHaveLength(5);
      expect(new Set(seen).size).toBe(5);

      const tooBig = await gql(
        'query ($a: String!) { wallet(chain: BITTENSOR, address: $a) { neighbors(first: 1000) { totalCount } } }',
        { a: hub },
      );
      expect(tooBig.errors?.[0]?.message).toBe('first must be between 1 and 100, got 1000');
      expect(tooBig.errors?.[0]?.extensions?.code).toBe('PAGE_SIZE_LIMIT');
    } finally {
      await h.close();
    }
  });

  it('writes a job enqueued twice, or ingested twice, exactly once', async () => {
    const h = await harness();
    try {
      const job = sampleSubgraph();
      const id1 = await enqueueIngest(h.queue, job);
      const id2 = await enqueueIngest(h.queue, job);
      expect(id2).toBe(id1);
      await finished(h.queue, h.events, id1);
      // A second copy under another submission id (another validator round) changes no fact.
      const again = { ...job, submissionId: `${job.submissionId}:again` };
      await finished(h.queue, h.events, await enqueueIngest(h.queue, again));
      expect(await countFor(job.nodes.map((n) => n.address))).toEqual({ nodes: 6, rels: 5 });
    } finally {
      await h.close();
    }
  });

  it('lands the same new facts once when two writers race', async () => {
    const job = sampleSubgraph();
    const other = { ...job, submissionId: `${job.submissionId}:b`, miner: { hotkey: newSs58() } };
    const results = await Promise.allSettled([
      writeSubgraph(graph, job, { batchSize: 1000 }),
      writeSubgraph(graph, other, { batchSize: 1000 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(await countFor(job.nodes.map((n) => n.address))).toEqual({ nodes: 6, rels: 5 });
    const miners = await graph.read((tx) =>
      tx.run('MATCH (:Wallet {address: $a})-[r:TRANSFER]->() RETURN r.miners AS m', { a: job.target }),
    );
    expect((miners.records[0]!.get('m') as string[]).sort()).toEqual(
      [job.miner.hotkey, other.miner.hotkey].sort(),
    );
  });

  it('lands a large batch that holds a few facts already stored, once each, widening their provenance', async () => {
    // 300 transfers in one batch, of which 3 (not where the sample of 64 looks) are stored by an
    // earlier miner: the CREATE path hits the uniqueness constraint and the batch goes to MERGE.
    const base = sampleSubgraph();
    const wallets = Array.from({ length: 20 }, () => newSs58());
    const block = 2_000_000 + Math.floor(Math.random() * 1_000_000);
    const edges = Array.from({ length: 300 }, (_, i) => ({
      type: 'TRANSFER' as const,
      from: wallets[i % 20]!,
      to: wallets[(i * 7 + 1) % 20]!,
      evidence: { blockNumber: block + i, eventIndex: 1, amount: String(1000 + i) },
    }));
    const job: SubgraphJob = {
      ...base,
      target: wallets[0]!,
      window: undefined,
      nodes: wallets.map((address) => ({ address, type: 'wallet' as const })),
      edges,
    };
    const overlap = [1, 150, 299];
    const earlier: SubgraphJob = {
      ...job,
      submissionId: `${job.submissionId}:earlier`,
      miner: { hotkey: newSs58() },
      edges: overlap.map((i) => edges[i]!),
    };
    await writeSubgraph(graph, earlier, { batchSize: 1000 });
    const stats = await writeSubgraph(graph, job, { batchSize: 1000 });
    expect(stats.edges).toBe(300);
    expect(await countFor(wallets)).toEqual({ nodes: 20, rels: 300 });
    const miners = await graph.read((tx) =>
      tx.run(
        `MATCH (w:Wallet {chain: 'bittensor'})-[r:TRANSFER]->() WHERE w.address IN $wallets
         RETURN r.blockNumber - $block AS i, size(r.miners) AS n ORDER BY i`,
        { wallets, block },
      ),
    );
    const twoMiners = miners.records.filter((r) => r.get('n') === 2).map((r) => r.get('i'));
    expect(twoMiners).toEqual(overlap);
  });

  it('retries a job that failed mid-write and lands it once', async () => {
    let failed = false;
    // Fault injection around the real graph: the first attempt's third statement fails, after its
    // wallets and first relationships were written in the same transaction (rolled back).
    const h = await harness({
      graphFor: (g) =>
        aroundRuns(g, async (n) => {
          if (n !== 3 || failed) return;
          failed = true;
          // Not a transient Neo4j code: the driver would retry that itself; this fails the attempt.
          throw new Error('injected: connection reset');
        }),
    });
    try {
      const job = sampleSubgraph();
      const id = await enqueueIngest(h.queue, job);
      await finished(h.queue, h.events, id);
      const done = (await h.queue.getJob(id)) as Job;
      expect(done.attemptsMade).toBe(2);
      expect(await countFor(job.nodes.map((n) => n.address))).toEqual({ nodes: 6, rels: 5 });
    } finally {
      await h.close();
    }
  });

  it('hands the job of a worker that died mid-job to another worker, with nothing lost or doubled', async () => {
    const h = await harness({ firstWorkerDies: true });
    try {
      const job = sampleSubgraph();
      const id = await enqueueIngest(h.queue, job);
      await waitFor('the first worker to start', async () => (await h.queue.getJob(id))?.processedOn);
      await h.replaceDeadWorker();
      await finished(h.queue, h.events, id);
      expect(await countFor(job.nodes.map((n) => n.address))).toEqual({ nodes: 6, rels: 5 });
    } finally {
      await h.close();
    }
  });

  it('announces an alert whose first worker stored it and died before announcing; a repeat is not announced', async () => {
    const h = await harness({ firstWorkerDies: true });
    const sub = createRedisConnection(redisUrl(), 'worker');
    const announced: string[] = [];
    sub.on('message', (_ch, m) => announced.push(JSON.parse(m).id));
    await sub.subscribe(alertChannel(h.prefix));
    try {
      const f = sampleFinding();
      const id = await enqueueIngest(h.queue, f);
      // The first worker stored the alert and now hangs: it never announces.
      await waitFor(
        'the first worker to store the alert',
        async () => (await getAlert(graph, alertId(f))) !== null,
      );
      await h.replaceDeadWorker();
      const result = (await finished(h.queue, h.events, id)) as { alertId: string };
      expect(result.alertId).toBe(alertId(f));
      await waitFor('the announcement', async () => announced.includes(result.alertId));
      expect(announced).toEqual([result.alertId]);
      // The same finding in a fresh job (another validator's): stored already, not announced again.
      await h.queue.remove(id);
      await finished(h.queue, h.events, await enqueueIngest(h.queue, f));
      await new Promise((r) => setTimeout(r, 300));
      expect(announced).toEqual([result.alertId]);
    } finally {
      sub.disconnect();
      await h.close();
    }
  });

  it('takes two subgraph jobs at once but writes them one at a time (no deadlocks between its own jobs)', async () => {
    let inFlight = 0;
    let most = 0;
    const h = await harness({
      concurrency: 2,
      graphFor: (g) => ({
        ...g,
        write: async (work, o) => {
          most = Math.max(most, ++inFlight);
          try {
            return await g.write(work, o);
          } finally {
            inFlight--;
          }
        },
      }),
    });
    try {
      const jobs = [sampleSubgraph(), sampleSubgraph()];
      const ids = await Promise.all(jobs.map((j) => enqueueIngest(h.queue, j)));
      await Promise.all(ids.map((id) => finished(h.queue, h.events, id)));
      const [a, b] = (await Promise.all(ids.map((id) => h.queue.getJob(id)))) as Job[];
      // Both jobs were in the worker at the same time…
      expect(a!.processedOn! < b!.finishedOn! && b!.processedOn! < a!.finishedOn!).toBe(true);
      // …and their writes (9 transactions each at 2 rows per batch) never overlapped.
      expect(most).toBe(1);
      expect(await countFor(jobs.flatMap((j) => j.nodes.map((n) => n.address)))).toEqual({
        nodes: 12,
        rels: 10,
      });
    } finally {
      await h.close();
    }
  });

  it('fails invalid payloads at once with the reason, writing nothing', async () => {
    const h = await harness();
    try {
      const bad = sampleSubgraph();
      bad.edges[0]!.evidence.amount = '-5';
      delete (bad.edges[1] as { evidence?: unknown }).evidence;
      // Enqueued raw, as a misbehaving producer would: the worker is the last line of defence.
      const job = await h.queue.add('subgraph', bad);
      await expect(job.waitUntilFinished(h.events, 30_000)).rejects.toThrow(
        'invalid payload: edges.0.evidence.amount: must be a non-negative integer in a decimal string',
      );
      const failed = (await h.queue.getJob(job.id!))!;
      expect(failed.attemptsMade).toBe(1);
      expect(failed.failedReason).toContain('edges.1.evidence: Required');
      expect(await countFor(bad.nodes.map((n) => n.address))).toEqual({ nodes: 0, rels: 0 });
    } finally {
      await h.close();
    }
  });

  it('fails at once a job whose evidence identity is already a fact between other wallets, writing nothing, replay included', async () => {
    const h = await harness();
    try {
      const first = sampleSubgraph();
      await finished(h.queue, h.events, await enqueueIngest(h.queue, first));
      const forged = sampleSubgraph();
      // Its first edge is new; its second has the same block and event as a stored fact, other wallets.
      forged.edges[1]!.evidence = { ...first.edges[1]!.evidence };
      const everything = [...first.nodes, ...forged.nodes].map((n) => n.address);
      const before = await countWithSubmission(everything, forged.submissionId);
      expect(before).toEqual({ nodes: 6, rels: 5, submissions: 0 });
      const id = await enqueueIngest(h.queue, forged);
      await expect(finished(h.queue, h.events, id)).rejects.toThrow(
        /^conflicting evidence: .*bittensor:STAKE_ADD:/,
      );
      const job = (await h.queue.getJob(id)) as Job;
      expect(job.attemptsMade).toBe(1);
      expect(await countWithSubmission(everything, forged.submissionId)).toEqual(before);
      // Replayed (as `vigil ingest retry-failed` does): fails the same way, and still writes nothing.
      await job.retry('failed');
      await expect(finished(h.queue, h.events, id)).rejects.toThrow(/^conflicting evidence: /);
      expect(await countWithSubmission(everything, forged.submissionId)).toEqual(before);
    } finally {
      await h.close();
    }
  });

  it('refuses a job above the size cap at enqueue and at the worker, naming the cap', async () => {
    const h = await harness();
    try {
      const big = sampleSubgraph();
      big.edges = Array.from({ length: JOB_LIMITS.edges + 1 }, () => big.edges[0]!);
      const err = await enqueueIngest(h.queue, big).catch((e) => e);
      expect(err).toBeInstanceOf(InvalidPayloadError);
      expect(err.message).toBe(
        `invalid payload: edges: ${JOB_LIMITS.edges + 1} exceed the cap of ${JOB_LIMITS.edges} per job; split the answer`,
      );
      // Put on the queue by other means: the worker refuses it at once, writing nothing.
      const bulky = sampleSubgraph();
      (bulky as unknown as { padding: string }).padding = 'x'.repeat(JOB_LIMITS.bytes);
      const job = await h.queue.add('subgraph', bulky);
      await expect(job.waitUntilFinished(h.events, 60_000)).rejects.toThrow(
        /^invalid payload: job: \d+ bytes exceed the cap of 16777216 bytes per job; split the answer$/,
      );
      expect(((await h.queue.getJob(job.id!)) as Job).attemptsMade).toBe(1);
      expect(await countFor(bulky.nodes.map((n) => n.address))).toEqual({ nodes: 0, rels: 0 });
    } finally {
      await h.close();
    }
  });

  it('stores a finding as an alert linked to contract, invariant, transaction and sender', async () => {
    const h = await harness();
    try {
      const f = sampleFinding();
      const id = await enqueueIngest(h.queue, f);
      const result = (await finished(h.queue, h.events, id)) as { alertId: string };
      expect(result.alertId).toBe(`ethereum:31337:${f.tx.hash}:${f.invariant.id}`);
      const q = `query ($a: String!) { wallet(chain: ETHEREUM, address: $a) { isContract alerts { edges { node {
        id severity txHash contract sender invariantId before after votesViolated votesTotal miners } } } } }`;
      const { data } = await gql(q, { a: f.tx.from });
      expect(data.wallet.alerts.edges.map((e: any) => e.node)).toEqual([
        {
          id: result.alertId,
          severity: 'CRITICAL',
          txHash: f.tx.hash,
          contract: f.invariant.contract,
          sender: f.tx.from,
          invariantId: f.invariant.id,
          before: '0x01',
          after: '0x02',
          votesViolated: 3,
          votesTotal: 3,
          miners: ['m1', 'm2', 'm3'],
        },
      ]);
      const c = await gql(q, { a: f.invariant.contract });
      expect(c.data.wallet.isContract).toBe(true);
      expect(c.data.wallet.alerts.edges).toHaveLength(1);

      // Paging: the cursor handed out leads past the alert; a made-up one is a user error.
      const paged = `query ($a: String!, $after: String) { wallet(chain: ETHEREUM, address: $a) {
        alerts(first: 1, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`;
      const p1 = await gql(paged, { a: f.tx.from });
      expect(p1.data.wallet.alerts.pageInfo).toEqual({
        hasNextPage: false,
        endCursor: expect.stringContaining(`|${result.alertId}`),
      });
      const p2 = await gql(paged, { a: f.tx.from, after: p1.data.wallet.alerts.pageInfo.endCursor });
      expect(p2.data.wallet.alerts.edges).toEqual([]);
      for (const after of ['garbage', 'not-a-time|x', `${new Date().toISOString()}|`]) {
        const bad = await gql(paged, { a: f.tx.from, after });
        expect(bad.errors?.[0]).toMatchObject({
          message: 'after is not a cursor of an alerts page (expected `<raisedAt>|<alert id>`)',
          extensions: { code: 'BAD_USER_INPUT' },
        });
        const search = await gql(
          'query ($after: String) { alerts(first: 1, after: $after) { edges { cursor } } }',
          { after },
        );
        expect(search.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
      }

      // The same finding written again (a retried job) creates nothing and is not new.
      const again = await writeFinding(graph, parseIngestJob(f) as FindingJob);
      expect(again.created).toBe(false);
      expect(again.alert.id).toBe(result.alertId);
      const n = await graph.read((tx) =>
        tx.run('MATCH (a:Alert {id: $id}) RETURN count(a) AS n', { id: result.alertId }),
      );
      expect(n.records[0]!.get('n')).toBe(1);
    } finally {
      await h.close();
    }
  });
});

describe('action outcomes', () => {
  const outcome = (alert: string, o: Partial<OutcomeJob>): OutcomeJob => ({
    kind: 'outcome',
    alertId: alert,
    index: 0,
    action: 'pause',
    status: 'sent',
    txHash: null,
    landedFirst: null,
    detail: '',
    validator: { hotkey: 'validator-1' },
    at: new Date().toISOString(),
    ...o,
  });
  const ACTIONS = `query ($tx: String!) { alerts(filter: { txHash: $tx }) { edges { node { id
    actions { kind status txHash landedFirst detail at } } } } }`;

  it('stores outcomes on their alert (waiting for it), re-announces the alert, and never goes back on replay', async () => {
    const h = await harness();
    const sub = createRedisConnection(redisUrl(), 'worker');
    const announced: string[] = [];
    sub.on('message', (_ch, m) => announced.push(JSON.parse(m).id));
    await sub.subscribe(alertChannel(h.prefix));
    try {
      const f = sampleFinding();
      const id = alertId(f);
      const pauseTx = newHash();
      const sent = outcome(id, { txHash: pauseTx, detail: 'nonce 4' });
      // Queued before its finding: it must wait for the alert, not create a bare one.
      const sentJob = await enqueueIngest(h.queue, sent);
      await finished(h.queue, h.events, await enqueueIngest(h.queue, f));
      await finished(h.queue, h.events, sentJob);
      const landed = outcome(id, {
        txHash: pauseTx,
        status: 'landed-first',
        landedFirst: true,
        detail: 'block 12 index 0; attack block 12 index 1',
        at: new Date(Date.now() + 1000).toISOString(),
      });
      const hook = outcome(id, {
        index: 1,
        action: 'webhook',
        status: 'delivered',
        detail: 'HTTP 200 after 1 attempt',
      });
      for (const o of [landed, hook]) await finished(h.queue, h.events, await enqueueIngest(h.queue, o));
      // A replay of the first report (a retried job) does not take the pause back to "sent".
      await writeOutcome(graph, parseIngestJob(sent) as OutcomeJob);
      const { data } = await gql(ACTIONS, { tx: f.tx.hash });
      expect(data.alerts.edges[0].node.actions).toEqual([
        {
          kind: 'PAUSE',
          status: 'landed-first',
          txHash: pauseTx,
          landedFirst: true,
          detail: landed.detail,
          at: landed.at,
        },
        {
          kind: 'WEBHOOK',
          status: 'delivered',
          txHash: null,
          landedFirst: null,
          detail: 'HTTP 200 after 1 attempt',
          at: hook.at,
        },
      ]);
      const n = await graph.read((tx) =>
        tx.run('MATCH (:Alert {id: $id})-[:TOOK]->(o:ActionOutcome) RETURN count(o) AS n', { id }),
      );
      expect(n.records[0]!.get('n')).toBe(2);
      // The finding, then each of the three outcomes: the alert sent again on the live feed.
      await waitFor('the announcements', async () => announced.length >= 4);
      expect(announced).toEqual([id, id, id, id]);
    } finally {
      sub.disconnect();
      await h.close();
    }
  });

  it('refuses an outcome that does not fit its action, naming the field', () => {
    const id = alertId(sampleFinding());
    const refused = (o: Partial<OutcomeJob>) => {
      try {
        parseIngestJob(outcome(id, o));
      } catch (e) {
        return (e as InvalidPayloadError).issues;
      }
      return [];
    };
    expect(refused({ action: 'webhook', status: 'landed-first' })).toEqual([
      'status: "landed-first" is not an outcome of a webhook (delivered, failed)',
    ]);
    expect(refused({ action: 'webhook', status: 'delivered', txHash: newHash() })).toEqual([
      'txHash, landedFirst: only a pause has them, not a webhook',
    ]);
    expect(refused({ status: 'sent' })).toEqual(['txHash: required for a pause that was sent']);
    expect(refused({ status: 'landed-after', txHash: newHash(), landedFirst: true })).toEqual([
      'landedFirst: must be false for a pause landed-after',
    ]);
    // A reverted pause protected nothing, wherever it was mined.
    expect(refused({ status: 'reverted', txHash: newHash(), landedFirst: true })).toEqual([
      'landedFirst: must be false for a pause reverted',
    ]);
    expect(refused({ status: 'reverted', txHash: newHash(), landedFirst: false })).toEqual([]);
    expect(refused({ status: 'failed', detail: 'x'.repeat(501) })[0]).toMatch(/^detail: /);
    expect(refused({ status: 'failed' })).toEqual([]);
  });
});

describe('unreachable services', () => {
  it('enqueueing with Redis down fails fast with a clear error', async () => {
    const conn = createRedisConnection('redis://127.0.0.1:1', 'producer');
    const queue = createIngestQueue(conn, uniquePrefix());
    try {
      const err = await enqueueIngest(queue, sampleSubgraph()).catch((e) => e);
      expect(err).toBeInstanceOf(ServiceUnavailableError);
      expect(err.shortMessage).toBe('could not enqueue the ingestion job: Redis did not accept it');
    } finally {
      await queue.close().catch(() => {});
      conn.disconnect();
    }
  });

  it('a Neo4j that does not answer is named in the error', async () => {
    const g = await import('../../graph/driver.ts').then((m) =>
      m.createGraph({ uri: 'bolt://127.0.0.1:1', user: 'neo4j', password: '', database: 'neo4j' }),
    );
    try {
      const err = await g.verify().catch((e) => e);
      expect(err).toBeInstanceOf(ServiceUnavailableError);
      expect(err.shortMessage).toMatch(/^Neo4j at bolt:\/\/127\.0\.0\.1:1 \(NEO4J_URI\) does not answer: /);
    } finally {
      await g.close();
    }
  });
});
