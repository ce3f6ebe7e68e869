import { describe, expect, it } from 'vitest';
import type { Answer, Challenge } from '../../protocol/patrol.ts';
import { newSs58, sampleSubgraph } from '../../test/fixtures.ts';
import type { Collected } from './answers.ts';
import { judgeAnswer } from './judge.ts';
import type { PatrolVerifier } from './seam.ts';

/** A challenge on the sample subgraph's target and the answer holding that subgraph. */
function fixture() {
  const sub = sampleSubgraph();
  const miner = { hotkey: newSs58(), uid: 3 };
  const c: Challenge = {
    chain: 'bittensor',
    id: 'r1-x',
    round: 1,
    validator: 'v',
    miner: miner.hotkey,
    target: sub.target,
    targetBlock: 500,
    window: 50,
    maxBlock: 520,
    depth: 2,
    deadline: Date.now() + 1000,
    replyTo: 'unused',
  };
  const answer: Answer = {
    challengeId: c.id,
    miner: miner.hotkey,
    subgraph: { nodes: sub.nodes, edges: sub.edges },
    signature: '0x00',
    sentAt: 0,
  };
  const collected: Collected = { got: { answer, arrivedAt: Date.now() } };
  return { c, miner, answer, collected, sub };
}

const never: PatrolVerifier = async () => {
  throw new Error('the verifier must not run');
};
const ctx = (verify: PatrolVerifier) => ({ chain: 'bittensor' as const, validator: 'v-hotkey', verify });

describe('judging a Patrol answer', () => {
  it('no answer, or only refused ones: not paid, with the reason the miner reads', async () => {
    const { c, miner } = fixture();
    expect(await judgeAnswer(c, miner, { got: null }, ctx(never))).toEqual({
      accepted: false,
      kind: 'no_answer',
      reason: 'no answer before the deadline',
    });
    expect(await judgeAnswer(c, miner, { got: null, refused: 'bad signature' }, ctx(never))).toEqual({
      accepted: false,
      kind: 'refused',
      reason: 'no valid answer before the deadline (refused on arrival: bad signature)',
    });
  });

  it('an answer the ingest worker would refuse is unstorable before any chain work', async () => {
    const { c, miner, collected } = fixture();
    const offTarget = { ...c, target: newSs58() };
    const v = await judgeAnswer(offTarget, miner, collected, ctx(never));
    expect(v).toMatchObject({ accepted: false, kind: 'unstorable' });
    expect((v as { reason: string }).reason).toContain(`target: ${offTarget.target} is not among the nodes`);
  });

  it("passes the chain verifier's refusal through, and a verifier failure rejects as error", async () => {
    const { c, miner, collected } = fixture();
    const refuses: PatrolVerifier = async () => ({ accepted: false, kind: 'incomplete', reason: '3 of 9' });
    expect(await judgeAnswer(c, miner, collected, ctx(refuses))).toEqual({
      accepted: false,
      kind: 'incomplete',
      reason: '3 of 9',
    });
    const fails: PatrolVerifier = async () => {
      throw new Error('RPC down');
    };
    expect(await judgeAnswer(c, miner, collected, ctx(fails))).toEqual({
      accepted: false,
      kind: 'error',
      reason: 'verification failed: RPC down',
    });
  });

  it('an accepted answer becomes the ingest job of its challenge, miner and validator', async () => {
    const { c, miner, collected, answer, sub } = fixture();
    let asked: [Answer, Challenge] | undefined;
    const accepts: PatrolVerifier = async (a, ch) => {
      asked = [a, ch];
      return { accepted: true, edges: sub.edges, volume: 7, completeness: 0.9 };
    };
    const v = await judgeAnswer(c, miner, collected, ctx(accepts));
    expect(asked).toEqual([answer, c]);
    expect(v).toMatchObject({ accepted: true, volume: 7, completeness: 0.9 });
    if (!v.accepted) throw new Error('accepted');
    expect(v.job).toMatchObject({
      kind: 'subgraph',
      chain: 'bittensor',
      submissionId: `r1-x:${miner.hotkey}`,
      target: sub.target,
      window: { from: 450, to: 520 },
      miner,
      validator: { hotkey: 'v-hotkey' },
      nodes: sub.nodes,
      edges: sub.edges,
    });
  });
});
