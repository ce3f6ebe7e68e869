import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Redis } from 'ioredis';
import { readBlockEvents } from '../../chains/bittensor/blocks.ts';
import { ownerOf } from '../../chains/bittensor/keys.ts';
import type { Logger } from '../../common/logger.ts';
import type { GraphEdge } from '../../graph/model.ts';
import { patrolAnswerStream, patrolChallengeStream } from '../../protocol/keys.ts';
import {
  type Answer,
  type BittensorChallenge,
  type Challenge,
  type EthereumChallenge,
  challengeSchema,
  challengeWindow,
  signAnswer,
} from '../../protocol/patrol.ts';
import { type StreamReader, appendMessage, createStreamReader, messageData } from '../../queues/streams.ts';
import { edgesOfEvent } from './edges.ts';
import { type Subgraph, subgraphAround } from './subgraph.ts';

export interface MinerDeps {
  /** The subtensor node Bittensor challenges are answered from; without it they are left unanswered. */
  api?: ApiPromise;
  /** The miner's hotkey: it signs answers and names the miner's challenge and answer streams. */
  hotkey: KeyringPair;
  /** As its own ACL user on the validator's Redis (queues/minerAccess.ts); duplicated to read. */
  connection: Redis;
  prefix: string;
  log: Logger;
  read?: { batchSize?: number; concurrency?: number };
  /**
   * Builds the answer to an Ethereum challenge (services/patrol/ethereum): set when the miner
   * reads an Ethereum node. Without it, Ethereum challenges are logged and left unanswered.
   */
  ethereum?: (c: EthereumChallenge) => Promise<Subgraph>;
  /**
   * Changes the answer before it is sent. Lets tests and the demo run lazy or dishonest miners
   * through the real service; honest miners leave it out.
   */
  tamper?: (answer: Answer, challenge: Challenge) => Answer | Promise<Answer>;
}

/**
 * Builds the subgraph a challenge asks for from the chain's events: every event of the window's
 * blocks, turned into edges, then the part reachable from the target within `depth` hops, plus
 * who owned each hotkey at the window's last block.
 */
export async function buildSubgraph(
  api: ApiPromise,
  c: BittensorChallenge,
  read: MinerDeps['read'] = {},
): Promise<Subgraph> {
  const window = challengeWindow(c);
  const blocks = await readBlockEvents(api, {
    from: window.from,
    to: window.to,
    batchSize: read.batchSize ?? 25,
    concurrency: read.concurrency ?? 4,
  });
  const edges = blocks.flatMap((b) => b.events.flatMap(edgesOfEvent));
  const sub = subgraphAround(edges, c.target, c.depth);
  const lastHash = blocks.at(-1)?.hash;
  const hotkeys = sub.nodes.filter((n) => n.type === 'hotkey').map((n) => n.address);
  const owners = await Promise.all(hotkeys.map((h) => ownerOf(api, h, lastHash)));
  const known = new Set(sub.nodes.map((n) => n.address));
  const ownership: GraphEdge[] = [];
  hotkeys.forEach((hotkey, i) => {
    const owner = owners[i];
    if (!owner) return;
    ownership.push({ type: 'OWNS_HOTKEY', from: owner, to: hotkey, evidence: { blockNumber: window.to } });
    if (!known.has(owner)) {
      known.add(owner);
      sub.nodes.push({ address: owner, type: 'wallet' });
    }
  });
  return { nodes: sub.nodes, edges: [...sub.edges, ...ownership] };
}

/** A Patrol miner: answers the challenges on its own stream, signed with its hotkey. */
export function createPatrolMiner(deps: MinerDeps): { reader: StreamReader; close(): Promise<void> } {
  const me = deps.hotkey.address;
  const onChallenge = async (raw: string | null) => {
    const data = messageData(raw);
    const parsed = challengeSchema.safeParse(data);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      deps.log.warn({ err: why.slice(0, 500) }, 'invalid challenge: not answered');
      return;
    }
    const c = parsed.data;
    const replyTo = patrolAnswerStream(deps.prefix, c.validator, me);
    if (c.miner !== me || c.replyTo !== replyTo) {
      deps.log.warn(
        { challenge: c.id, miner: c.miner, replyTo: c.replyTo },
        'challenge not for this miner: not answered',
      );
      return;
    }
    if (Date.now() > c.deadline) {
      deps.log.debug({ challenge: c.id }, 'challenge past its deadline: not answered');
      return;
    }
    if (c.chain === 'ethereum' ? !deps.ethereum : !deps.api) {
      deps.log.warn(
        { challenge: c.id, chain: c.chain },
        `no ${c.chain} node configured: challenge not answered`,
      );
      return;
    }
    const started = performance.now();
    const sub =
      c.chain === 'ethereum' ? await deps.ethereum!(c) : await buildSubgraph(deps.api!, c, deps.read);
    let answer = signAnswer(deps.hotkey, c.id, sub);
    if (deps.tamper) answer = await deps.tamper(answer, c);
    await appendMessage(deps.connection, replyTo, JSON.stringify(answer), 100);
    const ms = Math.round(performance.now() - started);
    deps.log.info(
      { challenge: c.id, target: c.target, nodes: sub.nodes.length, edges: sub.edges.length, ms },
      'answered',
    );
  };
  const reader = createStreamReader({
    connection: deps.connection,
    onMessage: (_key, raw) => onChallenge(raw),
    log: deps.log,
    concurrency: 2,
    blockMs: 500,
  });
  reader.watch([patrolChallengeStream(deps.prefix, me)]);
  return { reader, close: () => reader.close() };
}
