import type { Graph } from '../../graph/driver.ts';

/**
 * The attacker's trail next to the alert, as the demo prints it under "Where to look": one
 * GraphQL question and one Cypher query, both starting from the alert's tx, and `checkTrail`, which
 * asks both (the tx as a parameter) against the running demo so what is printed is known to answer.
 */

/** The questions with the tx as a parameter (`$tx`): what checkTrail runs. */
const TRAIL_GRAPHQL = `query ($tx: String!) { alerts(filter: {txHash: $tx}, first: 1) { edges { node { id severity
    attacker { address
      neighbors(direction: IN, types: [TRANSFER, DEPLOYED]) { edges {
        node { address isContract }
        relationship { type amount token tokenSymbol blockNumber txHash } } } } } } } }`;
const TRAIL_CYPHER = `MATCH (:Alert {txHash: $tx})-[:INVOLVES]->(attacker:Wallet {chain: 'ethereum'})
  WITH DISTINCT attacker
  MATCH p = (funder:Wallet)-[:TRANSFER]->{1,3}(attacker)
  RETURN p LIMIT 25`;

/** The GraphQL question as printed, with the tx written in, to paste into GraphiQL. */
export const trailGraphql = (txHash: string): string =>
  TRAIL_GRAPHQL.replace('query ($tx: String!) ', '').replace('$tx', JSON.stringify(txHash));

/** The Cypher query as printed, with the tx written in, to paste into Neo4j Browser. */
export const trailCypher = (txHash: string): string => TRAIL_CYPHER.replace('$tx', JSON.stringify(txHash));

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
    body: JSON.stringify({ query: TRAIL_GRAPHQL, variables: { tx: txHash } }),
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
  const rows = await graph.read((t) => t.run(TRAIL_CYPHER, { tx: txHash }));
  return { funders, cypherPaths: rows.records.length };
}
