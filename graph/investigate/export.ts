import type { Chain } from '../model.ts';
import type { EdgeRecord } from './expand.ts';
import { tokenOf } from './tokens.ts';

/**
 * Investigation results as documents other tools load: CSV (one relationship per row, with the
 * columns `LOAD CSV WITH HEADERS` needs to rebuild the graph in another Neo4j) or JSON
 * ({nodes, relationships}). See docs/cypher-guide.md for the import statements.
 */
export type ExportFormat = 'csv' | 'json';

export interface ExportRow extends EdgeRecord {
  /** Which hop of a flow, or which path (0-based) and hop, a row belongs to; null for neighbors. */
  hop?: number | null;
  path?: number | null;
}

export interface ExportDocument {
  format: ExportFormat;
  contentType: string;
  filename: string;
  rowCount: number;
  body: string;
}

export const CSV_COLUMNS = [
  'chain', 'path', 'hop', 'id', 'type', 'from', 'to', 'amount', 'alphaAmount', 'blockNumber', 'timestamp', 'netuid',
  'token', 'tokenSymbol', 'tokenDecimals',
] as const; // biome-ignore format: a list of names

/**
 * The asset of a row that moves value, named in every row so that no reader adds different tokens:
 * "ETH"/"TAO" (native, with its symbol and decimals) or the ERC-20 contract (symbol and decimals
 * where the contract answered). Rows that move no value (ownership, deployments) have none.
 */
function withToken(chain: Chain, r: ExportRow): ExportRow {
  if (r.amount == null) return { ...r, token: null, tokenSymbol: null, tokenDecimals: null };
  const t = tokenOf(chain, r);
  return { ...r, token: t.token, tokenSymbol: t.symbol, tokenDecimals: t.decimals };
}

/** RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled. */
function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function exportRows(
  p: {
    chain: Chain;
    kind: 'neighbors' | 'paths' | 'flow';
    format: ExportFormat;
    query: Record<string, unknown>;
  },
  given: ExportRow[],
): ExportDocument {
  const rows = given.map((r) => withToken(p.chain, r));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const filename = `vigil-${p.kind}-${stamp}.${p.format}`;
  if (p.format === 'csv') {
    const lines = [CSV_COLUMNS.join(',')];
    for (const r of rows) {
      const rec: Record<string, unknown> = { ...r, chain: p.chain };
      lines.push(CSV_COLUMNS.map((c) => csvField(rec[c])).join(','));
    }
    return {
      format: 'csv',
      contentType: 'text/csv; charset=utf-8',
      filename,
      rowCount: rows.length,
      body: `${lines.join('\r\n')}\r\n`,
    };
  }
  const nodes = [...new Set(rows.flatMap((r) => [r.from, r.to]))]
    .sort()
    .map((address) => ({ chain: p.chain, address }));
  const body = JSON.stringify({ kind: p.kind, chain: p.chain, query: p.query, nodes, relationships: rows });
  return { format: 'json', contentType: 'application/json', filename, rowCount: rows.length, body };
}
