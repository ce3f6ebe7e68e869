import type { Common } from '@ethereumjs/common';
import { type VM, createVM } from '@ethereumjs/vm';
import type { JsonRpcClient } from '../../chains/ethereum/rpc.ts';
import { BlockReader, ForkState } from './forkState.ts';

/** One VM and the fork state it runs on; a VM runs one simulation at a time. */
export interface VmSlot {
  vm: VM;
  state: ForkState;
}

/** A fixed set of VMs: `acquire` waits (first come, first served) when all are busy. */
export interface VmPool {
  acquire(): Promise<VmSlot>;
  release(slot: VmSlot): void;
  readonly size: number;
  /** VMs free right now (tests). */
  readonly free: number;
}

export async function createVmPool(opts: {
  common: Common;
  rpc: JsonRpcClient;
  size: number;
}): Promise<VmPool> {
  const slots: VmSlot[] = [];
  for (let i = 0; i < Math.max(1, opts.size); i++) {
    // A placeholder reader: every check resets its VM's state onto the right block first.
    const state = new ForkState(new BlockReader(opts.rpc, 0n));
    // BLOCKHASH reads through whichever block this VM currently simulates on.
    const blockchain = {
      getBlock: async (n: number) => {
        const h = await state.reader.getBlockHash(n);
        return { hash: () => h };
      },
      putBlock: async () => {},
      shallowCopy() {
        return this;
      },
    };
    // biome-ignore lint/suspicious/noExplicitAny: the VM accepts any object with the EVM blockchain shape
    const vm = await createVM({ common: opts.common, stateManager: state, blockchain: blockchain as any });
    slots.push({ vm, state });
  }
  // Hand-written rather than p-limit: a slot is handed over with the turn (a limiter would only count).
  const free = [...slots];
  const waiters: ((s: VmSlot) => void)[] = [];
  return {
    acquire() {
      const s = free.pop();
      return s ? Promise.resolve(s) : new Promise((r) => waiters.push(r));
    },
    release(s) {
      const w = waiters.shift();
      if (w) w(s);
      else free.push(s);
    },
    get size() {
      return slots.length;
    },
    get free() {
      return free.length;
    },
  };
}
