import type { AccountFields, StateManagerInterface } from '@ethereumjs/common';
import {
  Account,
  type Address,
  KECCAK256_NULL,
  KECCAK256_RLP,
  bigIntToUnpaddedBytes,
  bytesToBigInt,
  bytesToHex,
  hexToBytes,
} from '@ethereumjs/util';
import { keccak256 } from 'ethers';
import type { JsonRpcClient } from '../../chains/ethereum/rpc.ts';

/**
 * State of one block as read over JSON-RPC, cached for the life of that block. Shared by every
 * simulation on the block; it is never written by a simulation (writes live in ForkState's overlay),
 * which sidesteps @ethereumjs's RPCStateManager pitfalls (partial commit, reads dropped on revert).
 */
export interface AccountData {
  nonce: bigint;
  balance: bigint;
  code: Uint8Array;
  codeHash: Uint8Array;
}

export class BlockReader {
  readonly blockTag: string;
  private readonly accounts = new Map<string, Promise<AccountData>>();
  private readonly storage = new Map<string, Promise<bigint>>();
  private readonly hashes = new Map<number, Promise<Uint8Array>>();
  /** RPC round trips issued (each batch counts once per request issued together). */
  reads = 0;

  constructor(
    private readonly rpc: JsonRpcClient,
    blockNumber: bigint,
  ) {
    this.blockTag = `0x${blockNumber.toString(16)}`;
  }

  /** addr: lowercase 0x hex. Failed reads are not cached, so a later check retries them. */
  getAccount(addr: string): Promise<AccountData> {
    let p = this.accounts.get(addr);
    if (!p) {
      this.reads++;
      p = this.rpc
        .batch([
          { method: 'eth_getTransactionCount', params: [addr, this.blockTag] },
          { method: 'eth_getBalance', params: [addr, this.blockTag] },
          { method: 'eth_getCode', params: [addr, this.blockTag] },
        ])
        .then(([nonce, balance, code]) => {
          const bytes = hexToBytes(code as `0x${string}`);
          return {
            nonce: BigInt(nonce as string),
            balance: BigInt(balance as string),
            code: bytes,
            codeHash: bytes.length === 0 ? KECCAK256_NULL : hexToBytes(keccak256(bytes) as `0x${string}`),
          };
        });
      this.accounts.set(addr, p);
      p.catch(() => this.accounts.delete(addr));
    }
    return p;
  }

  getStorage(addr: string, slot: bigint): Promise<bigint> {
    const key = `${addr}:${slot.toString(16)}`;
    let p = this.storage.get(key);
    if (!p) {
      this.reads++;
      p = this.rpc
        .call<string>('eth_getStorageAt', [addr, `0x${slot.toString(16)}`, this.blockTag])
        .then((v) => BigInt(v));
      this.storage.set(key, p);
      p.catch(() => this.storage.delete(key));
    }
    return p;
  }

  getBlockHash(n: number): Promise<Uint8Array> {
    let p = this.hashes.get(n);
    if (!p) {
      p = this.rpc
        .call<{ hash: string } | null>('eth_getBlockByNumber', [`0x${n.toString(16)}`, false])
        .then((b) => {
          return b ? hexToBytes(b.hash as `0x${string}`) : new Uint8Array(32);
        });
      this.hashes.set(n, p);
      p.catch(() => this.hashes.delete(n));
    }
    return p;
  }

  /** Warms accounts and slots with calls issued in one tick, so the RPC client sends them as one batch. */
  async prefetch(
    accounts: Iterable<string>,
    slots: Iterable<{ address: string; slot: bigint }>,
  ): Promise<void> {
    const ps: Promise<unknown>[] = [];
    for (const a of accounts) ps.push(this.getAccount(a));
    for (const s of slots) ps.push(this.getStorage(s.address, s.slot));
    await Promise.all(ps);
  }
}

type Undo = () => void;

/**
 * StateManagerInterface over a BlockReader plus a private write overlay with an undo journal.
 * checkpoint/commit/revert cover accounts, code AND storage (all of them, unlike RPCStateManager.commit).
 * One ForkState serves one simulation at a time; reset() starts the next one on the same or a new block.
 */
export class ForkState implements StateManagerInterface {
  private base: BlockReader;
  private accounts = new Map<string, Account | undefined>();
  private code = new Map<string, Uint8Array>();
  private storage = new Map<string, Uint8Array>();
  /** Addresses whose pre-existing storage is gone (SELFDESTRUCT in the same tx / CREATE over an address). */
  private cleared = new Set<string>();
  private journal: Undo[] = [];
  private checkpoints: number[] = [];
  private original = new Map<string, Uint8Array>();

  originalStorageCache = {
    get: async (address: Address, key: Uint8Array): Promise<Uint8Array> => {
      const k = `${address.toString()}:${bytesToHex(key)}`;
      const hit = this.original.get(k);
      if (hit) return hit;
      const v = await this.getStorage(address, key);
      this.original.set(k, v);
      return v;
    },
    clear: (): void => {
      this.original.clear();
    },
  };

  constructor(base: BlockReader) {
    this.base = base;
  }

  reset(base: BlockReader): void {
    this.base = base;
    this.accounts.clear();
    this.code.clear();
    this.storage.clear();
    this.cleared.clear();
    this.journal = [];
    this.checkpoints = [];
    this.original.clear();
  }

