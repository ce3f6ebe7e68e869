import { describe, expect, it } from 'vitest';
import { addBounded, rememberBounded } from './bounded.ts';

describe('bounded maps and sets', () => {
  it('keep the newest entries; setting a key again makes it the newest', () => {
    const m = new Map<string, number>();
    for (const k of ['a', 'b', 'c']) rememberBounded(m, k, 1, 3);
    rememberBounded(m, 'a', 2, 3);
    rememberBounded(m, 'd', 1, 3);
    expect([...m]).toEqual([
      ['c', 1],
      ['a', 2],
      ['d', 1],
    ]);
  });

  it('say whether a value was new, and forget the oldest past the bound', () => {
    const s = new Set<string>();
    expect(['a', 'b', 'a', 'c'].map((v) => addBounded(s, v, 2))).toEqual([true, true, false, true]);
    expect([...s]).toEqual(['b', 'c']);
    expect(addBounded(s, 'a', 2)).toBe(true);
  });
});
