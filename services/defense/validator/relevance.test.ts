import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JsonRpcClient, createHttpRpc } from '../../../chains/ethereum/rpc.ts';
import type { RpcTransaction } from '../../../chains/ethereum/types.ts';
import { type LocalNode, startAnvil } from '../../../dev/ethereum/localNode.ts';
import type { Graph } from '../../../graph/driver.ts';
import { newEthAddress } from '../../../test/fixtures.ts';
import { openTestGraph, silentLogger } from '../../../test/services.ts';
import { upsertInvariant } from '../invariantStore.ts';
import { validateRegistration } from '../registry.ts';
import { createInvariantView, createRelevanceFilter } from './relevance.ts';

const log = silentLogger();

describe('relevance filter on anvil', () => {
  let node: LocalNode;
  let rpc: JsonRpcClient;
  const watchedContract = newEthAddress();
  const otherContract = newEthAddress();
  const eoa = newEthAddress();
  beforeAll(async () => {
    node = await startAnvil({ log });
    rpc = createHttpRpc({ url: node.rpcUrl });
    for (const a of [watchedContract, otherContract]) await node.rpc('anvil_setCode', [a, '0x6001600055']);
  }, 60_000);
  afterAll(async () => {
    rpc?.close();
    await node?.stop();
  });

  const tx = (o: Partial<RpcTransaction>): RpcTransaction => ({
    hash: '0x01',
    from: newEthAddress(),
    to: eoa,
    nonce: '0x0',
    gas: '0x5208',
    ...o,
  });

  it('keeps txs that may touch a watched contract, drops plain transfers between EOAs', async () => {
    const watched = new Set([watchedContract.toLowerCase()]);
    const f = createRelevanceFilter({ rpc, watched: () => watched });
    expect(await f.relevant(tx({ to: watchedContract.toUpperCase().replace('0X', '0x') }))).toBe(true);
    expect(await f.relevant(tx({ to: null }))).toBe(true); // a creation
    expect(await f.relevant(tx({ from: watchedContract }))).toBe(true);
    expect(await f.relevant(tx({ accessList: [{ address: watchedContract, storageKeys: [] }] }))).toBe(true);
    expect(f.codeReads).toBe(0); // none of those needed the node
    expect(await f.relevant(tx({ to: otherContract }))).toBe(true); // internal calls may reach one
    expect(await f.relevant(tx({ to: eoa }))).toBe(false);
    expect(f.codeReads).toBe(2);
    // The code cache: asked again, the node is not.
    expect(await f.relevant(tx({ to: otherContract }))).toBe(true);
    expect(await f.relevant(tx({ to: eoa }))).toBe(false);
    expect(f.codeReads).toBe(2);
  });
});

describe('invariant view on Neo4j', () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = await openTestGraph();
  });
  afterAll(async () => {
    await graph?.close();
  });

  it("reads its chain's invariants, then serves the last list while refreshing a stale one behind", async () => {
    const chainId = 700_000 + Math.floor(Math.random() * 90_000);
    const contract = newEthAddress();
    const register = async (id: string) => {
      const reg = validateRegistration({ chainId, definition: { id, kind: 'ownerUnchanged', contract } });
      await upsertInvariant(graph, reg.registration, reg.invariant);
    };
    await register(`inv-a-${chainId}`);
    const background: Promise<unknown>[] = [];
    const view = createInvariantView({
      graph,
      chainId,
      refreshMs: 0,
      log,
      track: (p) => void background.push(p),
    });
    expect(view.list).toEqual([]);
    const first = await view.current(); // never read: read now
    expect(first.map((i) => i.id)).toEqual([`inv-a-${chainId}`]);
    expect(view.watched.has(contract.toLowerCase())).toBe(true);
    await register(`inv-b-${chainId}`);
    await new Promise((r) => setTimeout(r, 5));
    // Stale: the last list now, the new one once the background read is done.
    expect((await view.current()).length).toBe(1);
    expect(background.length).toBe(1);
    await Promise.all(background);
    expect(view.list.map((i) => i.id).sort()).toEqual([`inv-a-${chainId}`, `inv-b-${chainId}`]);
  });
});