  get reader(): BlockReader {
    return this.base;
  }

  private set<K, V>(map: Map<K, V>, key: K, value: V): void {
    if (this.checkpoints.length > 0) {
      const had = map.has(key);
      const prev = map.get(key);
      this.journal.push(had ? () => map.set(key, prev as V) : () => map.delete(key));
    }
    map.set(key, value);
  }

  async getAccount(address: Address): Promise<Account | undefined> {
    const a = address.toString();
    if (this.accounts.has(a)) {
      const acc = this.accounts.get(a);
      // Copies: the EVM mutates accounts it gets, and journal entries must keep their old values.
      return acc === undefined
        ? undefined
        : new Account(acc.nonce, acc.balance, acc.storageRoot, acc.codeHash);
    }
    const d = await this.base.getAccount(a);
    if (d.nonce === 0n && d.balance === 0n && d.code.length === 0) return undefined;
    return new Account(d.nonce, d.balance, KECCAK256_RLP, d.codeHash);
  }

  async putAccount(address: Address, account?: Account): Promise<void> {
    const copy =
      account === undefined
        ? undefined
        : new Account(account.nonce, account.balance, account.storageRoot, account.codeHash);
    this.set(this.accounts, address.toString(), copy);
  }

  async deleteAccount(address: Address): Promise<void> {
    const a = address.toString();
    this.set(this.accounts, a, undefined);
    this.set(this.code, a, new Uint8Array(0));
    await this.clearStorage(address);
  }

  async modifyAccountFields(address: Address, fields: AccountFields): Promise<void> {
    const acc = (await this.getAccount(address)) ?? new Account();
    if (fields.nonce !== undefined) acc.nonce = fields.nonce;
    if (fields.balance !== undefined) acc.balance = fields.balance;
    if (fields.storageRoot !== undefined) acc.storageRoot = fields.storageRoot;
    if (fields.codeHash !== undefined) acc.codeHash = fields.codeHash;
    await this.putAccount(address, acc);
  }

  async putCode(address: Address, value: Uint8Array): Promise<void> {
    this.set(this.code, address.toString(), value);
    const hash = value.length === 0 ? KECCAK256_NULL : hexToBytes(keccak256(value) as `0x${string}`);
    await this.modifyAccountFields(address, { codeHash: hash });
  }

  async getCode(address: Address): Promise<Uint8Array> {
    const a = address.toString();
    const c = this.code.get(a);
    if (c) return c;
    if (this.accounts.has(a) && this.accounts.get(a) === undefined) return new Uint8Array(0);
    return (await this.base.getAccount(a)).code;
  }

  async getCodeSize(address: Address): Promise<number> {
    return (await this.getCode(address)).length;
  }

  async getStorage(address: Address, key: Uint8Array): Promise<Uint8Array> {
    const a = address.toString();
    const v = this.storage.get(`${a}:${bytesToHex(key)}`);
    if (v) return v;
    if (this.cleared.has(a)) return new Uint8Array(0);
    return bigIntToUnpaddedBytes(await this.base.getStorage(a, bytesToBigInt(key)));
  }

  async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    this.set(this.storage, `${address.toString()}:${bytesToHex(key)}`, value);
  }

  async clearStorage(address: Address): Promise<void> {
    const a = address.toString();
    const prefix = `${a}:`;
    for (const k of [...this.storage.keys()])
      if (k.startsWith(prefix)) this.set(this.storage, k, new Uint8Array(0));
    if (!this.cleared.has(a)) {
      if (this.checkpoints.length > 0) this.journal.push(() => this.cleared.delete(a));
      this.cleared.add(a);
    }
  }

  /** Current value of a slot as the simulation sees it (overlay, else block state). */
  async readSlot(address: string, slot: bigint): Promise<bigint> {
    const v = this.storage.get(`${address}:0x${slot.toString(16).padStart(64, '0')}`);
    if (v) return bytesToBigInt(v);
    if (this.cleared.has(address)) return 0n;
    return this.base.getStorage(address, slot);
  }

  async readBalance(address: string): Promise<bigint> {
    if (this.accounts.has(address)) return this.accounts.get(address)?.balance ?? 0n;
    return (await this.base.getAccount(address)).balance;
  }

  async checkpoint(): Promise<void> {
    this.checkpoints.push(this.journal.length);
  }

  async commit(): Promise<void> {
    this.checkpoints.pop();
    // At the outermost level nothing can be reverted any more: drop the undo log.
    if (this.checkpoints.length === 0) this.journal = [];
  }

  async revert(): Promise<void> {
    const mark = this.checkpoints.pop() ?? 0;
    while (this.journal.length > mark) this.journal.pop()!();
  }

  async getStateRoot(): Promise<Uint8Array> {
    // Only pre-Byzantium receipts need it; the pinned hardfork is far later.
    return new Uint8Array(32);
  }

  async setStateRoot(): Promise<void> {
    // Not user-facing: an unsupported StateManager operation is a programming error.
    throw new Error('ForkState: setStateRoot is not supported');
  }

  async hasStateRoot(): Promise<boolean> {
    return false;
  }

  clearCaches(): void {}

  shallowCopy(): StateManagerInterface {
    return new ForkState(this.base);
  }
}
