import { useState } from 'preact/hooks';
import { dayParam } from '../components/window.ts';
import { type Chain, toBaseUnits, unitOf } from '../format.ts';

/**
 * Neighbour filters, kept in the route (shareable): types, direction, amount range (typed in
 * TAO/ETH, sent as exact base units) and a time window (dates, UTC).
 */
export const TYPES = [
  'TRANSFER',
  'STAKE_ADD',
  'STAKE_REMOVE',
  'STAKE_MOVE',
  'STAKE_TRANSFER',
  'STAKE_SWAP',
  'OWNS_HOTKEY',
  'PARENT_OF',
  'COLDKEY_SWAP',
];

export interface NeighborFilter {
  direction: 'OUT' | 'IN' | 'BOTH';
  types?: string[];
  minAmount?: string;
  maxAmount?: string;
  window?: { fromTime?: string; toTime?: string };
}

/** The route's filter params as the API's arguments; a bad amount or date throws, naming it. */
export function filterOf(params: URLSearchParams, chain: Chain): NeighborFilter {
  const dir = params.get('dir') ?? 'BOTH';
  const types = params.get('types')?.split(',').filter(Boolean);
  const window = { fromTime: dayParam(params, 'from', false), toTime: dayParam(params, 'to', true) };
  return {
    direction: dir === 'IN' || dir === 'OUT' ? dir : 'BOTH',
    types: types?.length ? types : undefined,
    minAmount: toBaseUnits(params.get('min') ?? '', chain),
    maxAmount: toBaseUnits(params.get('max') ?? '', chain),
    window: window.fromTime || window.toTime ? window : undefined,
  };
}

export const FILTER_KEYS = ['dir', 'types', 'min', 'max', 'from', 'to'] as const;

/** The form; `apply` gets the new filter params (empty ones left out). */
export function Filters({
  params,
  chain,
  apply,
}: { params: URLSearchParams; chain: Chain; apply: (p: Record<string, string>) => void }) {
  const [types, setTypes] = useState(new Set(params.get('types')?.split(',').filter(Boolean) ?? []));
  const toggle = (t: string) => {
    const next = new Set(types);
    next.has(t) ? next.delete(t) : next.add(t);
    setTypes(next);
  };
  return (
    <form
      class="filters card"
      aria-label="Filters"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const out: Record<string, string> = { types: [...types].join(',') };
        for (const k of ['dir', 'min', 'max', 'from', 'to']) out[k] = String(f.get(k) ?? '').trim();
        apply(out);
      }}
    >
      <label>
        direction
        <select name="dir" defaultValue={params.get('dir') ?? 'BOTH'}>
          <option value="BOTH">both</option>
          <option value="OUT">out</option>
          <option value="IN">in</option>
        </select>
      </label>
      <label>
        min {unitOf(chain)}
        <input name="min" size={8} defaultValue={params.get('min') ?? ''} inputMode="decimal" />
      </label>
      <label>
        max {unitOf(chain)}
        <input name="max" size={8} defaultValue={params.get('max') ?? ''} inputMode="decimal" />
      </label>
      <label>
        from
        <input name="from" type="date" defaultValue={params.get('from') ?? ''} />
      </label>
      <label>
        to
        <input name="to" type="date" defaultValue={params.get('to') ?? ''} />
      </label>
      <span class="type-picks">
        {TYPES.map((t) => (
          <label key={t}>
            <input type="checkbox" checked={types.has(t)} onChange={() => toggle(t)} />
            {t}
          </label>
        ))}
      </span>
      <button type="submit">Apply filters</button>
    </form>
  );
}
