import { keccak256 } from 'ethers';
import { describe, expect, it } from 'vitest';
import {
  InvalidInvariantError,
  type Invariant,
  type Observations,
  evaluateInvariant,
  extractField,
  mappingSlot,
  observableKey,
  observablesOf,
  parseInvariant,
  parseInvariants,
} from './invariants.ts';

const C = '0x' + 'ab'.repeat(20);
const OWNER_A = 0x1111111111111111111111111111111111111111n;
const OWNER_B = 0x2222222222222222222222222222222222222222n;

function obs(inv: Invariant, before: bigint, after: bigint): Observations {
  const k = observableKey(observablesOf(inv)[0]!);
  return { before: new Map([[k, before]]), after: new Map([[k, after]]) };
}

describe('parseInvariants', () => {
  it('normalises addresses, slots and defaults', () => {
    const inv = parseInvariant({
      id: 'o',
      kind: 'ownerUnchanged',
      contract: C.toUpperCase().replace('0X', '0x'),
    });
    expect(inv).toMatchObject({
      kind: 'ownerUnchanged',
      field: { contract: C, slot: 0n, offset: 0, size: 20, type: 'address' },
    });
    const p = parseInvariant({
      id: 'p',
      kind: 'unchanged',
      contract: C,
      slot: '0x0',
      offset: 20,
      type: 'bool',
    });
    expect(p).toMatchObject({ field: { slot: 0n, offset: 20, size: 1, type: 'bool' } });
  });

  it('reports every issue with its path', () => {
    try {
      parseInvariants([
        { id: 'a', kind: 'compare', contract: '0x12', slot: 0, op: '>=', target: 1 },
        { id: 'b', kind: 'nope' },
      ]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInvariantError);
      const issues = (e as InvalidInvariantError).issues.join('\n');
      expect(issues).toMatch(/invariants\[0\]\.contract: expected a 0x-prefixed 20-byte hex address/);
      expect(issues).toMatch(/invariants\[1\]\.kind/);
    }
  });

  it('rejects semantic mistakes', () => {
    expect(() =>
      parseInvariant({ id: 'a', kind: 'compare', contract: C, slot: 0, type: 'address', op: '<', target: 1 }),
    ).toThrow(/only == and != apply/);
    expect(() =>
      parseInvariant({ id: 'a', kind: 'unchanged', contract: C, slot: 0, offset: 20, size: 20 }),
    ).toThrow(/exceeds 32 bytes/);
    expect(() => parseInvariant({ id: 'a', kind: 'balanceMaxDrop', account: C })).toThrow(
      /bps .* or maxDrop/,
    );
    expect(() =>
      parseInvariant({ id: 'a', kind: 'compare', contract: C, slot: 0, size: 1, op: '<', target: 256 }),
    ).toThrow(/does not fit/);
    expect(() => parseInvariant({ id: 'a', kind: 'unchanged', contract: C, slot: 'x1' })).toThrow(
      /expected an integer/,
    );
    expect(() =>
      parseInvariants([
        { id: 'a', kind: 'unchanged', contract: C, slot: 1 },
        { id: 'a', kind: 'unchanged', contract: C, slot: 2 },
      ]),
    ).toThrow(/duplicate id/);
  });
});

describe('fields and slots', () => {
  it('extracts packed fields and sign-extends ints', () => {
    const word = (1n << 160n) | OWNER_A; // paused=true at byte 20, owner in bytes 0..19
    expect(extractField(word, { offset: 0, size: 20, type: 'address' })).toBe(OWNER_A);
    expect(extractField(word, { offset: 20, size: 1, type: 'bool' })).toBe(1n);
    expect(extractField(0xffn, { offset: 0, size: 1, type: 'int' })).toBe(-1n);
    expect(extractField(0xff00n, { offset: 1, size: 1, type: 'uint' })).toBe(255n);
  });

  it('computes Solidity mapping slots as keccak(pad(key) . pad(slot))', () => {
    const holder = '0x' + '11'.repeat(20);
    const expected = BigInt(keccak256('0x' + holder.slice(2).padStart(64, '0') + '3'.padStart(64, '0')));
    expect(mappingSlot(holder, 3n)).toBe(expected);
    expect(mappingSlot(holder, 3n, 'vyper')).not.toBe(expected);
  });
});

