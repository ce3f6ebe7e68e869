import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes: `#/<page>?<params>`, e.g. `#/wallet?chain=BITTENSOR&address=5F…`. Every view is a
 * link that can be shared or reloaded.
 */
export interface Route {
  page: string;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const body = hash.replace(/^#\/?/, '');
  const q = body.indexOf('?');
  const page = (q < 0 ? body : body.slice(0, q)) || '';
  return { page: decodeURIComponent(page), params: new URLSearchParams(q < 0 ? '' : body.slice(q + 1)) };
}

export function href(page: string, params: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return `#/${encodeURIComponent(page)}${s ? `?${s}` : ''}`;
}

export function navigate(page: string, params: Record<string, string | undefined> = {}): void {
  location.hash = href(page, params);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
