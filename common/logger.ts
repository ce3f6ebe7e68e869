import pino from 'pino';
import type { Redactor } from './redact.ts';

export type Logger = pino.Logger;

/**
 * What a component below the services needs from a logger (chains/, infra/, graph/, the engine,
 * the pause agent, dev/ helpers). pino's Logger satisfies it; callers pass a child with a
 * `component` field (`rt.log.child({ component: 'neo4j' })`), so levels and fields survive.
 */
export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error' | 'child'>;

/** Writes nowhere: for callers (tests, benches) that do not want a component's lines. */
export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * Structured JSON logs. Secrets are kept out twice: fields named like secrets are censored, and
 * each finished line passes through `redact` (common/redact.ts), which masks the configured
 * secret values and URL credentials wherever they appear (inside an error message, say).
 * `destination` replaces stdout (a buffer in tests, `cliDestination` for progress a person reads).
 */
export function createLogger(opts: {
  level: string;
  name: string;
  redact?: Redactor;
  destination?: pino.DestinationStream;
  /** Fields on every line; pino's default is pid and hostname ({} for none: lines a person reads). */
  base?: Record<string, unknown>;
}): Logger {
  const redact = opts.redact;
  const options: pino.LoggerOptions = {
    name: opts.name,
    level: opts.level,
    ...(opts.base ? { base: opts.base } : {}),
    redact: {
      paths: [
        'password',
        'apiKey',
        'privateKey',
        'token',
        'secret',
        'mnemonic',
        '*.password',
        '*.apiKey',
        '*.privateKey',
        '*.token',
        '*.secret',
        '*.mnemonic',
      ],
      censor: '[redacted]',
    },
    ...(redact ? { hooks: { streamWrite: (line: string) => redact(line) } } : {}),
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** Fields every line has; the rest are the message's own values and are printed after it. */
const STANDARD = new Set(['level', 'time', 'name', 'component', 'msg']);

/**
 * A pino destination that prints each line for a person (`vigil infra up`, the demo):
 * `<prefix>[warning: ]msg key=value …`. Make the logger with `base: {}` (no pid/hostname). The line is the same redacted JSON the logger made, so
 * fields still carry the values; only the presentation changes.
 */
export function cliDestination(
  prefix: string,
  out: { write(s: string): unknown } = process.stdout,
): pino.DestinationStream {
  return {
    write(line: string) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(`${prefix}${line}`);
        return;
      }
      const level = Number(rec.level);
      const tag = level >= 50 ? 'error: ' : level >= 40 ? 'warning: ' : '';
      const fields = Object.entries(rec)
        .filter(([k]) => !STANDARD.has(k))
        .map(([k, v]) => `${k}=${show(v)}`);
      out.write(`${prefix}${tag}${String(rec.msg ?? '')}${fields.length ? `  ${fields.join(' ')}` : ''}\n`);
    },
  };
}

/** An error field (pino's `{ type, message, stack }`) reads as its message; the rest as JSON. */
function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && 'message' in v) return String((v as { message: unknown }).message);
  return JSON.stringify(v);
}
