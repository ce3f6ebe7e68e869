import { format } from 'node:util';

/**
 * The one place that hides secrets before text reaches a log line, an error or the CLI's output.
 * Two layers: credentials inside URLs are masked wherever a URL appears (a password in
 * `bolt://user:pw@host`, an API key in a query or an RPC provider's path), and the values of the
 * secret settings are masked wherever they appear verbatim (a mnemonic echoed by a library, a
 * password in a driver's message).
 */

export const MASK = '***';

/** Settings that are wholly secret: their value never appears in output. */
export const SECRET_SETTINGS = [
  'NEO4J_PASSWORD',
  'VIGIL_API_KEYS',
  'PATROL_HOTKEY_URI',
  'DEFENSE_MINER_HOTKEY_URI',
  'DEFENSE_GUARDIAN_KEY',
  'DEFENSE_WEBHOOK_SECRET',
  'DEFENSE_TELEGRAM_BOT_TOKEN',
  'DEFENSE_CANARY_KEYS',
] as const;

/** URL settings: shown with their credentials (user info password, keys in path or query) masked. */
export const URL_SETTINGS = [
  'NEO4J_URI',
  'REDIS_URL',
  'ETH_RPC_URL',
  'ETH_WS_URL',
  'PATROL_ETH_RPC_URL',
  'SUBTENSOR_URL',
  'DEFENSE_TELEGRAM_API_URL',
] as const;

const SECRET_QUERY_KEY = /key|token|secret|pass|auth|sig|credential/i;
/** A path segment that looks like a provider's API key (Infura's 32 hex, Alchemy's 32 base64url…). */
const KEY_LIKE_SEGMENT = /^[A-Za-z0-9_-]{20,}$/;

/**
 * A URL with its password, credential-looking query values and key-like path segments masked;
 * returned exactly as given when it holds none (so messages quote what the user typed).
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redactUrlsIn(url);
  }
  let changed = false;
  if (u.password) {
    u.password = MASK;
    changed = true;
  }
  for (const [k] of u.searchParams) {
    if (SECRET_QUERY_KEY.test(k)) {
      u.searchParams.set(k, MASK);
      changed = true;
    }
  }
  const segments = u.pathname.split('/').map((s) => (KEY_LIKE_SEGMENT.test(s) ? MASK : s));
  if (segments.join('/') !== u.pathname) {
    u.pathname = segments.join('/');
    changed = true;
  }
  return changed ? u.toString().replace(/%2A%2A%2A/g, MASK) : url;
}

/** Masks `scheme://user:password@` wherever it appears in free text. */
export function redactUrlsIn(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi, `$1${MASK}@`);
}

export type Redactor = (text: string) => string;

/**
 * A redactor for the secrets in `env` (raw environment or its parsed equivalents): masks every
 * secret value, every credential inside the URL settings, and any `user:pw@` in URLs.
 */
export function createRedactor(env: Record<string, string | undefined>): Redactor {
  const secrets = new Set<string>();
  const add = (v: string | undefined) => {
    // Very short values would mask ordinary words; settings like these are never that short.
    if (v && v.length >= 4) secrets.add(v);
  };
  for (const name of SECRET_SETTINGS) {
    const value = env[name]?.trim();
    add(value);
    if (name === 'VIGIL_API_KEYS' && value) {
      for (const pair of value.split(',')) add(pair.slice(pair.indexOf(':') + 1).trim());
    }
    // Each canary key alone too: a library may echo one of them.
    if (name === 'DEFENSE_CANARY_KEYS' && value) for (const k of value.split(',')) add(k.trim());
  }
  for (const name of URL_SETTINGS) for (const s of urlSecrets(env[name])) add(s);
  // Longest first, so a value containing another is masked whole.
  const list = [...secrets].sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = redactUrlsIn(text);
    for (const s of list) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  };
}

/** The secret parts of a URL setting: its password (raw and decoded), credential query values, key-like path segments. */
function urlSecrets(url: string | undefined): string[] {
  if (!url) return [];
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [];
  }
  const out: string[] = [];
  if (u.password) out.push(u.password, safeDecode(u.password));
  for (const [k, v] of u.searchParams) if (SECRET_QUERY_KEY.test(k)) out.push(v);
  for (const s of u.pathname.split('/')) if (KEY_LIKE_SEGMENT.test(s)) out.push(s);
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Passes everything written through `console` by this process (ours and libraries': polkadot's
 * logger prints a node's URL, credentials included, on each reconnect) through `redact`.
 * For the CLI's entry point; pino's lines are redacted by the logger itself.
 */
export function redactConsole(redact: Redactor): void {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => original(redact(format(...args)));
  }
}
