import pino from 'pino';
import type { Redactor } from './redact.ts';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Secrets are kept out twice: fields named like secrets are censored, and
 * each finished line passes through `redact` (common/redact.ts), which masks the configured
 * secret values and URL credentials wherever they appear (inside an error message, say).
 */
export function createLogger(opts: { level: string; name: string; redact?: Redactor }): Logger {
  const redact = opts.redact;
  return pino({
    name: opts.name,
    level: opts.level,
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
  });
}
