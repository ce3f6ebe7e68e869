import type { Graph } from '../driver.ts';
import type { Chain } from '../model.ts';

/**
 * Investigator labels on wallets, kept apart from ingested facts: a `(:Tag {chain, address, label,
 * source})` node per label and source (unique), not linked by a relationship, so tags never count
 * in a wallet's degree and editing them never touches ingested data.
 */
export interface TagRecord {
  chain: Chain;
  address: string;
  label: string;
  source: string;
  /** ISO-8601. */
  createdAt: string;
}

const TAG_FIELDS =
  '{chain: t.chain, address: t.address, label: t.label, source: t.source, createdAt: toString(t.createdAt)}';

export type AddTagResult = { kind: 'added' | 'exists'; tag: TagRecord } | { kind: 'no-wallet' };

/** Adds a label to a wallet Vigil has seen; adding it again changes nothing. */
export async function addTag(
  graph: Graph,
  tag: { chain: Chain; address: string; label: string; source: string },
): Promise<AddTagResult> {
  const res = await graph.write((tx) =>
    tx.run(
      `OPTIONAL MATCH (w:Wallet {chain: $chain, address: $address})
       CALL (w) {
         WITH w WHERE w IS NOT NULL
         MERGE (t:Tag {chain: $chain, address: $address, label: $label, source: $source})
         ON CREATE SET t.createdAt = datetime(), t.created = true
         ON MATCH SET t.created = false
         WITH t, t.created AS created REMOVE t.created
         RETURN ${TAG_FIELDS} AS tag, created
       }
       RETURN tag, created`,
      tag,
    ),
  );
  const rec = res.records[0];
  if (!rec) return { kind: 'no-wallet' };
  return { kind: rec.get('created') ? 'added' : 'exists', tag: rec.get('tag') as TagRecord };
}

/** Removes a label; true if it was there. */
export async function removeTag(
  graph: Graph,
  tag: { chain: Chain; address: string; label: string; source: string },
): Promise<boolean> {
  const res = await graph.write((tx) =>
    tx.run(
      `MATCH (t:Tag {chain: $chain, address: $address, label: $label, source: $source})
       DELETE t RETURN count(*) AS n`,
      tag,
    ),
  );
  return ((res.records[0]?.get('n') as number | undefined) ?? 0) > 0;
}

export async function getTags(
  graph: Graph,
  chain: Chain,
  address: string,
  o: { timeoutMs?: number } = {},
): Promise<TagRecord[]> {
  const res = await graph.read(
    (tx) =>
      tx.run(
        `MATCH (t:Tag {chain: $chain, address: $address}) RETURN ${TAG_FIELDS} AS tag ORDER BY t.label, t.source`,
        { chain, address },
      ),
    o,
  );
  return res.records.map((r) => r.get('tag') as TagRecord);
}
