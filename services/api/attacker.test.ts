import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../graph/driver.ts';
import { alertId } from '../../protocol/ids.ts';
import { attackerContractsOf } from '../../protocol/ingest.ts';
import {
  ethDeployed,
  ethTransfer,
  newEthAddress,
  newHash,
  sampleEthereumSubgraph,
  sampleFinding,
} from '../../test/fixtures.ts';
import { type IngestApi, startIngestApi } from '../../test/ingestApi.ts';
import type { ApiHandler } from './server.ts';

// From an alert to the attacker's money: an Ethereum subgraph (A → B → attacker, in ETH and in an
// ERC-20) and a finding go through the real ingest queue and worker; the API answers
// `alert { attacker { … } }` and `paths` from A with the exact amounts and the token.

let env: IngestApi;
let graph: Graph;
let yoga: ApiHandler;

beforeAll(async () => {
  env = await startIngestApi();
  ({ graph, yoga } = env);
}, 60_000);
afterAll(() => env?.close());
const ingest = (job: Parameters<IngestApi['ingest']>[0]) => env.ingest(job);

/** The API's answer to `query`, which must have no errors. */
async function ask(query: string, variables: Record<string, unknown> = {}) {
  const body = await env.ask(query, variables);
  expect(body.errors).toBeUndefined();
  return body.data!;
}

