import neo4j from 'neo4j-driver';
import type { Graph } from '../driver.ts';
import type { Chain } from '../model.ts';
import { type FindPathsParameters, type PathRecord, findPaths } from './paths.ts';

/**
 * Paths across the two chains where one holder has a wallet on each. Vigil cannot see that link
 * on chain; investigators state it by giving both wallets the same tag label (tags.ts), so a
 * cross-chain path is: a path on `from`'s chain to a wallet tagged L, the holder link L, and a
 * path on `to`'s chain from a wallet tagged L there to `to`.
 */

/** Two wallets on different chains tagged with the same label: one holder, by investigators' word. */
export interface HolderLink {
  label: string;
  from: { chain: Chain; address: string };
  to: { chain: Chain; address: string };
  /** Who said so: the tags' sources on both sides. */
  sources: string[];
}

export interface CrossChainPath {
  /** On `from`'s chain, from `from` to the link's wallet there (no hops when `from` is tagged itself). */
  first: PathRecord;
  link: HolderLink;
  /** On `to`'s chain, from the link's wallet there to `to`. */
  second: PathRecord;
}

export interface FindCrossChainPathsParameters {
  from: { chain: Chain; address: string };
  to: { chain: Chain; address: string };
  /** Only links through this label; any shared label when absent. */
  label?: string;
  /** Hops on both chains together (each leg searched within it). */
  maxDepth: number;
  /** Paths returned, fewest hops first. */
  limit: number;
  /** Holder links tried at most (two path searches each). */
  links: number;
  directed?: boolean;
  fanOut?: number;
  timeoutMs?: number;
}

export interface FindCrossChainPathsReturnType {
  paths: CrossChainPath[];
  /** The links tried, in order (label, then addresses). */
  links: HolderLink[];
  /** More links existed than were tried, or a leg's search was capped: a path may be missing. */
  truncated: boolean;
}

/** Wallet pairs tagged with the same label on the two chains, at most `limit` (+1 to tell if more exist). */
export async function holderLinks(
  graph: Graph,
  p: { fromChain: Chain; toChain: Chain; label?: string; limit: number },
): Promise<HolderLink[]> {
  const res = await graph.query(
    `MATCH (a:Tag {chain: $fromChain}) WHERE $label IS NULL OR a.label = $label
     MATCH (b:Tag {chain: $toChain, label: a.label})
     WITH a.label AS label, a.address AS fromAddress, b.address AS toAddress,
          collect(DISTINCT a.source) + collect(DISTINCT b.source) AS sources
     RETURN label, fromAddress, toAddress, sources
     ORDER BY label, fromAddress, toAddress LIMIT $limit`,
    { fromChain: p.fromChain, toChain: p.toChain, label: p.label ?? null, limit: neo4j.int(p.limit) },
  );
  return res.records.map((r) => ({
    label: r.get('label') as string,
    from: { chain: p.fromChain, address: r.get('fromAddress') as string },
    to: { chain: p.toChain, address: r.get('toAddress') as string },
    sources: [...new Set(r.get('sources') as string[])].sort(),
  }));
}

/** Paths of one leg; a leg that starts where it ends is one wallet, no hops. */
async function leg(graph: Graph, p: FindPathsParameters) {
  if (p.from === p.to) return { paths: [{ wallets: [p.from], hops: [] }], truncated: false };
  const r = await findPaths(graph, p);
  return { paths: r.paths, truncated: r.truncated };
}

/** Hops of a cross-chain path: both legs (the holder link is not a hop). */
export const hopsOf = (c: CrossChainPath) => c.first.hops.length + c.second.hops.length;

export async function findCrossChainPaths(
  graph: Graph,
  p: FindCrossChainPathsParameters,
): Promise<FindCrossChainPathsReturnType> {
  const found = await holderLinks(graph, {
    fromChain: p.from.chain,
    toChain: p.to.chain,
    label: p.label,
    limit: p.links + 1,
  });
  const links = found.slice(0, p.links);
  let truncated = found.length > p.links;
  const common = {
    maxDepth: p.maxDepth,
    limit: p.limit,
    directed: p.directed,
    fanOut: p.fanOut,
    timeoutMs: p.timeoutMs,
  };
  const paths: CrossChainPath[] = [];
  // One link at a time: each is two path searches, and the request has one Neo4j share (admission.ts).
  for (const link of links) {
    const [first, second] = await Promise.all([
      leg(graph, { ...common, chain: p.from.chain, from: p.from.address, to: link.from.address }),
      leg(graph, { ...common, chain: p.to.chain, from: link.to.address, to: p.to.address }),
    ]);
    truncated ||= first.truncated || second.truncated;
    for (const a of first.paths)
      for (const b of second.paths) {
        const c = { first: a, link, second: b };
        if (hopsOf(c) <= p.maxDepth) paths.push(c);
      }
  }
  paths.sort((x, y) => hopsOf(x) - hopsOf(y));
  return { paths: paths.slice(0, p.limit), links, truncated };
}
