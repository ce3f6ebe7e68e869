import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { signDefenseAnswer, signHeartbeat } from './defense.ts';
import { canonicalJson, isSs58, signValue, signatureValid, signingDigest } from './signing.ts';

let pair: ReturnType<Keyring['addFromUri']>;
beforeAll(async () => {
  await cryptoWaitReady();
  pair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//signing-test');
});

describe('canonical JSON (RFC 8785)', () => {
  it("matches the RFC's own examples (numbers, escapes, key order by UTF-16 code units)", () => {
    // RFC 8785 §3.2.2: its input JSON text, parsed, and its canonical output.
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
    // RFC 8785 §3.2.3: sorting by UTF-16 code units, not code points.
    const keys = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalJson(keys)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('leaves absent fields out and refuses what has no canonical form', () => {
    expect(canonicalJson({ b: 1, a: undefined, c: [undefined] })).toBe('{"b":1,"c":[null]}');
    expect(() => canonicalJson({ x: Number.NaN })).toThrow('NaN');
    expect(() => canonicalJson({ x: Number.POSITIVE_INFINITY })).toThrow('Infinity');
    expect(() => canonicalJson({ x: '\ud800' })).toThrow('surrogate');
    expect(signatureValid({ x: Number.NaN }, `0x${'00'.repeat(64)}`, pair.address)).toBe(false);
  });
});

describe('signing', () => {
  it('signs blake2-256 of the canonical bytes with sr25519, whatever the key order in transit', () => {
    const value = { b: [1, { y: 'é', x: null }], a: 'x' };
    expect(u8aToHex(signingDigest(value))).toBe(blake2AsHex('{"a":"x","b":[1,{"x":null,"y":"é"}]}', 256));
    const sig = signValue(pair, value);
    expect(signatureValid(JSON.parse(JSON.stringify({ a: 'x', b: value.b })), sig, pair.address)).toBe(true);
    expect(signatureValid({ ...value, a: 'y' }, sig, pair.address)).toBe(false);
    const other = new Keyring({ type: 'sr25519' }).addFromUri('//someone-else');
    expect(signatureValid(value, sig, other.address)).toBe(false);
    expect(signatureValid(value, 'not hex', pair.address)).toBe(false);
    expect(signatureValid(value, sig, 'not an address')).toBe(false);
    expect(isSs58(pair.address)).toBe(true);
    expect(isSs58(`${pair.address.slice(0, -1)}x`)).toBe(false);
  });

  it('signs exactly the documented bytes of a defense answer and heartbeat (docs/architecture.md)', () => {
    const miner = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY'; // //Alice
    const alice = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Alice');
    expect(alice.address).toBe(miner);
    const answer = signDefenseAnswer(alice, {
      challengeId: 'v1:0xab:7',
      miner,
      validator: 'v1',
      blockNumber: 7,
      txStatus: 'success',
      results: [{ id: 'vault-owner', status: 'violated', before: '0x01', after: '0x02' }],
      latencyMs: 3.5,
    });
    const bytes =
      '{"blockNumber":7,"challengeId":"v1:0xab:7","latencyMs":3.5,"miner":"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",' +
      '"results":[{"after":"0x02","before":"0x01","id":"vault-owner","status":"violated"}],"txStatus":"success","validator":"v1"}';
    const { signature, ...signed } = answer;
    expect(canonicalJson(signed)).toBe(bytes);
    expect(signatureValid(JSON.parse(bytes), signature, miner)).toBe(true);
    const beat = signHeartbeat(alice, 1_700_000_000_000);
    expect(canonicalJson({ miner: beat.miner, at: beat.at })).toBe(`{"at":1700000000000,"miner":"${miner}"}`);
    expect(signatureValid(JSON.parse(`{"at":1700000000000,"miner":"${miner}"}`), beat.signature, miner)).toBe(
      true,
    );
  });
});
