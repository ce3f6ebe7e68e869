import type { KeyringPair } from '@polkadot/keyring/types';
import { u8aToHex } from '@polkadot/util';
import { blake2AsU8a, decodeAddress, sr25519Verify } from '@polkadot/util-crypto';
import canonicalize from 'canonicalize';

/**
 * The one way a miner's message is signed, for Patrol and BitDefense alike, so a miner written in
 * any language can produce the same bytes:
 *
 *   bytes     = UTF-8 of the RFC 8785 (JSON Canonicalization Scheme) serialisation of the signed
 *               object: keys sorted by UTF-16 code units at every depth, no whitespace, strings
 *               escaped as ECMAScript JSON.stringify does, numbers in ECMAScript shortest form;
 *               fields whose value is absent are left out (never `null`)
 *   digest    = blake2b-256(bytes)                               (32 bytes)
 *   signature = sr25519 signature of `digest` by the miner's hotkey, 0x-prefixed hex (64 bytes);
 *               the hotkey is the ss58 address the message names (Substrate's `sign(message)`
 *               with `message = digest`: no <Bytes> wrapping)
 *
 * Which object is signed is stated per message (protocol/patrol.ts, protocol/defense.ts): always
 * everything the validator uses from it, and the signer's own address, so a signature made for
 * one miner, one challenge or one heartbeat time proves nothing for another.
 *
 * RFC 8785 comes from `canonicalize` (erdtman's reference implementation). It refuses what has
 * no canonical form (NaN, ±Infinity, lone surrogates, cycles): such a value cannot be signed and
 * never verifies. Cost on Patrol's hot path (`npm run bench:patrol`, same run, docs/benchmarks.md):
 * encoding a 183-edge answer took 11.6 ms against 8.2 ms for the hand-written sorted-keys encoder
 * it replaced (load 24 on 2 cores; about 1 ms per answer unloaded), and the whole signature check
 * 56 vs 49 ms: the sr25519 verify dominates, so the kept library stays.
 */

/** The RFC 8785 canonical JSON text of `value` (throws on values JSON cannot carry exactly). */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined)
    throw new TypeError('a value with no JSON form (undefined, a function) cannot be signed');
  return text;
}

/** blake2b-256 of the canonical JSON bytes: what is signed. */
export function signingDigest(value: unknown): Uint8Array {
  return blake2AsU8a(canonicalJson(value), 256);
}

/** Signs `value`'s digest with `pair` (sr25519); 0x hex. */
export function signValue(pair: KeyringPair, value: unknown): string {
  return u8aToHex(pair.sign(signingDigest(value)));
}

/**
 * True iff `signature` is `signer`'s (an ss58 address) sr25519 signature of `value`'s digest.
 * Anything malformed (not an address, not hex, a value with no canonical form) is simply invalid.
 */
export function signatureValid(value: unknown, signature: string, signer: string): boolean {
  try {
    return sr25519Verify(signingDigest(value), signature, decodeAddress(signer));
  } catch {
    return false;
  }
}

/** An ss58 address (any network prefix) with a valid checksum. */
export function isSs58(address: string): boolean {
  try {
    return decodeAddress(address).length === 32;
  } catch {
    return false;
  }
}