describe('evaluateInvariant', () => {
  it('compare judges the new value of a changed field', () => {
    const inv = parseInvariant({ id: 'c', kind: 'compare', contract: C, slot: 4, op: '>=', target: 100 });
    expect(evaluateInvariant(inv, obs(inv, 150n, 120n))).toMatchObject({
      status: 'holds',
      before: '150',
      after: '120',
    });
    expect(evaluateInvariant(inv, obs(inv, 150n, 99n))).toMatchObject({ status: 'violated', after: '99' });
    // Unchanged by the tx: not this tx's doing, reported but holds.
    expect(evaluateInvariant(inv, obs(inv, 50n, 50n))).toMatchObject({
      status: 'holds',
      reason: expect.stringMatching(/already failed/),
    });
  });

  it('packed bool: a write to the owner half of the slot leaves paused unchanged', () => {
    const inv = parseInvariant({
      id: 'p',
      kind: 'unchanged',
      contract: C,
      slot: 0,
      offset: 20,
      type: 'bool',
    });
    expect(evaluateInvariant(inv, obs(inv, (1n << 160n) | OWNER_A, (1n << 160n) | OWNER_B)).status).toBe(
      'holds',
    );
    expect(evaluateInvariant(inv, obs(inv, (1n << 160n) | OWNER_A, OWNER_A))).toMatchObject({
      status: 'violated',
      before: 'true',
      after: 'false',
    });
  });

  it('ownerUnchanged reports addresses', () => {
    const inv = parseInvariant({ id: 'o', kind: 'ownerUnchanged', contract: C });
    expect(evaluateInvariant(inv, obs(inv, OWNER_A, OWNER_B))).toMatchObject({
      status: 'violated',
      before: '0x1111111111111111111111111111111111111111',
      after: '0x2222222222222222222222222222222222222222',
    });
  });

  it('maxIncrease / maxDecrease are relative in basis points', () => {
    const inc = parseInvariant({ id: 'i', kind: 'maxIncrease', contract: C, slot: 1, bps: 500 });
    expect(evaluateInvariant(inc, obs(inc, 1000n, 1050n)).status).toBe('holds');
    expect(evaluateInvariant(inc, obs(inc, 1000n, 1051n)).status).toBe('violated');
    const dec = parseInvariant({ id: 'd', kind: 'maxDecrease', contract: C, slot: 1, bps: 1000 });
    expect(evaluateInvariant(dec, obs(dec, 1000n, 900n)).status).toBe('holds');
    expect(evaluateInvariant(dec, obs(dec, 1000n, 899n)).status).toBe('violated');
  });

  it('balanceFloor and balanceMaxDrop on native balances', () => {
    const floor = parseInvariant({ id: 'f', kind: 'balanceFloor', account: C, min: '1000' });
    expect(evaluateInvariant(floor, obs(floor, 5000n, 1000n)).status).toBe('holds');
    expect(evaluateInvariant(floor, obs(floor, 5000n, 999n)).status).toBe('violated');
    expect(evaluateInvariant(floor, obs(floor, 500n, 600n)).status).toBe('holds');
    const drop = parseInvariant({ id: 'd', kind: 'balanceMaxDrop', account: C, bps: 1000, maxDrop: 50 });
    // The stricter of 10 % (100) and 50 applies.
    expect(evaluateInvariant(drop, obs(drop, 1000n, 950n)).status).toBe('holds');
    expect(evaluateInvariant(drop, obs(drop, 1000n, 949n))).toMatchObject({
      status: 'violated',
      reason: 'dropped by 51, allowed 50',
    });
  });

  it('erc20BalanceDrop watches the holder slot of the balanceOf mapping', () => {
    const holder = '0x' + '22'.repeat(20);
    const inv = parseInvariant({
      id: 't',
      kind: 'erc20BalanceDrop',
      token: C,
      holder,
      mappingSlot: 0,
      bps: 0,
    });
    expect(observablesOf(inv)).toEqual([{ kind: 'storage', address: C, slot: mappingSlot(holder, 0n) }]);
    expect(evaluateInvariant(inv, obs(inv, 10n, 10n)).status).toBe('holds');
    expect(evaluateInvariant(inv, obs(inv, 10n, 9n)).status).toBe('violated');
  });

  it('a missing observation is an error, never holds', () => {
    const inv = parseInvariant({ id: 'o', kind: 'ownerUnchanged', contract: C });
    expect(evaluateInvariant(inv, { before: new Map(), after: new Map() }).status).toBe('error');
  });
});
