import { useEffect, useState } from 'preact/hooks';
import { gql } from './api.ts';
import { PAGES } from './pages/index.ts';
import { href, useRoute } from './router.ts';
import { KeyPrompt, KeyStatus } from './writeKey.tsx';

/** The layout: a nav of the registered pages (pages/index.ts), the routed page, the key prompt. */
export function App() {
  const route = useRoute();
  const current = PAGES.find((p) => p.id === route.page) ?? PAGES[0]!;
  const groups = [...new Set(PAGES.map((p) => p.group))];
  useEffect(() => {
    document.title = `${current.title} · Vigil`;
  }, [current]);
  return (
    <div class="layout">
      <nav class="sidebar" aria-label="Pages">
        <div class="sidebar-inner">
          <a class="brand" href={href(PAGES[0]!.id)}>
            Vigil
          </a>
          {groups.map((g) => (
            <section key={g}>
              <h3>{g}</h3>
              {PAGES.filter((p) => p.group === g).map((p) => (
                <a key={p.id} href={href(p.id)} class={p === current ? 'active' : ''} data-page={p.id}>
                  {p.title}
                </a>
              ))}
            </section>
          ))}
          <footer>
            <ApiStatus />
            <KeyStatus />
            <a href="/graphql">GraphiQL</a>
          </footer>
        </div>
      </nav>
      <main>
        <current.component params={route.params} />
      </main>
      <KeyPrompt />
    </div>
  );
}

/** The API's health and version, asked once: the first sign the data path works. */
function ApiStatus() {
  const [state, setState] = useState<string>('API: asking…');
  useEffect(() => {
    gql<{ health: { ok: boolean; version: string } }>('{ health { ok version } }').then(
      ({ health }) => setState(`API ${health.version}: ${health.ok ? 'ok' : 'degraded'}`),
      (err: Error) => setState(`API: ${err.message}`),
    );
  }, []);
  return <span class="api-status">{state}</span>;
}
