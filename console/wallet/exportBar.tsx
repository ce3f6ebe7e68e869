import type cytoscape from 'cytoscape';
import { useState } from 'preact/hooks';
import { gql } from '../api.ts';
import { ErrorBox } from '../components/common.tsx';
import type { Chain } from '../format.ts';
import { download, graphSvg } from '../graph/export.ts';
import type { NeighborFilter } from './filters.tsx';

const EXPORT = `query Export($format: ExportFormat!, $n: NeighborsExport!) {
  export(format: $format, neighbors: $n) { filename contentType rowCount truncated body }
}`;

interface ExportDocument {
  filename: string;
  contentType: string;
  rowCount: number;
  truncated: boolean;
  body: string;
}

/**
 * Saves the view: the wallet's relationships under the filters as the API's CSV or JSON export
 * (every row, up to the export's cap), and the graph as drawn, as PNG or SVG.
 */
export function ExportBar(props: {
  chain: Chain;
  address: string;
  filter: NeighborFilter;
  cy: () => cytoscape.Core | undefined;
}) {
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<Error>();
  const data = async (format: 'CSV' | 'JSON') => {
    setError(undefined);
    try {
      const { direction, types, minAmount, maxAmount, window } = props.filter;
      const d = await gql<{ export: ExportDocument }>(EXPORT, {
        format,
        n: { chain: props.chain, address: props.address, direction, types, minAmount, maxAmount, window },
      });
      download(d.export.filename, d.export.body, d.export.contentType);
      setNote(
        `${d.export.filename}: ${d.export.rowCount} rows${d.export.truncated ? ' (truncated: more matched than one export holds)' : ''}`,
      );
    } catch (e) {
      setError(e as Error);
    }
  };
  const image = async (kind: 'png' | 'svg') => {
    const cy = props.cy();
    if (!cy) return setError(new Error('no graph drawn: switch to the graph view'));
    const name = `vigil-${props.address.slice(0, 12)}.${kind}`;
    if (kind === 'png')
      download(name, await cy.png({ output: 'blob-promise', full: true, scale: 2, bg: '#ffffff' }));
    else download(name, graphSvg(cy), 'image/svg+xml');
    setNote(`${name}: ${cy.nodes().length} wallets, ${cy.edges().length} relationships`);
  };
  return (
    <div class="toolbar export" aria-label="Export">
      <span class="hint">Export:</span>
      <button type="button" onClick={() => void data('CSV')}>
        CSV
      </button>
      <button type="button" onClick={() => void data('JSON')}>
        JSON
      </button>
      <button type="button" onClick={() => void image('png')}>
        PNG
      </button>
      <button type="button" onClick={() => void image('svg')}>
        SVG
      </button>
      {note && <span class="hint export-note">{note}</span>}
      <ErrorBox error={error} />
    </div>
  );
}