describe('Alert.attacker', () => {
  it('leads from an alert to the attacker’s funding path with exact amounts and the token', async () => {
    const [a, b, attacker, token] = [newEthAddress(), newEthAddress(), newEthAddress(), newEthAddress()];
    // More than 2^53 wei and token units: any float on the way would change the digits.
    const ethWei = '1234567890123456789012';
    const tokenUnits = '98765432109876543210987';
    const edges = [ethTransfer(a, b, ethWei, 100), ethTransfer(b, attacker, tokenUnits, 101, { token })];
    const [ethTx, tokenTx] = edges.map((e) => e.evidence.txHash!);
    const subgraph = sampleEthereumSubgraph(attacker, edges);
    await ingest(subgraph);
    const finding = sampleFinding({
      tx: { hash: newHash(), from: attacker, to: newEthAddress(), nonce: 0, blockNumber: null },
    });
    await ingest(finding);

    const data = await ask(
      `query ($tx: String!) { alerts(filter: { txHash: $tx }) { edges { node { id sender attacker { chain address
         neighbors(direction: IN) { edges { node { address } relationship { from to amount token txHash logIndex } } } } } } } }`,
      { tx: finding.tx.hash },
    );
    expect(data.alerts.edges).toHaveLength(1);
    data.alert = data.alerts.edges[0].node;
    expect(data.alert.id).toBe(alertId(finding));
    expect(data.alert.sender).toBe(attacker);
    expect(data.alert.attacker.address).toBe(attacker);
    expect(data.alert.attacker.chain).toBe('ETHEREUM');
    expect(data.alert.attacker.neighbors.edges).toEqual([
      {
        node: { address: b },
        relationship: { from: b, to: attacker, amount: tokenUnits, token, txHash: tokenTx, logIndex: 0 },
      },
    ]);

    const p = await ask(
      `query ($a: String!, $t: String!) { paths(chain: ETHEREUM, from: $a, to: $t) {
         paths { wallets hops { relationships { from to amount token blockNumber } } } } }`,
      { a, t: data.alert.attacker.address },
    );
    expect(p.paths.paths).toEqual([
      {
        wallets: [a, b, attacker],
        hops: [
          { relationships: [{ from: a, to: b, amount: ethWei, token: null, blockNumber: 100 }] },
          { relationships: [{ from: b, to: attacker, amount: tokenUnits, token, blockNumber: 101 }] },
        ],
      },
    ]);

    // docs/cypher-guide.md's "attacker's funding path" query, as written there, finds the same path.
    const guide = readFileSync(new URL('../../docs/cypher-guide.md', import.meta.url), 'utf8');
    const cypher = /```cypher\n(\/\/ Ethereum: who funded the sender[\s\S]*?)```/.exec(guide)![1]!;
    const rows = await graph.read((tx) => tx.run(cypher, { alertId: alertId(finding) }));
    const found = rows.records
      .map((r) => [r.get('wallets') as string[], r.get('hops')] as const)
      .sort((x, y) => x[0].length - y[0].length);
    expect(found).toEqual([
      [[b, attacker], [{ amount: tokenUnits, token, tx: tokenTx }]],
      [
        [a, b, attacker],
        [
          { amount: ethWei, token: 'ETH', tx: ethTx },
          { amount: tokenUnits, token, tx: tokenTx },
        ],
      ],
    ]);

    // The token filter: per asset, exact, never across tokens.
    const hops = async (token: string) =>
      (
        await ask(
          `query ($a: String!, $t: String!, $k: String) { paths(chain: ETHEREUM, from: $a, to: $t, token: $k) {
             paths { wallets } } }`,
          { a, t: attacker, k: token },
        )
      ).paths.paths;
    expect(await hops('ETH')).toEqual([]);
    expect(await hops(token.toUpperCase().replace('0X', '0x'))).toEqual([]);
    const into = async (token: string, minAmount?: string) =>
      (
        await ask(
          `query ($t: String!, $k: String, $min: String) { flow(chain: ETHEREUM, from: $t, direction: IN, depth: 2, token: $k, minAmount: $min) {
             hops { hop amount wallets { address amount } } } }`,
          { t: attacker, k: token, min: minAmount },
        )
      ).flow.hops;
    expect(await into(token)).toEqual([
      { hop: 1, amount: tokenUnits, wallets: [{ address: b, amount: tokenUnits }] },
    ]);
    // The same flow asked from the alert: alert { attacker { flow(direction: IN) } }.
    const fromAlert = await ask(
      `query ($tx: String!, $k: String) { alerts(filter: { txHash: $tx }, first: 1) { edges { node { attacker {
         flow(direction: IN, depth: 2, token: $k) { hops { hop amount wallets { address amount } } } } } } } }`,
      { tx: finding.tx.hash, k: token },
    );
    expect(fromAlert.alerts.edges[0].node.attacker.flow.hops).toEqual(await into(token));
    // Exact at 23 digits: the amount itself passes, one unit more does not (a float could not tell).
    expect((await into(token, tokenUnits)).map((h: { amount: string }) => h.amount)).toEqual([tokenUnits]);
    expect(await into(token, (BigInt(tokenUnits) + 1n).toString())).toEqual([]);
    expect(await into('eth')).toEqual([]);
    const out = await ask(
      `query ($a: String!) { flow(chain: ETHEREUM, from: $a, token: "ETH") { hops { hop amount wallets { address } } } }`,
      { a },
    );
    expect(out.flow.hops).toEqual([{ hop: 1, amount: ethWei, wallets: [{ address: b }] }]);
    const bad = await yoga.fetch('http://vigil.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ flow(chain: ETHEREUM, from: "${a}", token: "USDC") { truncated } }` }),
    });
    const badBody = (await bad.json()) as {
      errors: { message: string; extensions: { argument?: string } }[];
    };
    expect(badBody.errors[0]!.extensions.argument).toBe('token');
    expect(badBody.errors[0]!.message).toContain('token');
  }, 120_000);

  it('lists the contracts the flagged tx calls and those the sender deployed, never the protected one', async () => {
    const [attacker, exploit, router, victim] = [
      newEthAddress(),
      newEthAddress(),
      newEthAddress(),
      newEthAddress(),
    ];
    // The graph knows the attacker deployed `exploit` (a Patrol subgraph with a DEPLOYED edge).
    await ingest(
      sampleEthereumSubgraph(attacker, [ethDeployed(attacker, exploit, 95)], { contracts: [exploit] }),
    );
    const base = sampleFinding();
    const protectedContract = base.invariant.contract;
    const invariant = { ...base.invariant, contract: protectedContract };
    const contractsOf = async (finding: object, hash: string) => {
      await ingest(finding as Parameters<IngestApi['ingest']>[0]);
      const data = await ask(
        'query ($tx: String!) { alerts(filter: { txHash: $tx }) { edges { node { attackerContracts { chain address isContract } } } } }',
        { tx: hash },
      );
      expect(data.alerts.edges).toHaveLength(1);
      return (data.alerts.edges[0].node.attackerContracts as { address: string }[]).map((w) => w.address);
    };
    // The tx calls a router that is not the protected contract: the router and the deployed exploit.
    const viaRouter = { hash: newHash(), from: attacker, to: router, nonce: 1, blockNumber: null };
    const named = attackerContractsOf(viaRouter, [protectedContract]);
    expect(named).toEqual([router]);
    expect(
      await contractsOf({ ...base, invariant, tx: viaRouter, attackerContracts: named }, viaRouter.hash),
    ).toEqual([router, exploit].sort());
    // docs/cypher-guide.md's attacker-contracts Cypher, read from the guide, answers the same.
    const guide = readFileSync(new URL('../../docs/cypher-guide.md', import.meta.url), 'utf8');
    const cypher = /```cypher\n(\/\/ Ethereum: the contracts an alert's transaction called[\s\S]*?)```/.exec(
      guide,
    )![1]!;
    const viaRouterId = alertId({ chainId: base.chainId, tx: viaRouter, invariant });
    const rows = await graph.read((tx) => tx.run(cypher, { alertId: viaRouterId }));
    expect(rows.records.map((r) => r.get('contract'))).toEqual([router, exploit].sort());
    // The tx calls the protected contract itself: only what the attacker deployed.
    const direct = { hash: newHash(), from: attacker, to: protectedContract, nonce: 2, blockNumber: null };
    expect(attackerContractsOf(direct, [protectedContract])).toEqual([]);
    // A contract the invariant's pause action guards is protected too.
    expect(
      attackerContractsOf(viaRouter, [protectedContract, router.toUpperCase().replace('0X', '0x')]),
    ).toEqual([]);
    expect(await contractsOf({ ...base, invariant, tx: direct, attackerContracts: [] }, direct.hash)).toEqual(
      [exploit],
    );
    // A finding from before the field (none named), whose sender deployed nothing known: [].
    const { attackerContracts: _, ...old } = sampleFinding({
      tx: { hash: newHash(), from: newEthAddress(), to: victim, nonce: 0, blockNumber: null },
    });
    expect(await contractsOf(old, old.tx.hash)).toEqual([]);
    // An alert stored without the property at all (written before this version): [] too, no error.
    await graph.write((tx) =>
      tx.run('MATCH (a:Alert {id: $id}) REMOVE a.attackerContracts', {
        id: viaRouterId,
      }),
    );
    const again = await ask(
      'query ($tx: String!) { alerts(filter: { txHash: $tx }) { edges { node { attackerContracts { address } } } } }',
      { tx: viaRouter.hash },
    );
    expect(again.alerts.edges[0].node.attackerContracts).toEqual([{ address: exploit }]);
  }, 120_000);

  it('sums per token: ETH and an ERC-20 between the same wallets are never added', async () => {
    const [a, b, c, token] = [newEthAddress(), newEthAddress(), newEthAddress(), newEthAddress()];
    const ethWei = '1000000000000000000000';
    const units = '7';
    const evilToken = { token, tokenSymbol: 'EVIL', tokenDecimals: 6 };
    await ingest(
      sampleEthereumSubgraph(b, [
        ethTransfer(a, b, ethWei, 100),
        ethTransfer(a, b, units, 100, evilToken),
        ethTransfer(b, c, units, 101, evilToken),
      ]),
    );
    const eth = { token: 'ETH', amount: ethWei, symbol: 'ETH', decimals: 18 };
    const evil = { token, amount: units, symbol: 'EVIL', decimals: 6 };
    const p = await ask(
      `query ($a: String!, $c: String!) { paths(chain: ETHEREUM, from: $a, to: $c) {
         paths { hops { count amount amounts { token amount symbol decimals } relationships { token tokenSymbol tokenDecimals } } } } }`,
      { a, c },
    );
    expect(p.paths.paths).toHaveLength(1);
    const [first, second] = p.paths.paths[0].hops;
    // The old answer was the digit sum 1000000000000000000007 under `amount`.
    expect(first).toMatchObject({ count: 2, amount: null, amounts: [eth, evil] });
    expect(first.relationships).toContainEqual({ token, tokenSymbol: 'EVIL', tokenDecimals: 6 });
    expect(first.relationships).toContainEqual({ token: null, tokenSymbol: null, tokenDecimals: null });
    expect(second).toMatchObject({ count: 1, amount: units, amounts: [evil] });

    const flow = async (tokenArg: string | null) =>
      (
        await ask(
          `query ($a: String!, $k: String) { flow(chain: ETHEREUM, from: $a, depth: 2, token: $k) {
             hops { hop count amount amounts { token amount symbol decimals } wallets { address amount amounts { token amount } } } } }`,
          { a, k: tokenArg },
        )
      ).flow.hops;
    expect(await flow(null)).toEqual([
      {
        hop: 1,
        count: 2,
        amount: null,
        amounts: [eth, evil],
        wallets: [
          { address: b, amount: null, amounts: [eth, evil].map(({ token, amount }) => ({ token, amount })) },
        ],
      },
      {
        hop: 2,
        count: 1,
        amount: units,
        amounts: [evil],
        wallets: [{ address: c, amount: units, amounts: [{ token, amount: units }] }],
      },
    ]);
    // With a token filter the single-token meaning of `amount` is unchanged.
    expect((await flow('ETH')).map((h: { amount: string }) => h.amount)).toEqual([ethWei]);
    expect((await flow(token)).map((h: { amount: string }) => h.amount)).toEqual([units, units]);

    // The wallet's totals: one row per token (they were one ETH row holding the digit sum).
    const totals = await ask(
      'query ($b: String!) { wallet(chain: ETHEREUM, address: $b) { totals { type direction asset count amount } } }',
      { b },
    );
    expect(totals.wallet.totals).toEqual([
      { type: 'TRANSFER', direction: 'IN', asset: 'ETH', count: 1, amount: ethWei },
      { type: 'TRANSFER', direction: 'IN', asset: token, count: 1, amount: units },
      { type: 'TRANSFER', direction: 'OUT', asset: token, count: 1, amount: units },
    ]);

    // The export names each row's asset: CSV columns and JSON fields.
    const exported = async (format: 'CSV' | 'JSON', tokenArg?: string) =>
      (
        await ask(
          'query ($f: ExportFormat!, $p: PathsExport!) { export(format: $f, paths: $p) { rowCount body } }',
          { f: format, p: { chain: 'ETHEREUM', from: a, to: c, token: tokenArg } },
        )
      ).export;
    const csv = await exported('CSV');
    const [header, ...rows] = csv.body.trimEnd().split('\r\n');
    const cols = header.split(',');
    expect(cols.slice(-3)).toEqual(['token', 'tokenSymbol', 'tokenDecimals']);
    const pick = (line: string) => {
      const v = Object.fromEntries(line.split(',').map((x, i) => [cols[i], x]));
      return [v.hop, v.from, v.to, v.amount, v.token, v.tokenSymbol, v.tokenDecimals].join(' ');
    };
    expect(rows.map(pick).sort()).toEqual(
      [
        `1 ${a} ${b} ${ethWei} ETH ETH 18`,
        `1 ${a} ${b} ${units} ${token} EVIL 6`,
        `2 ${b} ${c} ${units} ${token} EVIL 6`,
      ].sort(),
    );
    const json = JSON.parse((await exported('JSON')).body);
    expect(
      json.relationships
        .map((r: Record<string, unknown>) => [r.amount, r.token, r.tokenSymbol, r.tokenDecimals].join(' '))
        .sort(),
    ).toEqual([`${ethWei} ETH ETH 18`, `${units} ${token} EVIL 6`, `${units} ${token} EVIL 6`].sort());
    // The export's token filter, as on the query fields: only the ERC-20's rows.
    expect((await exported('CSV', token)).rowCount).toBe(2);
  }, 120_000);

  it('is null when the sender is not in the graph', async () => {
    const finding = sampleFinding();
    await ingest(finding);
    // The finding itself stores the sender; remove it to see the null-safe answer.
    await graph.write((tx) =>
      tx.run(`MATCH (w:Wallet {chain: 'ethereum', address: $a}) DETACH DELETE w`, { a: finding.tx.from }),
    );
    const data = await ask(
      'query ($tx: String!) { alerts(filter: { txHash: $tx }) { edges { node { sender attacker { address } } } } }',
      { tx: finding.tx.hash },
    );
    expect(data.alerts.edges).toEqual([{ node: { sender: finding.tx.from, attacker: null } }]);
  }, 120_000);
});
