import { createHash } from 'node:crypto';
import type http from 'node:http';
import path from 'node:path';
import { build } from 'esbuild';
import type { Logger } from '../../common/logger.ts';

/**
 * The web console (console/, docs/console.md): bundled by esbuild in memory the first time a
 * browser asks for it, and served by the API at /console. Nothing is written to disk, so a fresh
 * clone stays unchanged, a production install (esbuild, preact, cytoscape and graphql-sse are
 * dependencies) serves it, and so does the image, whose files belong to root.
 */
export const CONSOLE_DIR = path.resolve(import.meta.dirname, '../../console');
export const CONSOLE_PATH = '/console';

export interface ConsoleAsset {
  body: Uint8Array;
  contentType: string;
  etag: string;
}

export interface ConsoleBundle {
  /** By path under /console: `app.js`, `app.css`. */
  assets: Map<string, ConsoleAsset>;
  buildMs: number;
}

const asset = (body: Uint8Array, contentType: string): ConsoleAsset => ({
  body,
  contentType,
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
});

/** Bundles console/main.tsx with everything it imports (nothing is left to load from elsewhere). */
export async function buildConsole(): Promise<ConsoleBundle> {
  const started = performance.now();
  const out = await build({
    entryPoints: { app: path.join(CONSOLE_DIR, 'main.tsx') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(CONSOLE_DIR, 'tsconfig.json'),
    write: false,
    outdir: '/console', // in memory (write: false): only names the outputs
    logLevel: 'silent',
    legalComments: 'none',
  });
  const assets = new Map<string, ConsoleAsset>();
  for (const file of out.outputFiles) {
    const name = path.basename(file.path);
    const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    assets.set(name, asset(file.contents, type));
  }
  if (!assets.has('app.js')) throw new Error('the console build produced no app.js');
  assets.set('', asset(new TextEncoder().encode(page(assets.has('app.css'))), 'text/html; charset=utf-8'));
  return { assets, buildMs: Math.round(performance.now() - started) };
}

const page = (css: boolean) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil console</title>
${css ? `<link rel="stylesheet" href="${CONSOLE_PATH}/app.css">` : ''}
<script type="module" src="${CONSOLE_PATH}/app.js"></script>
</head>
<body><div id="app"><p class="loading">Loading the Vigil console…</p></div></body>
</html>
`;

/**
 * Only this server's own scripts, styles and API: a console that tried to load anything from
 * elsewhere would be refused by the browser (tests also abort any request off the machine).
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * Answers GET /console, /console/ and /console/<asset>; returns false for any other request. The
 * bundle is built once, on the first request (API processes that never serve the console never
 * pay for it); a failed build is answered 500 naming the error, and tried again on the next request.
 */
export function createConsoleHandler({
  log,
  bundle = buildConsole,
}: { log: Logger; bundle?: typeof buildConsole }) {
  let built: Promise<ConsoleBundle> | undefined;
  const get = () => {
    built ??= bundle().then(
      (b) => {
        log.info({ buildMs: b.buildMs, jsBytes: b.assets.get('app.js')?.body.length }, 'web console built');
        return b;
      },
      (err) => {
        built = undefined;
        throw err;
      },
    );
    return built;
  };
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://vigil');
    if (url.pathname === '/' && req.method === 'GET') {
      res.writeHead(302, { location: `${CONSOLE_PATH}/` }).end();
      return true;
    }
    if (url.pathname !== CONSOLE_PATH && !url.pathname.startsWith(`${CONSOLE_PATH}/`)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    let b: ConsoleBundle;
    try {
      b = await get();
    } catch (err) {
      log.error({ err }, 'the web console did not build');
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`The Vigil console did not build: ${(err as Error).message}\n`);
      return true;
    }
    const name = url.pathname.slice(CONSOLE_PATH.length).replace(/^\//, '');
    const found = b.assets.get(name);
    if (!found) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`No console file ${name}\n`);
      return true;
    }
    const headers = {
      ...SECURITY_HEADERS,
      'content-type': found.contentType,
      etag: found.etag,
      'cache-control': 'no-cache', // revalidated by ETag: a new Vigil version is picked up at once
    };
    if (req.headers['if-none-match'] === found.etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    res.writeHead(200, { ...headers, 'content-length': found.body.length });
    res.end(req.method === 'HEAD' ? undefined : found.body);
    return true;
  };
}
