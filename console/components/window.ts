import { type Chain, toBaseUnits } from '../format.ts';

/** A date (YYYY-MM-DD, UTC) from the route as the API's ISO time; a bad one throws, naming it. */
export function dayParam(params: URLSearchParams, name: string, end: boolean): string | undefined {
  const v = params.get(name);
  if (!v) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new Error(`${name}: "${v}" is not a date (YYYY-MM-DD)`);
  return `${v}T${end ? '23:59:59.999' : '00:00:00.000'}Z`;
}

/** The route's `min`, `from`, `to` as the API's minAmount and window. */
export function amountAndWindow(params: URLSearchParams, chain: Chain) {
  const fromTime = dayParam(params, 'from', false);
  const toTime = dayParam(params, 'to', true);
  return {
    minAmount: toBaseUnits(params.get('min') ?? '', chain),
    window: fromTime || toTime ? { fromTime, toTime } : undefined,
  };
}
