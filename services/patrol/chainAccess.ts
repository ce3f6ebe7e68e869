import type { ApiPromise } from '@polkadot/api';
import type { Codec } from '@polkadot/types/types';
import type { BlockProducer } from '../../chains/bittensor/extrinsics.ts';
import type { PatrolMiner } from './seam.ts';

/**
 * How a submitted extrinsic gets into a block: on a chopsticks dev chain in manual mode, by
 * asking for one (`dev_newBlock`); on a live network, by waiting for the next head.
 */
export function blockProducerFor(api: ApiPromise, { devBlocks }: { devBlocks: boolean }): BlockProducer {
  return {
    async newBlock(count = 1) {
      if (devBlocks) {
        await (
          api as unknown as { _rpcCore: { provider: { send(m: string, p: unknown[]): Promise<unknown> } } }
        )._rpcCore.provider.send('dev_newBlock', [{ count }]);
      } else {
        const start = (await api.rpc.chain.getHeader()).number.toNumber();
        await new Promise<void>((resolve) => {
          const unsub = api.rpc.chain.subscribeNewHeads((h) => {
            if (h.number.toNumber() >= start + count) {
              unsub.then((u) => u());
              resolve();
            }
          });
        });
      }
      const header = await api.rpc.chain.getHeader();
      return { number: header.number.toNumber(), hash: header.hash.toHex() };
    },
  };
}

export async function bestBlock(api: ApiPromise): Promise<number> {
  return (await api.rpc.chain.getHeader()).number.toNumber();
}

/** Registered neurons of a subnet (uid → hotkey from `SubtensorModule.Keys`), minus `exclude`. */
export async function subnetNeurons(
  api: ApiPromise,
  netuid: number,
  exclude: string[] = [],
): Promise<PatrolMiner[]> {
  const entries = (await api.query.subtensorModule!.keys!.entries(netuid)) as unknown as [
    { args: [Codec, Codec] },
    Codec,
  ][];
  return entries
    .map(([key, value]) => ({ uid: Number(key.args[1].toString()), hotkey: value.toString() }))
    .filter((n) => !exclude.includes(n.hotkey))
    .sort((a, b) => a.uid - b.uid);
}
