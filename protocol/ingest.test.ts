import { describe, expect, it } from 'vitest';
import { InvalidPayloadError } from '../common/errors.ts';
import { sampleFinding, sampleSubgraph } from '../test/fixtures.ts';
import { JOB_LIMITS, checkBuiltSubgraphJob, parseIngestJob } from './ingest.ts';

function issuesOf(data: unknown): string[] {
  try {
    parseIngestJob(data);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidPayloadError);
    return (err as InvalidPayloadError).issues;
  }
  throw new Error('expected the payload to be rejected');
}

describe('parseIngestJob', () => {
  it('accepts a well-formed subgraph and a finding, lower-casing 0x addresses', () => {
    const job = sampleSubgraph();
    expect(parseIngestJob(job)).toEqual(job);
    const f = sampleFinding();
    f.tx.from = f.tx.from.toUpperCase().replace('0X', '0x');
    const parsed = parseIngestJob(f);
    expect(parsed.kind === 'finding' && parsed.tx.from).toBe(f.tx.from.toLowerCase());
  });

  it('names the field of a bad address', () => {
    const job = sampleSubgraph();
    job.nodes[1]!.address = 'not-an-ss58';
    job.edges[0]!.to = 'not-an-ss58';
    expect(issuesOf(job)).toEqual(
      expect.arrayContaining([
        'nodes.1.address: "not-an-ss58" is not a valid bittensor address',
        'edges.0.to: "not-an-ss58" is not a valid bittensor address',
      ]),
    );
  });

  it('rejects an edge pointing to no node', () => {
    const job = sampleSubgraph();
    const stranger = sampleSubgraph().target;
    job.edges[1]!.to = stranger;
    expect(issuesOf(job)).toEqual([`edges.1.to: ${stranger} is not among the nodes`]);
  });

  it('rejects missing evidence and missing identity fields', () => {
    const job = sampleSubgraph() as unknown as { edges: Record<string, unknown>[] };
    delete job.edges[0]!.evidence;
    expect(issuesOf(job)).toEqual(['edges.0.evidence: Required']);

    const noIndex = sampleSubgraph();
    delete noIndex.edges[0]!.evidence.eventIndex;
    delete noIndex.edges[1]!.evidence.amount;
    expect(issuesOf(noIndex)).toEqual([
      'edges.0.evidence.eventIndex: required for a TRANSFER edge on bittensor',
      'edges.1.evidence.amount: required for a STAKE_ADD edge',
    ]);
  });

  it('rejects wrong types with the path of each', () => {
    const job = sampleSubgraph() as unknown as Record<string, any>;
    job.edges[0].evidence.blockNumber = '12';
    job.edges[0].evidence.amount = 1.5;
    job.edges[2].type = 'HUG';
    const issues = issuesOf(job);
    expect(issues).toContain('edges.0.evidence.blockNumber: Expected number, received string');
    expect(issues).toContain('edges.0.evidence.amount: Expected string, received number');
    expect(issues.some((i) => i.startsWith('edges.2.type: Invalid enum value'))).toBe(true);
  });

  it('rejects duplicates, an absent target, unknown fields and unknown kinds', () => {
    const job = sampleSubgraph();
    job.nodes.push({ ...job.nodes[1]! });
    expect(issuesOf(job)).toEqual([`nodes.6.address: duplicate node ${job.nodes[1]!.address}`]);

    const noTarget = sampleSubgraph();
    noTarget.nodes = noTarget.nodes.filter((n) => n.address !== noTarget.target);
    expect(issuesOf(noTarget)).toContain(`target: ${noTarget.target} is not among the nodes`);

    expect(issuesOf({ ...sampleSubgraph(), extra: 1 })).toEqual([
      "(root): Unrecognized key(s) in object: 'extra'",
    ]);
    expect(issuesOf({ kind: 'gossip' })).toEqual([
      'kind: expected "subgraph", "finding" or "outcome", got "gossip"',
    ]);
    expect(issuesOf(null)).toEqual(['kind: expected "subgraph", "finding" or "outcome", got undefined']);
  });

  it('rejects a finding whose votes do not add up or whose addresses are bad', () => {
    const f = sampleFinding({ consensus: { violated: 4, total: 3, miners: [] } });
    f.tx.from = '0x1234';
    expect(issuesOf(f)).toEqual([
      'tx.from: "0x1234" is not a valid ethereum address',
      'consensus.violated: larger than consensus.total',
    ]);
  });
});

describe('checkBuiltSubgraphJob (a job built from an answer already parsed)', () => {
  const problemsOf = (job: ReturnType<typeof sampleSubgraph>): string[] => {
    try {
      checkBuiltSubgraphJob(job);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidPayloadError);
      return (err as InvalidPayloadError).issues;
    }
    return [];
  };

  it('accepts what parseIngestJob accepts, and refuses what the worker refuses, naming it', () => {
    const job = sampleSubgraph();
    expect(checkBuiltSubgraphJob(job)).toEqual(parseIngestJob(job));
    const noTarget = sampleSubgraph();
    noTarget.target = sampleSubgraph().target;
    expect(problemsOf(noTarget)).toEqual(issuesOf(noTarget));
    expect(problemsOf(noTarget).join()).toMatch(/target: .* is not among the nodes/);
    const longId = sampleSubgraph();
    longId.submissionId = 'x'.repeat(201);
    expect(problemsOf(longId)).toEqual(issuesOf(longId));
    const tooMany = sampleSubgraph();
    tooMany.edges = Array.from({ length: JOB_LIMITS.edges + 1 }, () => tooMany.edges[0]!);
    expect(problemsOf(tooMany)).toEqual(issuesOf(tooMany));
  });
});
