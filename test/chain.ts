import type { ApiPromise } from '@polkadot/api';
import { connectSubtensor } from '../chains/bittensor/client.ts';
import { loadConfig } from '../common/config.ts';
import { type LocalSubtensor, startLocalSubtensor } from '../dev/bittensor/localChain.ts';
import { type SeedManifest, type SeedOptions, seedScenario } from '../dev/bittensor/seeder.ts';

/** A real subtensor runtime under chopsticks, seeded with real extrinsics, for one test file. */
export async function startSeededChain(
  seed: SeedOptions,
): Promise<{ chain: LocalSubtensor; api: ApiPromise; manifest: SeedManifest; close(): Promise<void> }> {
  const chain = await startLocalSubtensor({
    specPath: loadConfig().subtensor.specPath,
    chopsticksLogLevel: 'warn',
  });
  const api = await connectSubtensor(chain.wsUrl, { timeoutMs: 30_000 });
  const manifest = await seedScenario(api, chain, seed);
  return {
    chain,
    api,
    manifest,
    async close() {
      await api.disconnect();
      await chain.close();
    },
  };
}
