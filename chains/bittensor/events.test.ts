import { describe, expect, it } from 'vitest';
import { type MetaField, pickLayout } from './events.ts';

const a = (name = ''): MetaField => ({ name, kind: 'account' });
const i = (name = ''): MetaField => ({ name, kind: 'int' });

describe('pickLayout', () => {
  it('reads spec-218 StakeAdded (coldkey, hotkey, tao, alpha, netuid) without a fee', () => {
    const p = pickLayout('SubtensorModule.StakeAdded', [a(), a(), i(), i(), i()]);
    expect(p?.layout.fields.map((f) => f.key)).toEqual(['coldkey', 'hotkey', 'tao', 'alpha', 'netuid']);
    expect(p?.layout.defaults).toEqual({ fee: null });
  });

  it('reads the mainnet StakeRemoved layout with the extra fee field', () => {
    const p = pickLayout('SubtensorModule.StakeRemoved', [a(), a(), i(), i(), i(), i()]);
    expect(p?.layout.fields.map((f) => f.key)).toEqual([
      'coldkey',
      'hotkey',
      'tao',
      'alpha',
      'netuid',
      'fee',
    ]);
  });

  it('tells the old StakeMoved from the new one with an amount', () => {
    expect(pickLayout('SubtensorModule.StakeMoved', [a(), a(), i(), a(), i()])?.layout.defaults).toEqual({
      amount: null,
    });
    const p = pickLayout('SubtensorModule.StakeMoved', [a(), a(), i(), a(), i(), i()]);
    expect(p?.layout.fields.at(-1)?.key).toBe('amount');
  });

  it('maps named fields by name, whatever their order, and ignores extra ones', () => {
    const p = pickLayout('SubtensorModule.ColdkeySwapped', [
      i('swap_cost'),
      a('new_coldkey'),
      a('old_coldkey'),
    ]);
    expect(p?.positions).toEqual([2, 1]);
  });

  it('refuses a layout it does not know instead of guessing by position', () => {
    expect(pickLayout('SubtensorModule.StakeAdded', [a(), i(), a(), i(), i()])).toBeNull();
    expect(pickLayout('SubtensorModule.StakeAdded', [a(), a(), i()])).toBeNull();
    expect(pickLayout('SubtensorModule.Unknown', [a()])).toBeNull();
  });

  it('knows the newer staking and children events', () => {
    expect(pickLayout('SubtensorModule.StakeTransferred', [a(), a(), a(), i(), i(), i()])?.layout.kind).toBe(
      'StakeTransferred',
    );
    expect(pickLayout('SubtensorModule.StakeSwapped', [a(), a(), i(), i(), i()])?.layout.kind).toBe(
      'StakeSwapped',
    );
    expect(
      pickLayout('SubtensorModule.SetChildrenScheduled', [a(), i(), i(), { name: '', kind: 'children' }])
        ?.layout.kind,
    ).toBe('SetChildrenScheduled');
  });
});
