import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Challenge } from '../../protocol/patrol.ts';
import { signAnswer } from '../../protocol/patrol.ts';
import { createRedisConnection } from '../../queues/connection.ts';
import { appendMessage } from '../../queues/streams.ts';
import { newSs58 } from '../../test/fixtures.ts';
import { redisUrl, silentLogger, uniquePrefix } from '../../test/services.ts';
import { createAnswerIntake } from './answers.ts';

let conn: ReturnType<typeof createRedisConnection>;
let keyring: Keyring;
beforeAll(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  conn = createRedisConnection(redisUrl(), 'worker');
});
afterAll(() => conn.disconnect());

const subgraph = () => {
  const [a, b] = [newSs58(), newSs58()];
  return {
    nodes: [
      { address: a, type: 'wallet' as const },
      { address: b, type: 'wallet' as const },
    ],
    edges: [],
  };
};

describe('Patrol answer intake', () => {
  it("takes the challenged miner's signed answer, timed on arrival; refuses the rest with a reason, per miner", async () => {
    const prefix = uniquePrefix();
    const metrics = new Registry();
    const intake = createAnswerIntake({
      connection: conn,
      prefix,
      validator: 'v',
      log: silentLogger(),
      metrics,
    });
    const [honest, other, silent] = ['//in-honest', '//in-other', '//in-silent'].map((u) =>
      keyring.addFromUri(u),
    );
    const challenge = (id: string, miner: string): Challenge => ({
      chain: 'bittensor',
      id,
      round: 1,
      validator: 'v',
      miner,
      target: 't',
      targetBlock: 1,
      window: 1,
      maxBlock: 1,
      depth: 1,
      deadline: Date.now() + 3000,
      replyTo: intake.replyTo(miner),
    });
    const cs = [challenge('c-honest', honest!.address), challenge('c-silent', silent!.address)];
    try {
      const collecting = intake.collect(cs, Date.now() + 3000);
      const honestStream = cs[0]!.replyTo;
      const silentStream = cs[1]!.replyTo;
      // On the honest miner's stream: an answer signed by another hotkey, then the real one.
      await appendMessage(conn, honestStream, JSON.stringify(signAnswer(other!, 'c-honest', subgraph())));
      const before = Date.now();
      await appendMessage(conn, honestStream, JSON.stringify(signAnswer(honest!, 'c-honest', subgraph())));
      // The honest miner answering the silent one's challenge on its own stream: not its challenge.
      await appendMessage(conn, honestStream, JSON.stringify(signAnswer(honest!, 'c-silent', subgraph())));
      // On the silent miner's stream: an unparseable entry, and an answer signed by another hotkey.
      await appendMessage(conn, silentStream, '{not json');
      await appendMessage(conn, silentStream, JSON.stringify(signAnswer(other!, 'c-silent', subgraph())));
      const [h, s] = await collecting;
      expect(h!.got?.answer.miner).toBe(honest!.address);
      expect(h!.got!.arrivedAt).toBeGreaterThanOrEqual(before);
      expect(h!.refused).toBeUndefined();
      expect(s!.got).toBeNull();
      expect(s!.refused).toBe(
        `answer for miner ${silent!.address} came signed as ${other!.address} (impersonation)`,
      );
      const refused = (await metrics.getSingleMetric('vigil_patrol_answers_refused_total')!.get()).values;
      const byReason = Object.fromEntries(
        refused.map((r) => [`${r.labels.reason}:${r.labels.miner}`, r.value]),
      );
      expect(byReason).toEqual({
        [`impersonation:${honest!.address}`]: 1,
        [`unknown:${honest!.address}`]: 1,
        [`unknown:${silent!.address}`]: 1,
        [`impersonation:${silent!.address}`]: 1,
      });
    } finally {
      await intake.close();
      await conn.del(...cs.map((c) => c.replyTo));
    }
  });
});
