import type { Graph } from '../../graph/driver.ts';

/**
 * The attacker's trail next to the alert, as the demo prints it under "Where to look": one
 * GraphQL question and one Cypher query, both starting from the alert's tx, and `checkTrail`, which
 * asks both against the running demo so what is printed is known to answer.
 */

export function trailGraphql(txHash: string): string {
  return `{ alerts(filter: {txHash: "${txHash}"}, first: 1) { edges { node { id severity
    attacker { address
      neighbors(direction: IN, types: [TRANSFER, DEPLOYED]) { edges {
        node { address isContract }
        relationship { type amount token tokenSymbol blockNumber txHash } } } } } } } }`;
}

export function trailCypher(txHash: string): string {
  return `MATCH (:Alert {txHash: "${txHash}"})-[:INVOLVES]->(attacker:Wallet {chain: 'ethereum'})
  WITH DISTINCT attacker
  MATCH p = (funder:Wallet)-[:TRANSFER]->{1,3}(attacker)
  RETURN p LIMIT 25`;
}

export interface TrailCheck {
  /** Wallets that sent the attacker value, from GraphQL, with the amount (wei or token units). */
  funders: { address: string; amount: string | null; token: string | null }[];
  /** Paths the Cypher query returned. */
  cypherPaths: number;
}

/** Asks both queries: GraphQL at `apiUrl`, Cypher on `graph`. */
export async function checkTrail(graph: Graph, apiUrl: string, txHash: string): Promise<TrailCheck> {
  const res = await fetch(apiUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: trailGraphql(txHash) }),
  });
  type Neighbor = {
    node: { address: string };
    relationship: { type: string; amount: string | null; token: string | null };
  };
  const body = (await res.json()) as {
    data?: { alerts: { edges: { node: { attacker: { neighbors: { edges: Neighbor[] } } | null } }[] } };
    errors?: { message: string }[];
  };
  if (body.errors) throw new Error(`the trail's GraphQL query failed: ${body.errors[0]!.message}`);
  const edges = body.data?.alerts.edges[0]?.node.attacker?.neighbors.edges ?? [];
  const funders = edges
    .filter((e) => e.relationship.type === 'TRANSFER')
    .map((e) => ({ address: e.node.address, amount: e.relationship.amount, token: e.relationship.token }));
  const rows = await graph.read((tx) => tx.run(trailCypher(txHash)));
  return { funders, cypherPaths: rows.records.length };
}
