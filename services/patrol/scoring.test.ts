import { describe, expect, it } from 'vitest';
import { DEFAULT_SCORING, completenessFactor, scoreAnswer } from './scoring.ts';

const p = DEFAULT_SCORING;

describe('Patrol scoring', () => {
  it('pays completeness above the floor linearly, nothing at or below it', () => {
    expect(completenessFactor(1, p)).toBe(1);
    expect(completenessFactor(0.9, p)).toBeCloseTo(0.5, 12);
    expect(completenessFactor(0.8, p)).toBe(0);
    expect(completenessFactor(0.3, p)).toBe(0);
    expect(completenessFactor(Number.NaN, p)).toBe(0);
  });

  it('counts novelty as new edges, capped: known edges added never lower it', () => {
    // 10 new edges alone (incomplete: the 90 known ones left out) against the complete answer.
    const alone = scoreAnswer({ volume: 21, seconds: 1, novelEdges: 10, completeness: 0.1 }, p);
    const complete = scoreAnswer({ volume: 201, seconds: 1, novelEdges: 10, completeness: 1 }, p);
    expect(alone.novelty).toBe(complete.novelty);
    expect(complete.novelty).toBe(10 / p.noveltyCap);
    expect(alone.total).toBe(0);
    expect(complete.total).toBeGreaterThan(0);
    expect(
      scoreAnswer({ volume: 1, seconds: 0, novelEdges: 10 * p.noveltyCap, completeness: 1 }, p).novelty,
    ).toBe(1);
  });

  it('never scores a part of an answer above the whole', () => {
    for (const share of [0.99, 0.95, 0.9, 0.85]) {
      const part = scoreAnswer({ volume: 200 * share, seconds: 1, novelEdges: 20, completeness: share }, p);
      const whole = scoreAnswer({ volume: 200, seconds: 1, novelEdges: 20, completeness: 1 }, p);
      expect(part.total).toBeLessThan(whole.total);
    }
  });
});
