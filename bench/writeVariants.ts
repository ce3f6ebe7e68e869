/**
 * npm run bench:write-variants -- [--rels 100000] [--wallets 50000] [--batch 10000] [--only 0,3]
 *
 * Where the ingestion write time goes: the same new relationships written into a fresh Neo4j of
 * the bench's own (ports 7691/7478, data under .vigil/bench-variants) by variants of the Cypher
 * statement, each on a relationship type of its own, in batches of `--batch` rows per
 * transaction, one after the other. Prints relationships/s per variant; the first line is what
 * graph/ingest.ts did before element ids, the second what it does for a batch with known ids.
 * The last two lines are the ceiling: matching the two endpoints, writing nothing. Each line
 * also gives this process's CPU time as a share of the wall time: what the server waited on the
 * client (building and packing the rows). `--only` runs the variants at those positions.
 */
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import neo4j from 'neo4j-driver';
import { loadConfig } from '../common/config.ts';
import { cliDestination, createLogger } from '../common/logger.ts';
import { startNeo4jServer } from '../infra/neo4j.ts';
import { LAUNCHER_DIR, PROJECT_DIR } from '../infra/up.ts';
import { ownCpu } from './cpu.ts';
import { runBench } from './run.ts';

const { values: opt } = parseArgs({
  options: {
    rels: { type: 'string', default: '100000' },
    wallets: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '10000' },
    only: { type: 'string' },
  },
});
const RELS = Number(opt.rels);
const WALLETS = Number(opt.wallets);
const BATCH = Number(opt.batch);
const say = (m: string) => console.log(`[bench] ${m}`);
/** The same progress lines from the modules the bench drives (infra, migrations, seeder). */
const sayLog = createLogger({
  level: 'info',
  name: 'bench',
  base: {},
  destination: cliDestination('[bench] '),
});

// ss58-length addresses, so index keys are as long as real ones.
const addr = (i: number) => `5Gxyzabcdefghijklmnopqrstuvwxyz0123456789ABCD${i}`;

