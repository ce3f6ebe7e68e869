import { useEffect, useState } from 'preact/hooks';
import { ErrorBox } from '../components/common.tsx';
import { type Chain, relationshipAmount, short, tokenAmount, when } from '../format.ts';
import { href } from '../router.ts';
import type { NeighborFilter } from './filters.tsx';
import { neighborPage } from './neighbors.ts';
import type { NeighborPage } from './queries.ts';

export const TABLE_PAGE = 25;

/** Every relationship under the filters, a page at a time (the API's cursors), with evidence. */
export function NeighborTable({
  chain,
  address,
  filter,
}: { chain: Chain; address: string; filter: NeighborFilter }) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<NeighborPage | null>();
  const [error, setError] = useState<Error>();
  const after = cursors[cursors.length - 1];
  useEffect(() => {
    let live = true;
    setPage(undefined);
    neighborPage(chain, address, filter, TABLE_PAGE, after).then(
      (p) => live && setPage(p),
      (e: Error) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [chain, address, filter, after]);
  const n = cursors.length - 1;
  return (
    <section class="card" aria-label="Neighbour table">
      <ErrorBox error={error} />
      <div class="toolbar">
        <button type="button" disabled={n === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← previous
        </button>
        <button
          type="button"
          disabled={!page?.pageInfo.hasNextPage}
          onClick={() => setCursors([...cursors, page!.pageInfo.endCursor ?? undefined])}
        >
          next →
        </button>
        <span class="hint page-status">
          {page
            ? `rows ${n * TABLE_PAGE + 1}–${n * TABLE_PAGE + page.edges.length} of ${page.totalCount.toLocaleString('en')}`
            : 'loading…'}
        </span>
      </div>
      <table class="grid">
        <thead>
          <tr>
            <th>type</th>
            <th>dir</th>
            <th>counterparty</th>
            <th class="num">amount</th>
            <th class="num">block</th>
            <th>time</th>
            <th>miners</th>
          </tr>
        </thead>
        <tbody>
          {page?.edges.map((e) => (
            <tr key={e.relationship.id}>
              <td>{e.relationship.type}</td>
              <td>{e.relationship.direction}</td>
              <td>
                <a class="mono" href={href('wallet', { chain, address: e.node.address })}>
                  {e.node.address}
                </a>
              </td>
              <td class="num">{tokenAmount(relationshipAmount(e.relationship, chain))}</td>
              <td class="num">{e.relationship.blockNumber}</td>
              <td>{when(e.relationship.timestamp)}</td>
              <td class="mono">{e.relationship.provenance.miners.map((m) => short(m)).join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
