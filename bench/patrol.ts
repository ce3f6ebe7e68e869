/**
 * npm run bench:patrol -- [--accounts 200] [--blocks 16] [--tx-per-block 16] [--verify-rounds 50]
 *
 * On a real subtensor runtime (chopsticks) seeded with real extrinsics:
 *  1. miner: time to build the subgraph of a target whose window holds >= 1,000 events, and blocks
 *     of events read per second by the miner's reader vs a raw RPC read of the same blocks
 *     (chain_getBlockHash + state_getStorage(System.Events), no decoding), in the same run;
 *  2. validator: evidence verification in edges/s with the per-block cache warm (target >= 20,000/s),
 *     and cold (a new chain view per answer) as the baseline;
 *  3. the answer's signature check (canonical JSON, blake2-256, sr25519 verify) in edges/s, with
 *     RFC 8785 from the `canonicalize` library (what protocol/signing.ts uses) vs the hand-written
 *     sorted-keys encoder Patrol used before, kept here as the baseline (same bytes on our shapes).
 *  4. the completeness check (completeness.ts) per answer, warm and cold, against verification alone
 *     in the same run, and verification + completeness in edges/s warm (target >= 20,000/s);
 *  5. the size cap: refusing a 200,000-edge answer on arrival, and the size walk of the honest one.
 */
import { parseArgs } from 'node:util';
import { Keyring } from '@polkadot/keyring';
import { blake2AsU8a, decodeAddress, sr25519Verify } from '@polkadot/util-crypto';
import { readBlockEvents } from '../chains/bittensor/blocks.ts';
import { connectSubtensor } from '../chains/bittensor/client.ts';
import { loadConfig } from '../common/config.ts';
import { cliDestination, createLogger } from '../common/logger.ts';
import { startLocalSubtensor } from '../dev/bittensor/localChain.ts';
import { seedScenario } from '../dev/bittensor/seeder.ts';
import { type SubgraphJob, checkBuiltSubgraphJob } from '../protocol/ingest.ts';
import {
  type Challenge,
  answerSignatureValid,
  challengeWindow,
  checkAnswer,
  jsonSizeWithin,
  signAnswer,
} from '../protocol/patrol.ts';
import { canonicalJson } from '../protocol/signing.ts';
import { createChainView } from '../services/patrol/chainView.ts';
import { DEFAULT_COMPLETENESS_SAMPLE, measureCompleteness } from '../services/patrol/completeness.ts';
import { buildSubgraph } from '../services/patrol/miner.ts';
import { verifyAnswer } from '../services/patrol/verify.ts';

const { values: opt } = parseArgs({
  options: {
    accounts: { type: 'string', default: '200' },
    blocks: { type: 'string', default: '16' },
    'tx-per-block': { type: 'string', default: '16' },
    'verify-rounds': { type: 'string', default: '50' },
  },
});
const say = (m: string) => console.log(`[bench] ${m}`);
/** The same progress lines from the modules the bench drives (infra, migrations, seeder). */
const sayLog = createLogger({
  level: 'info',
  name: 'bench',
  base: {},
  destination: cliDestination('[bench] '),
});
const config = loadConfig();