async function main() {
  const home = path.join(PROJECT_DIR, '.vigil', 'bench-variants');
  await rm(home, { recursive: true, force: true });
  const server = await startNeo4jServer({
    homeDir: home,
    boltPort: 7691,
    httpPort: 7478,
    pagecache: '2g',
    heap: '4g',
    cds: loadConfig().neo4j.cds,
    launcherDir: LAUNCHER_DIR,
    detached: false,
    log: sayLog,
  });
  const driver = neo4j.driver(server.boltUri, undefined, { disableLosslessIntegers: true });
  const session = driver.session();
  try {
    await session.run(
      'CREATE CONSTRAINT w IF NOT EXISTS FOR (w:Wallet) REQUIRE (w.chain, w.address) IS UNIQUE',
    );
    await session.run(
      `UNWIND range(0, $n - 1) AS i CREATE (:Wallet {chain: 'bittensor', address: $prefix + i})`,
      { n: neo4j.int(WALLETS), prefix: addr(0).slice(0, -1) },
    );
    const refs = new Map<string, string>();
    const all = await session.run('MATCH (w:Wallet) RETURN w.address AS a, elementId(w) AS e');
    for (const r of all.records) refs.set(r.get('a') as string, r.get('e') as string);

    const props = (i: number) => ({
      blockNumber: neo4j.int(i >> 6),
      eventIndex: neo4j.int(i & 63),
      extrinsicIndex: neo4j.int(1),
      blockHash: `0x${'ab'.repeat(32)}`,
      amount: String(i * 997),
      amountValue: i * 997,
      timestamp: neo4j.int(1_700_000_000_000 + i * 12_000),
    });
    const rows = (first: number) =>
      Array.from({ length: Math.min(BATCH, RELS - first) }, (_, k) => {
        const i = first + k;
        const from = addr(Math.floor(Math.random() * WALLETS));
        const to = addr(Math.floor(Math.random() * WALLETS));
        return {
          id: `bittensor:TRANSFER:${i >> 6}:${i & 63}:0`,
          from,
          to,
          fromRef: refs.get(from),
          toRef: refs.get(to),
          props: props(i),
        };
      });
    const schema = (t: string, indexed: string[]) => [
      `CREATE CONSTRAINT ${t}_id IF NOT EXISTS FOR ()-[r:${t}]-() REQUIRE r.id IS UNIQUE`,
      ...indexed.map((p) => `CREATE INDEX ${t}_${p} IF NOT EXISTS FOR ()-[r:${t}]-() ON (r.${p})`),
    ];
    const ALL_INDEXES = ['blockNumber', 'amountValue', 'timestamp'];
    const BY_KEY = `UNWIND $rows AS e MATCH (a:Wallet {chain: 'bittensor', address: e.from})
                    MATCH (b:Wallet {chain: 'bittensor', address: e.to}) `;
    const BY_REF = `UNWIND $rows AS e MATCH (a:Wallet) WHERE elementId(a) = e.fromRef AND a.address = e.from
                    MATCH (b:Wallet) WHERE elementId(b) = e.toRef AND b.address = e.to `;
    const FULL = `CREATE (a)-[r:%T%]->(b) SET r = e.props, r.id = e.id, r.miners = [$m], r.validators = [$v],
                  r.firstAcceptedAt = $at, r.lastAcceptedAt = $at`;
    const LEAN = `CREATE (a)-[r:%T% {id: e.id, blockNumber: e.props.blockNumber, amount: e.props.amount,
                  amountValue: e.props.amountValue}]->(b)`;
    const variants: { label: string; statement: string; indexes: string[] | null; lookup: boolean }[] = [
      {
        label: 'endpoints by key, id lookup, full props, 4 indexes',
        statement: BY_KEY + FULL,
        indexes: ALL_INDEXES,
        lookup: true,
      },
      {
        label: 'endpoints by element id, id lookup, full props, 4 indexes',
        statement: BY_REF + FULL,
        indexes: ALL_INDEXES,
        lookup: true,
      },
      {
        label: 'endpoints by element id, no lookup, full props, 4 indexes',
        statement: BY_REF + FULL,
        indexes: ALL_INDEXES,
        lookup: false,
      },
      {
        label: 'endpoints by element id, no lookup, full props, 2 indexes',
        statement: BY_REF + FULL,
        indexes: ['blockNumber'],
        lookup: false,
      },
      {
        label: 'endpoints by element id, no lookup, 4 props, 2 indexes',
        statement: BY_REF + LEAN,
        indexes: ['blockNumber'],
        lookup: false,
      },
      {
        label: 'endpoints by element id, no lookup, full props, no index',
        statement: BY_REF + FULL,
        indexes: null,
        lookup: false,
      },
      {
        label: 'endpoints by element id, nothing written',
        statement: `${BY_REF}RETURN count(*)`,
        indexes: null,
        lookup: false,
      },
      {
        label: 'endpoints by key, nothing written',
        statement: `${BY_KEY}RETURN count(*)`,
        indexes: null,
        lookup: false,
      },
    ];
    const results: string[] = [];
    const only = opt.only?.split(',').map(Number);
    for (const [n, v] of variants.entries()) {
      if (only && !only.includes(n)) continue;
      const type = `V${n}`;
      for (const s of v.indexes ? schema(type, v.indexes) : []) await session.run(s);
      await session.run('CALL db.awaitIndexes(60)');
      const start = performance.now();
      const cpu = ownCpu();
      for (let first = 0; first < RELS; first += BATCH) {
        const batch = rows(first);
        await session.executeWrite(async (tx) => {
          if (v.lookup)
            await tx.run(`UNWIND $ids AS id MATCH ()-[r:${type} {id: id}]->() RETURN r.id`, {
              ids: batch.map((r) => r.id),
            });
          await tx.run(v.statement.replaceAll('%T%', type), {
            rows: batch,
            m: 'miner',
            v: 'validator',
            at: '2026-11-23T00:00:00Z',
          });
        });
      }
      const wall = performance.now() - start;
      const rate = RELS / (wall / 1000);
      // The client's share: building and packing the rows is Node work the server waits for.
      results.push(
        `  ${v.label.padEnd(62)} ${Math.round(rate).toLocaleString('en-US').padStart(7)} rels/s  client CPU ${(cpu.share() * 100).toFixed(0)}% of wall`,
      );
      say(results.at(-1)!.trim());
    }
    console.log(`
Cypher write variants (${new Date().toISOString()}, ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')})
  ${RELS.toLocaleString('en-US')} new relationships per variant over ${WALLETS.toLocaleString('en-US')} wallets, ${BATCH.toLocaleString('en-US')} per transaction
${results.join('\n')}`);
  } finally {
    await session.close();
    await driver.close();
    await server.stop();
  }
}

runBench(main);
