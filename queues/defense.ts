import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Challenge } from '../protocol/defense.ts';
import { defenseChallengeQueue } from '../protocol/keys.ts';

/** A challenge is worth nothing after its deadline: one attempt, gone once done. */
export const CHALLENGE_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: { count: 1000 },
};

export type ChallengeQueue = Queue<Challenge, unknown, 'challenge'>;

export function createChallengeQueue(connection: Redis, prefix: string, minerId: string): ChallengeQueue {
  return new Queue(defenseChallengeQueue(minerId), {
    connection,
    prefix,
    defaultJobOptions: CHALLENGE_JOB_OPTIONS,
  });
}
