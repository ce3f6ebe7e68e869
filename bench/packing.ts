/**
 * npm run bench:packing -- [--neo4j-uri bolt://127.0.0.1:7687] [--rows 10000] [--batches 10]
 *
 * What sending one ingestion batch costs the Node process: a batch of `--rows` relationship rows
 * (as graph/ingest.ts builds them: ids, endpoints, element ids, evidence) sent as a parameter to a
 * statement that only counts it, so the server does next to nothing. Prints wall time and this
 * process's CPU per batch. Run it with and without the driver patch in patches/ (16 KiB socket
 * writes; no structure-transformer lookups for strings and numbers) to see what the patch saves.
 * Any running Neo4j will do (`npm run infra` starts one on 7687).
 */
import { parseArgs } from 'node:util';
import neo4j from 'neo4j-driver';
import { createGraph } from '../graph/driver.ts';
import { ownCpu } from './cpu.ts';
import { runBench } from './run.ts';

const { values: opt } = parseArgs({
  options: {
    'neo4j-uri': { type: 'string', default: 'bolt://127.0.0.1:7687' },
    rows: { type: 'string', default: '10000' },
    batches: { type: 'string', default: '10' },
  },
});
const ROWS = Number(opt.rows);
const BATCHES = Number(opt.batches);

async function main() {
  const graph = createGraph({ uri: opt['neo4j-uri'], user: 'neo4j', password: '', database: 'neo4j' });
  await graph.verify();
  try {
    const addr = (i: number) => `5Gxyzabcdefghijklmnopqrstuvwxyz0123456789ABCD${i}`;
    const rows = Array.from({ length: ROWS }, (_, i) => ({
      id: `bittensor:TRANSFER:${i}:${i & 63}:0`,
      from: addr(i),
      to: addr(i + 1),
      fromRef: `4:abcdef12-3456-7890-abcd-ef1234567890:${i}`,
      toRef: `4:abcdef12-3456-7890-abcd-ef1234567890:${i + 1}`,
      props: {
        blockNumber: neo4j.int(i),
        eventIndex: neo4j.int(i & 63),
        extrinsicIndex: neo4j.int(2),
        blockHash: `0x${'ab'.repeat(32)}`,
        amount: String(i * 997),
        amountValue: i * 997,
        timestamp: neo4j.int(1_700_000_000_000 + i),
      },
    }));
    const send = () => graph.query('RETURN size($rows) AS n', { rows });
    await send(); // connection and plan
    const lines: string[] = [];
    for (let round = 1; round <= 3; round++) {
      const cpu = ownCpu();
      const t0 = performance.now();
      for (let b = 0; b < BATCHES; b++) await send();
      lines.push(
        `  round ${round}: wall ${((performance.now() - t0) / BATCHES).toFixed(1)} ms per batch, client CPU ${(cpu.ms() / BATCHES).toFixed(1)} ms per batch`,
      );
    }
    console.log(
      `\nSending a batch of ${ROWS.toLocaleString('en-US')} relationship rows (${BATCHES} batches per round)\n${lines.join('\n')}`,
    );
  } finally {
    await graph.close();
  }
}

runBench(main);