const chain = await startLocalSubtensor({ specPath: config.subtensor.specPath, chopsticksLogLevel: 'warn' });
const api = await connectSubtensor(chain.wsUrl, { timeoutMs: 30_000 });
try {
  say(
    `seeding ${opt.accounts} accounts, ${opt.blocks} blocks of ${opt['tx-per-block']} txs (each block takes seconds to build)`,
  );
  const t0 = performance.now();
  const manifest = await seedScenario(api, chain, {
    accounts: Number(opt.accounts),
    blocks: Number(opt.blocks),
    txPerBlock: Number(opt['tx-per-block']),
    log: sayLog,
  });
  say(`seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const head = chain.head().number;

  // Raw events in the window, as the chain stores them (every event, not only the ones we decode).
  const eventsKey = api.query.system.events.key();
  let rawEvents = 0;
  const rawStart = performance.now();
  for (let b = 1; b <= head; b++) {
    const hash = await api.rpc.chain.getBlockHash(b);
    const raw = await api.rpc.state.getStorage.raw<Uint8Array>(eventsKey, hash);
    rawEvents += api.createType('Vec<EventRecord>', raw).length;
  }
  const rawDecodedMs = performance.now() - rawStart;

  const rawReadStart = performance.now();
  for (let b = 1; b <= head; b++) {
    const hash = await api.rpc.chain.getBlockHash(b);
    await api.rpc.state.getStorage.raw(eventsKey, hash);
  }
  const rawReadMs = performance.now() - rawReadStart;
  const ourStart = performance.now();
  const blocks = await readBlockEvents(api, { from: 1, to: head });
  const ourMs = performance.now() - ourStart;
  const domainEvents = blocks.reduce((s, b) => s + b.events.length, 0);

  // The busiest wallet as target, the whole seeded range as its window.
  const counts = new Map<string, number>();
  for (const t of manifest.transfers) for (const a of [t.from, t.to]) counts.set(a, (counts.get(a) ?? 0) + 1);
  const target = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  const miner = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//bench-miner');
  const challenge: Challenge = {
    chain: 'bittensor',
    id: 'bench',
    round: 1,
    validator: 'bench',
    miner: miner.address,
    target,
    targetBlock: Math.ceil(head / 2),
    window: head,
    maxBlock: head,
    depth: 6,
    deadline: Date.now() + 3_600_000,
    replyTo: 'bench',
  };
  const buildStart = performance.now();
  const sub = await buildSubgraph(api, challenge);
  const buildMs = performance.now() - buildStart;
  const answer = signAnswer(miner, challenge.id, sub);

  // Verification: cold (fresh cache, fetches every named block) and warm (cache already filled).
  const coldStart = performance.now();
  const coldVerdict = await verifyAnswer(answer, challenge, createChainView(api));
  const coldMs = performance.now() - coldStart;
  if (!coldVerdict.accepted) throw new Error(`honest answer rejected: ${coldVerdict.reason}`);
  const view = createChainView(api);
  await verifyAnswer(answer, challenge, view);
  const rounds = Number(opt['verify-rounds']);
  const warmStart = performance.now();
  for (let i = 0; i < rounds; i++) await verifyAnswer(answer, challenge, view);
  const warmMs = (performance.now() - warmStart) / rounds;
  const edges = sub.edges.length;
  // The signature check of the answer, library vs the former hand-written encoder, alternated.
  const signed = { challengeId: answer.challengeId, miner: answer.miner, subgraph: answer.subgraph };
  if (canonicalJson(signed) !== handWrittenCanonicalJson(signed))
    throw new Error('canonicalize and the hand-written encoder disagree on this answer');
  const verifyWith = (encode: (v: unknown) => string) =>
    sr25519Verify(blake2AsU8a(encode(signed), 256), answer.signature, decodeAddress(answer.miner));
  const sigMs = { library: 0, hand: 0 };
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    if (!answerSignatureValid(answer)) throw new Error('signature rejected');
    sigMs.library += performance.now() - t;
    t = performance.now();
    if (!verifyWith(handWrittenCanonicalJson)) throw new Error('signature rejected (hand-written)');
    sigMs.hand += performance.now() - t;
  }
  // The encoding alone (no hash, no sr25519), 10× the rounds, alternated: where the two can differ.
  const encMs = { library: 0, hand: 0 };
  for (let i = 0; i < rounds * 10; i++) {
    let t = performance.now();
    canonicalJson(signed);
    encMs.library += performance.now() - t;
    t = performance.now();
    handWrittenCanonicalJson(signed);
    encMs.hand += performance.now() - t;
  }
  const perEnc = (ms: number) => `${((ms * 1000) / (rounds * 10)).toFixed(0)} µs`;
  const perSig = (ms: number) =>
    `${(ms / rounds).toFixed(2)} ms = ${((edges * rounds * 1000) / ms).toFixed(0)} edges/s`;

  // Completeness, as the validator runs it after verification. Cold: a fresh view (every block of
  // the window read, not only those the evidence names). Warm: verification alone and with the
  // check, alternated in blocks of rounds so both see the same machine.
  const completeness = { sample: DEFAULT_COMPLETENESS_SAMPLE, random: Math.random };
  const coldView = createChainView(api);
  const coldVerifyStart = performance.now();
  await verifyAnswer(answer, challenge, coldView);
  const coldVerifyMs = performance.now() - coldVerifyStart;
  const coldCompleteStart = performance.now();
  const measured = await measureCompleteness(sub.edges, challenge, coldView, completeness);
  const coldCompleteMs = performance.now() - coldCompleteStart;
  if (measured.ratio !== 1) throw new Error(`honest answer measured incomplete: ${JSON.stringify(measured)}`);
  await measureCompleteness(sub.edges, challenge, view, completeness);
  // Per answer the validator checks the ingest job it becomes (the worker's checks), verifies,
  // then measures completeness: each step timed, alternated with verification alone.
  const job: SubgraphJob = {
    kind: 'subgraph',
    chain: 'bittensor',
    submissionId: 'bench',
    target,
    window: challengeWindow(challenge),
    miner: { hotkey: miner.address },
    validator: { hotkey: miner.address },
    acceptedAt: new Date().toISOString(),
    nodes: sub.nodes,
    edges: sub.edges,
  };
  let aloneMs = 0;
  const step = { verify: 0, storable: 0, completeness: 0 };
  let checks = 0;
  for (let pass = 0; pass < 4; pass++) {
    const t = performance.now();
    for (let i = 0; i < rounds; i++) await verifyAnswer(answer, challenge, view);
    aloneMs += performance.now() - t;
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const v = await verifyAnswer(answer, challenge, view);
      const t1 = performance.now();
      checkBuiltSubgraphJob(job);
      const t2 = performance.now();
      if (v.accepted) checks += (await measureCompleteness(v.edges, challenge, view, completeness)).expected;
      const t3 = performance.now();
      step.verify += t1 - t0;
      step.storable += t2 - t1;
      step.completeness += t3 - t2;
    }
  }
  const n = 4 * rounds;
  aloneMs /= n;
  const withMs = (step.verify + step.storable + step.completeness) / n;
  const expectedPerCheck = checks / n;

  // The size cap: a 200,000-edge answer (one real edge repeated) refused on arrival.
  const huge = { ...answer, subgraph: { nodes: sub.nodes, edges: new Array(200_000).fill(sub.edges[0]) } };
  const refuseStart = performance.now();
  const refusal = checkAnswer(huge, { challengeId: challenge.id, miner: miner.address });
  const refuseMs = performance.now() - refuseStart;
  if (refusal.ok || refusal.kind !== 'oversize')
    throw new Error('the oversize answer was not refused for its size');
  const walkStart = performance.now();
  for (let i = 0; i < rounds; i++) jsonSizeWithin(answer, Number.POSITIVE_INFINITY);
  const walkMs = (performance.now() - walkStart) / rounds;
  const load = (await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

  console.log(`
Patrol benchmark (${new Date().toISOString()}, load average ${load})
  chain                          ${head} blocks, ${rawEvents} events stored (${domainEvents} wallet events decoded by Vigil)
  miner: subgraph build          ${buildMs.toFixed(0)} ms for a target with ${rawEvents} events in its window -> ${sub.nodes.length} nodes, ${edges} edges
  miner reader                   ${((head * 1000) / ourMs).toFixed(0)} blocks/s (readBlockEvents: hashes batched, 4 fetches in flight, decoded)
  raw RPC read, same blocks      ${((head * 1000) / rawReadMs).toFixed(0)} blocks/s (getBlockHash + getStorage, sequential, not decoded)
  raw RPC read + full decode     ${((head * 1000) / rawDecodedMs).toFixed(0)} blocks/s (sequential, Vec<EventRecord> decode)
  validator: verify, cold cache  ${coldMs.toFixed(0)} ms for ${edges} edges = ${((edges * 1000) / coldMs).toFixed(0)} edges/s
  validator: verify, warm cache  ${warmMs.toFixed(2)} ms for ${edges} edges = ${((edges * 1000) / warmMs).toFixed(0)} edges/s (target >= 20,000; ${(edges * 1000) / warmMs >= 20_000 ? 'met' : 'MISSED'})
  validator: answer signature    ${perSig(sigMs.library)} (RFC 8785 via canonicalize, protocol/signing.ts)
    former hand-written encoder  ${perSig(sigMs.hand)} (same bytes; baseline, same run, alternated)
  canonical encoding alone       ${perEnc(encMs.library)} canonicalize vs ${perEnc(encMs.hand)} hand-written per answer (${rounds * 10} each, alternated)
  completeness check, cold       ${coldCompleteMs.toFixed(0)} ms per answer (${head + 1} window blocks, ${measured.wallets.length} wallets, ${measured.expected} edges expected), after a cold verify of ${coldVerifyMs.toFixed(0)} ms
  verify alone, warm (A/B)       ${aloneMs.toFixed(2)} ms per answer = ${((edges * 1000) / aloneMs).toFixed(0)} edges/s
  verify + storable + complete   ${withMs.toFixed(2)} ms per answer = ${((edges * 1000) / withMs).toFixed(0)} edges/s (target >= 20,000; ${(edges * 1000) / withMs >= 20_000 ? 'met' : 'MISSED'}): verify ${(step.verify / n).toFixed(2)} ms, ingest-job check ${(step.storable / n).toFixed(2)} ms, completeness check ${(step.completeness / n).toFixed(2)} ms per answer (${expectedPerCheck.toFixed(0)} edges expected on average)
  size cap                       a 200,000-edge answer refused in ${refuseMs.toFixed(3)} ms (${refusal.reason}); size walk of the honest answer ${(walkMs * 1000).toFixed(0)} µs`);
} finally {
  await api.disconnect();
  await chain.close();
}
process.exit(0);

/** Patrol's former hand-written canonical JSON (sorted keys, written directly): the baseline of step 3. */
function handWrittenCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : handWrittenCanonicalJson(v))).join(',')}]`;
  const keys = Object.keys(value).sort();
  let out = '';
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined || typeof v === 'function') continue;
    out += `${out ? ',' : ''}${JSON.stringify(k)}:${handWrittenCanonicalJson(v)}`;
  }
  return `{${out}}`;
}
